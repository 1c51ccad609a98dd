// kubectl reccred rotate with several RECs (names, -l or -A): every REC rotates with its own journal,
// lock, resume and exit code; the command exits with the worst of them.
import { usageError } from '../errors/exit-codes.js';
import type { SessionOptions } from '../rec/session.js';
import { rotateRec, type RotateOptions } from '../operations/rotate.js';
import { interruptSignal } from '../procedures/procedure-run.js';
import { fleetTable, runFleet, type FleetOutcome, type Waves } from './fleet-run.js';
import { checkSelection, openFleet, type FleetSelection } from './selection.js';

export async function rotateFleet(sessionOptions: SessionOptions, selection: FleetSelection, options: RotateOptions, waves: Waves = {}): Promise<FleetOutcome> {
  checkSelection(selection);
  for (const [flag, n] of [
    ['--canary', waves.canary],
    ['--max-failures', waves.maxFailures],
  ] as const) {
    if (n !== undefined && (!Number.isInteger(n) || n < 1)) throw usageError(`${flag} must be a whole number of RECs, at least 1 (got ${String(n)})`);
  }
  if (options.password.supplied !== undefined) {
    throw usageError(
      '--password-stdin and --password-file take one password, and one password must not be shared by several clusters',
      'rotate several RECs with generated passwords (the default), or rotate each REC on its own with its own password',
    );
  }
  const { session, members, concurrency } = await openFleet(sessionOptions, selection);
  const { signal, dispose } = interruptSignal(session.progress);
  try {
    const fleet = await runFleet(session, {
      command: 'rotate',
      members,
      concurrency,
      waves,
      perRec: (recSession, member, idle) => rotateRec(recSession, member.name, options, { signal, idle }),
    });
    return { fleet, text: () => fleetTable(fleet) };
  } finally {
    dispose();
  }
}
