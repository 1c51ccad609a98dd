// finish or abort over several RECs (names, -l or -A): the janitor a CronJob runs before it rotates. It acts
// only where the holder is gone (the lease unchanged for a lease duration) and leaves live runs and
// on-purpose pauses alone; every REC reports its own phase, the exit code is the worst of them.
import { resumeRec, type ResumeOptions } from '../operations/resume.js';
import type { SessionOptions } from '../rec/session.js';
import { interruptSignal } from '../procedures/procedure-run.js';
import { fleetTable, runFleet, type FleetOutcome } from './fleet-run.js';
import { openFleet, type FleetSelection } from './selection.js';

export async function janitorFleet(sessionOptions: SessionOptions, selection: FleetSelection, options: ResumeOptions): Promise<FleetOutcome> {
  const { session, members, concurrency } = await openFleet(sessionOptions, selection);
  const { signal, dispose } = interruptSignal(session.progress);
  try {
    const fleet = await runFleet(session, {
      command: options.direction,
      members,
      concurrency,
      perRec: async (recSession, member) => (await resumeRec(recSession, member.name, { ...options, janitor: options.janitor ?? {} }, signal)).result,
    });
    return { fleet, text: () => fleetTable(fleet) };
  } finally {
    dispose();
  }
}
