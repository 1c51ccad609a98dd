import type { CommandModule } from 'yargs';
import { sessionOptions, type GlobalFlags } from '../global-flags.js';

interface GetFlags extends GlobalFlags {
  rec: string;
  reveal: boolean;
}

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
    const [{ get }, { printAndExit }] = await Promise.all([import('../../operations/get.js'), import('../outcome.js')]);
    const session = sessionOptions(argv);
    await printAndExit(get({ session, rec: argv.rec, reveal: argv.reveal }), session.output);
  },
};
