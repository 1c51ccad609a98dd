import type { CommandModule } from 'yargs';
import { fleetSelection, isFleet, withFleetFlags, type FleetFlags } from '../fleet-flags.js';
import { sessionOptions, type GlobalFlags } from '../global-flags.js';
import { passwordChoice, withPasswordFlags, type PasswordFlags } from '../password-flags.js';
import { rotationTiming, type TimingFlags } from '../timing-flags.js';

type RotateFlags = GlobalFlags &
  FleetFlags &
  PasswordFlags &
  TimingFlags & {
    dryRun: boolean;
    allowManagedSecret: boolean;
    participantContext?: string[];
    canary?: number;
    maxFailures?: number;
    maxOverlap?: string;
  };

export const rotateCommand: CommandModule<object, RotateFlags> = {
  command: 'rotate [rec..]',
  describe: 'Rotate the REC admin password with zero downtime (one REC, several, or a fleet)',
  builder: (y) =>
    withPasswordFlags(withFleetFlags(y))
      .option('settle', { type: 'string', default: '5m', describe: 'Wait after the store update before the old password is removed' })
      .option('propagation-timeout', { type: 'string', default: '3m', describe: 'How long every pod may take to mount the new secret' })
      .option('wait', { type: 'boolean', default: true, describe: 'Use --no-wait to stop once the store is updated (both passwords valid); run finish later' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Run the read-only checks and print the plan; change nothing' })
      .option('allow-managed-secret', {
        type: 'boolean',
        default: false,
        describe: 'Proceed although a controller (Argo CD, Flux, External Secrets, ...) writes the credential Secret: hold it off first, see README',
      })
      .option('canary', {
        type: 'number',
        describe: 'Several RECs: rotate the first N (by namespace, then name) to completion before any other starts; if one fails, start no other',
      })
      .option('max-failures', {
        type: 'number',
        describe: 'Several RECs: start no new REC once N have failed (any exit code but 0); those left report phase "skipped", exit 4',
      })
      .option('max-overlap', {
        type: 'string',
        describe:
          'The longest both passwords may stay valid (recorded in the journal): past it the janitor (finish -A) completes a --no-wait rotation if every pod has the new password, and reports it otherwise',
      })
      .option('participant-context', {
        type: 'string',
        array: true,
        describe:
          "Active-Active: a kubeconfig context of another cluster taking part in the REC's databases (repeat it for each); their RERC Secrets get the new password before the old one is removed",
      })
      .example('$0 rotate rec -n redis', 'generate a password, rotate, wait 5 minutes, remove the old one')
      .example('$0 rotate rec-a --participant-context cluster-b --participant-context cluster-c', 'an Active-Active REC: every cluster holding its credentials follows')
      .example('pass show rec | $0 rotate rec --password-stdin', 'use a password of your own, never in argv')
      .example('$0 rotate rec --no-wait && $0 finish rec', 'update now, remove the old password later')
      .example('$0 rotate -A -l tier=prod --concurrency 20', "rotate a fleet: waits overlap, exit code is the worst REC's")
      .example('$0 rotate -A --canary 2 --max-failures 1', 'two RECs first; then the rest, stopping new starts at the first failure') as never,
  handler: async (argv) => {
    const session = sessionOptions(argv);
    const participantContexts = argv.participantContext ?? [];
    const timing = rotationTiming(argv);
    const maxOverlapMs = argv.maxOverlap === undefined ? undefined : await overlapBound(argv.maxOverlap, timing.settleMs);
    const options = { timing, password: await passwordChoice(argv), dryRun: argv.dryRun, allowManagedSecret: argv.allowManagedSecret, participantContexts, maxOverlapMs };
    const [rec] = argv.rec;
    if (participantContexts.some((c) => c.trim() === '')) {
      const { usageError } = await import('../../errors/exit-codes.js');
      // kubectl would read an empty --context as the current one: here that would silently name the REC's own cluster.
      throw usageError('--participant-context was given an empty value', 'name the kubeconfig context of each other participating cluster');
    }
    if ((argv.canary !== undefined || argv.maxFailures !== undefined) && !isFleet(argv)) {
      const { usageError } = await import('../../errors/exit-codes.js');
      throw usageError('--canary and --max-failures shape a run over several RECs', 'name several RECs, or select them with -l or -A');
    }
    if (participantContexts.length && (isFleet(argv) || rec === undefined)) {
      const { usageError } = await import('../../errors/exit-codes.js');
      throw usageError(
        '--participant-context names the other clusters of one REC: rotate an Active-Active REC on its own',
        'kubectl reccred rotate REC --participant-context CONTEXT ...',
      );
    }
    // Not a fleet means exactly one REC named (isFleet covers an empty list too).
    if (isFleet(argv) || rec === undefined) {
      const [{ rotateFleet }, { printFleetOutcome }] = await Promise.all([import('../../fleet/rotate-fleet.js'), import('../fleet-outcome.js')]);
      return printFleetOutcome(rotateFleet(session, fleetSelection(argv), options, { canary: argv.canary, maxFailures: argv.maxFailures }), session.output);
    }
    const [{ rotate }, { printAndExit }] = await Promise.all([import('../../operations/rotate.js'), import('../outcome.js')]);
    await printAndExit(rotate({ session, rec, ...options }), session.output);
  },
};

/** --max-overlap must leave room for the settle, which both passwords are valid through by design. */
async function overlapBound(value: string, settleMs: number): Promise<number> {
  const [{ parseDuration, formatDuration }, { usageError }] = await Promise.all([import('../../duration/duration.js'), import('../../errors/exit-codes.js')]);
  const ms = parseDuration(value, '--max-overlap');
  if (ms <= settleMs)
    throw usageError(
      `--max-overlap ${value} is not longer than the settle (${formatDuration(settleMs)}), during which both passwords are valid by design`,
      'give a longer --max-overlap or a shorter --settle',
    );
  return ms;
}
