// Runs one procedure over many RECs: each REC in its own session view (namespace, cluster, progress),
// at most `concurrency` in their active steps, every REC to its own end whatever the others do.
import { ExitCode, worstExitCode } from '../errors/exit-codes.js';
import type { Session } from '../rec/session.js';
import { formatDuration } from '../duration/duration.js';
import { Cluster, type AccessCache } from '../kube/cluster.js';
import type { FleetResult, Result } from '../output/result.js';
import { baseResult, settleResult } from '../procedures/procedure-run.js';
import type { Idle } from '../procedures/waits.js';
import { fleetProgress, recProgress } from './fleet-progress.js';
import type { FleetMember } from './selection.js';
import { Slots } from './slots.js';

/** A fleet's result and its text form, for the command line to print. */
export interface FleetOutcome {
  fleet: FleetResult;
  text: () => string;
}

export type PerRec = (session: Session, member: FleetMember, idle: Idle) => Promise<Result>;

export interface FleetRun {
  command: string;
  members: FleetMember[];
  concurrency: number;
  perRec: PerRec;
  /** How often a plain "n done, n active, n waiting" line is printed (default 10 s). */
  summaryEveryMs?: number;
}

const label = (m: { namespace: string; name: string }) => `${m.namespace}/${m.name}`;

export async function runFleet(base: Session, run: FleetRun): Promise<FleetResult> {
  const started = Date.now();
  const slots = new Slots(run.concurrency);
  const top = fleetProgress(base.options.quiet);
  let done = 0;
  // RECs of one namespace ask the same access reviews: ask once (7 round trips per namespace, not per REC).
  const access: AccessCache = new Map();
  top.note(`${run.command}: ${run.members.length} RECs, at most ${run.concurrency} in active steps at a time (waits overlap)`);
  const ticker = setInterval(() => {
    top.note(`${run.command}: ${done}/${run.members.length} RECs done, ${slots.active} active, ${slots.waiting} waiting (${formatDuration(Date.now() - started)})`);
  }, run.summaryEveryMs ?? 10_000);
  ticker.unref();

  const results = await Promise.all(
    run.members.map((member) =>
      slots.run(async () => {
        const t0 = Date.now();
        const session: Session = {
          ...base,
          namespace: member.namespace,
          cluster: new Cluster(base.api, member.namespace, access),
          progress: recProgress(base.options.quiet, label(member)),
        };
        let result: Result;
        try {
          result = await run.perRec(session, member, slots.idle);
        } catch (err) {
          // A per-REC procedure reports its own errors; this is the net under it, so one REC never stops the rest.
          result = baseResult(run.command, session, member.name);
          settleResult(result, err);
        }
        done += 1;
        session.progress.note(result.exitCode === 0 ? `done: ${result.phase}` : `exit ${result.exitCode} (${result.phase}): ${result.message}`);
        return { ...result, durationMs: Date.now() - t0 };
      }),
    ),
  );
  clearInterval(ticker);
  const count = (code: number) => results.filter((r) => r.exitCode === code).length;
  return {
    apiVersion: 'reccred.redis.io/v1',
    kind: 'FleetResult',
    command: run.command,
    exitCode: worstExitCode(results.map((r) => r.exitCode)),
    summary: {
      total: results.length,
      succeeded: count(ExitCode.Ok),
      failed: count(ExitCode.Failed),
      resumable: count(ExitCode.Resumable),
      refused: count(ExitCode.Refused),
      usage: count(ExitCode.Usage),
      durationMs: Date.now() - started,
    },
    results,
  };
}

/** The summary table printed on stdout in text mode. */
export function fleetTable(fleet: FleetResult, extra?: { header: string; cell: (r: FleetResult['results'][number]) => string }): string {
  const rows = fleet.results.map((r) => [r.namespace, r.rec, r.phase, String(r.exitCode), formatDuration(r.durationMs), ...(extra ? [extra.cell(r)] : [])]);
  const header = ['NAMESPACE', 'REC', 'PHASE', 'EXIT', 'TIME', ...(extra ? [extra.header] : [])];
  // Every row has the header's columns; a missing cell would count as empty.
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const s = fleet.summary;
  const problems = fleet.results.filter((r) => r.exitCode !== 0).map((r) => `  ${label({ namespace: r.namespace, name: r.rec })}: ${r.message}`);
  return [
    line(header),
    ...rows.map(line),
    '',
    `${s.total} RECs in ${formatDuration(s.durationMs)}: ${s.succeeded} succeeded, ${s.resumable} resumable (exit 3), ${s.failed} failed (exit 1), ${s.refused} refused (exit 4), ${s.usage} bad input (exit 2); exit code ${fleet.exitCode}`,
    ...(problems.length ? ['', 'Needs attention:', ...problems] : []),
    '',
  ].join('\n');
}
