// kubectl reccred rotate with several RECs (names, -l or -A): every REC rotates with its own journal,
// lock, resume and exit code; the command exits with the worst of them.
import { usageError } from '../cli/exit-codes.js';
import { openSession } from '../cli/session.js';
import { printFleetResult } from '../output/result.js';
import { rotateRec, rotationTiming, type RotateFlags } from '../commands/rotate/rotate.js';
import { interruptSignal } from '../rotation/procedure-run.js';
import { concurrencyOf } from './concurrency.js';
import { fleetTable, runFleet } from './fleet-run.js';
import { checkSelection, selectRecs } from './selection.js';

export async function rotateFleet(flags: RotateFlags): Promise<number> {
  checkSelection(flags);
  if (flags.passwordStdin || flags.passwordFile !== undefined) {
    throw usageError(
      '--password-stdin and --password-file take one password, and one password must not be shared by several clusters',
      'rotate several RECs with generated passwords (the default), or rotate each REC on its own with its own password',
    );
  }
  const timing = rotationTiming(flags);
  const concurrency = concurrencyOf(flags);
  const session = await openSession(flags);
  const members = await selectRecs(session, flags);
  const { signal, dispose } = interruptSignal(session.progress);
  try {
    const fleet = await runFleet(session, {
      command: 'rotate',
      members,
      concurrency,
      perRec: (recSession, member, idle) => rotateRec(recSession, member.name, flags, timing, { signal, idle }),
    });
    printFleetResult(fleet, session.flags.output, () => fleetTable(fleet));
    return fleet.exitCode;
  } finally {
    dispose();
  }
}

