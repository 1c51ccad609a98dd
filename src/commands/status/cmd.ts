import type { CommandModule } from 'yargs';
import { withFleetFlags } from '../../fleet/fleet-flags.js';
import type { StatusFlags } from './status.js';

export const statusCommand: CommandModule<object, StatusFlags> = {
  command: 'status [rec..]',
  describe: 'Show the journal, per-pod propagation, the store and the last rotation (one REC or a fleet)',
  builder: (y) =>
    withFleetFlags(y)
      .example('$0 status rec -n redis', 'is a rotation in progress? do all pods mount the stored password?')
      .example('$0 status -A', 'one line per REC of the cluster: operation in progress, propagation, last rotation') as never,
  handler: async (argv) => {
    const { status } = await import('./status.js');
    process.exitCode = await status(argv);
  },
};
