import type { CommandModule } from 'yargs';
import type { GetFlags } from './run.js';

export const getCommand: CommandModule<object, GetFlags> = {
  command: 'get <rec>',
  describe: 'Show the REC admin credentials (password masked unless --reveal)',
  builder: (y) =>
    y
      .positional('rec', { type: 'string', demandOption: true, describe: 'Name of the RedisEnterpriseCluster' })
      .option('reveal', { type: 'boolean', default: false, describe: 'Print the password (on stdout only)' })
      .example('$0 get rec -n redis', 'username and masked password')
      .example('$0 get rec --reveal -o json | jq -r .password', 'the password, for a script') as never,
  handler: async (argv) => {
    const { runGet } = await import('./run.js');
    await runGet(argv);
  },
};
