import type { CommandModule } from 'yargs';
import { fleetSelection, isFleet, withFleetFlags, type FleetFlags } from '../fleet-flags.js';
import { sessionOptions, type GlobalFlags } from '../global-flags.js';

type StatusFlags = GlobalFlags & FleetFlags & { check: boolean; maxOperationAge: string };

export const statusCommand: CommandModule<object, StatusFlags> = {
  command: 'status [rec..]',
  describe: 'Show the journal, per-pod propagation, the store and the last rotation (one REC or a fleet)',
  builder: (y) =>
    withFleetFlags(y)
      .option('check', {
        type: 'boolean',
        default: false,
        describe:
          "Health check (exit 1 if any REC fails): no operation older than --max-operation-age, every pod mounts the store's credentials, and they authenticate (one login per REC, never retried)",
      })
      .option('max-operation-age', { type: 'string', default: '1h', describe: 'With --check: how old an unfinished operation may be' })
      .example('$0 status -A --check -o json', 'for monitoring: exit 1 and the failed checks of every unhealthy REC')
      .example('$0 status rec -n redis', 'is a rotation in progress? do all pods mount the stored password?')
      .example('$0 status -A', 'one line per REC of the cluster: operation in progress, propagation, last rotation') as never,
  handler: async (argv) => {
    const session = sessionOptions(argv);
    const { parseDuration } = await import('../../duration/duration.js');
    const check = argv.check ? { maxOperationAgeMs: parseDuration(argv.maxOperationAge, '--max-operation-age') } : undefined;
    const [rec] = argv.rec;
    // Not a fleet means exactly one REC named (isFleet covers an empty list too).
    if (isFleet(argv) || rec === undefined) {
      const [{ statusFleet }, { printFleetOutcome }] = await Promise.all([import('../../fleet/status-fleet.js'), import('../fleet-outcome.js')]);
      return printFleetOutcome(statusFleet(session, fleetSelection(argv), check), session.output);
    }
    const [{ status }, { printAndExit }] = await Promise.all([import('../../operations/status.js'), import('../outcome.js')]);
    await printAndExit(status({ session, rec, check }), session.output);
  },
};
