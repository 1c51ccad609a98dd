// kubectl reccred rotate with several RECs (names, -l or -A): every REC rotates with its own journal,
// lock, resume and exit code; the command exits with the worst of them.
import { usageError } from '../errors/exit-codes.js';
import { openSession, type SessionOptions } from '../rec/session.js';
import { rotateRec, type RotateOptions } from '../operations/rotate.js';
import { interruptSignal } from '../procedures/procedure-run.js';
import { concurrencyOf } from './concurrency.js';
import { fleetTable, runFleet, type FleetOutcome } from './fleet-run.js';
import { checkSelection, selectRecs, type FleetSelection } from './selection.js';

export async function rotateFleet(sessionOptions: SessionOptions, selection: FleetSelection, options: RotateOptions): Promise<FleetOutcome> {
  checkSelection(selection);
  if (options.password.supplied !== undefined) {
    throw usageError(
      '--password-stdin and --password-file take one password, and one password must not be shared by several clusters',
      'rotate several RECs with generated passwords (the default), or rotate each REC on its own with its own password',
    );
  }
  const concurrency = concurrencyOf(selection.concurrency);
  const session = await openSession(sessionOptions);
  const members = await selectRecs(session, selection);
  const { signal, dispose } = interruptSignal(session.progress);
  try {
    const fleet = await runFleet(session, {
      command: 'rotate',
      members,
      concurrency,
      perRec: (recSession, member, idle) => rotateRec(recSession, member.name, options, { signal, idle }),
    });
    return { fleet, text: () => fleetTable(fleet) };
  } finally {
    dispose();
  }
}
