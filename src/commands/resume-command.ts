// finish and abort share their flags: one REC by name, or the janitor over several (names, -l, -A), which acts
// only on operations whose holder is gone.
import type { CommandModule } from 'yargs';
import { parseDuration } from '../duration/duration.js';
import { fleetSelection, isFleet, withFleetFlags, type FleetFlags } from './fleet-flags.js';
import { sessionOptions, type GlobalFlags } from './global-flags.js';

type ResumeFlags = GlobalFlags &
  FleetFlags & {
    settle?: string;
    propagationTimeout: string;
    force: boolean;
    maxOverlap?: string;
  };

export function resumeCommand(direction: 'finish' | 'abort', describe: string, examples: [string, string][]): CommandModule<object, ResumeFlags> {
  return {
    command: `${direction} [rec..]`,
    describe,
    builder: (y) => {
      let b = withFleetFlags(y)
        .option('settle', { type: 'string', describe: 'Settle period (default: the one the rotation was started with)' })
        .option('propagation-timeout', { type: 'string', default: '3m', describe: 'How long every pod may take to mount the secret' })
        .option('force', { type: 'boolean', default: false, describe: 'Take the journal over without watching its lease first (a live holder stops at its next step)' })
        .option('max-overlap', {
          type: 'string',
          describe:
            'Several RECs (the janitor): also act on rotations stopped on purpose (--no-wait) once both passwords have been valid this long; finish goes ahead only if every pod mounts the new credentials',
        });
      for (const [command, what] of examples) b = b.example(command, what);
      return b as never;
    },
    handler: async (argv) => {
      const session = sessionOptions(argv);
      const settleMs = argv.settle === undefined ? undefined : parseDuration(argv.settle, '--settle');
      const propagationTimeoutMs = parseDuration(argv.propagationTimeout, '--propagation-timeout');
      const maxOverlapMs = argv.maxOverlap === undefined ? undefined : parseDuration(argv.maxOverlap, '--max-overlap');
      const options = { direction, settleMs, propagationTimeoutMs, force: argv.force };
      const [rec] = argv.rec;
      if (isFleet(argv) || rec === undefined) {
        if (argv.force) {
          const { usageError } = await import('../errors/exit-codes.js');
          throw usageError('--force takes over a live holder: name one REC for it, never a selection', `kubectl reccred ${direction} REC --force`);
        }
        const [{ janitorFleet }, { printFleetOutcome }] = await Promise.all([import('../fleet/janitor-fleet.js'), import('./fleet-outcome.js')]);
        return printFleetOutcome(janitorFleet(session, fleetSelection(argv), { ...options, janitor: { maxOverlapMs } }), session.output);
      }
      if (maxOverlapMs !== undefined) {
        const { usageError } = await import('../errors/exit-codes.js');
        throw usageError('--max-overlap is for the janitor (several RECs, -l or -A): a REC named alone is finished or aborted as asked');
      }
      const [{ resumeOperation }, { printAndExit }] = await Promise.all([import('../operations/resume.js'), import('./outcome.js')]);
      await printAndExit(resumeOperation({ session, rec, ...options }), session.output);
    },
  };
}
