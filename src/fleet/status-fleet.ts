// kubectl reccred status with several RECs: one summary line per REC (operation in progress,
// propagation of the stored credentials, last rotation); exit code the worst of the RECs' own.
import { openSession } from '../cli/session.js';
import { recStatus, type StatusFlags } from '../commands/status/status.js';
import { printFleetResult } from '../output/result.js';
import { loadRecTarget } from '../rec/rec-target.js';
import { concurrencyOf } from './concurrency.js';
import { fleetTable, runFleet } from './fleet-run.js';
import { checkSelection, selectRecs } from './selection.js';

export async function statusFleet(flags: StatusFlags): Promise<number> {
  checkSelection(flags);
  const concurrency = concurrencyOf(flags);
  const session = await openSession(flags);
  const members = await selectRecs(session, flags);
  const fleet = await runFleet(session, {
    command: 'status',
    members,
    concurrency,
    perRec: async (recSession, member) => {
      const target = await loadRecTarget(recSession, member.name);
      return (await recStatus(recSession, target)).result;
    },
  });
  const cell = (r: (typeof fleet.results)[number]) => {
    const current = r.pods.filter((p) => p.propagation === 'current').length;
    const op = r.journal ? `${r.journal.operation} in progress since ${r.journal.startedAt}` : 'no operation';
    return r.exitCode === 0 ? `${current}/${r.pods.length} pods current, ${op}` : '';
  };
  printFleetResult(fleet, session.flags.output, () => fleetTable(fleet, { header: 'DETAIL', cell }));
  return fleet.exitCode;
}
