import type { CommandModule } from 'yargs';
import type { StatusFlags } from './status.js';

export const statusCommand: CommandModule<object, StatusFlags> = {
  command: 'status <rec>',
  describe: 'Show the journal, per-pod propagation, the store and the last rotation',
  builder: (y) =>
    y
      .positional('rec', { type: 'string', demandOption: true, describe: 'Name of the RedisEnterpriseCluster' })
      .example('$0 status rec -n redis', 'is a rotation in progress? do all pods mount the stored password?') as never,
  handler: async (argv) => {
    const { status } = await import('./status.js');
    process.exitCode = await status(argv);
  },
};
