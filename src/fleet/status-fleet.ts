// kubectl reccred status with several RECs: one summary line per REC (operation in progress,
// propagation of the stored credentials, last rotation); exit code the worst of the RECs' own.
import { recStatus, type StatusCheck } from '../operations/status.js';
import { loadRecTarget } from '../rec/rec-target.js';
import type { SessionOptions } from '../rec/session.js';
import { fleetTable, runFleet, type FleetOutcome } from './fleet-run.js';
import { openFleet, type FleetSelection } from './selection.js';

export async function statusFleet(sessionOptions: SessionOptions, selection: FleetSelection, check?: StatusCheck): Promise<FleetOutcome> {
  const { session, members, concurrency } = await openFleet(sessionOptions, selection);
  const fleet = await runFleet(session, {
    command: 'status',
    members,
    concurrency,
    perRec: async (recSession, member) => {
      const target = await loadRecTarget(recSession, member.name);
      return (await recStatus(recSession, target, check)).result;
    },
  });
  const cell = (r: (typeof fleet.results)[number]) => {
    const current = r.pods.filter((p) => p.propagation === 'current').length;
    const op = r.journal ? `${r.journal.operation} in progress since ${r.journal.startedAt}` : 'no operation';
    return r.exitCode === 0 ? `${current}/${r.pods.length} pods current, ${op}` : '';
  };
  return { fleet, text: () => fleetTable(fleet, { header: 'DETAIL', cell }) };
}
