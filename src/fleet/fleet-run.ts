// Runs one procedure over many RECs: each REC in its own session view (namespace, cluster, progress),
// at most `concurrency` in their active steps, every REC to its own end whatever the others do.
import { ExitCode, refused, worstExitCode } from '../errors/exit-codes.js';
import type { Session } from '../rec/session.js';
import { formatDuration } from '../duration/duration.js';
import { Cluster, type AccessCache } from '../kube/cluster.js';
import type { FleetResult, Result } from '../output/result.js';
import { baseResult } from '../procedures/base-result.js';
import { settleResult } from '../procedures/procedure-run.js';
import type { Idle } from '../procedures/waits.js';
import { FleetBoard } from './fleet-board.js';
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
  waves?: Waves;
}

/**
 * How much of a fleet may go wrong before the rest is left alone: the first `canary` RECs (in the stable
 * namespace/name order) complete before any other starts, and none starts once any of them failed; no REC
 * starts once `maxFailures` have failed (any exit code but 0). RECs left alone end in phase "skipped", exit 4
 * (nothing changed), with the reason in their message.
 */
export interface Waves {
  canary?: number;
  maxFailures?: number;
}

export const SKIPPED = 'skipped';

const label = (m: { namespace: string; name: string }) => `${m.namespace}/${m.name}`;

export async function runFleet(base: Session, run: FleetRun): Promise<FleetResult> {
  const started = Date.now();
  const slots = new Slots(run.concurrency);
  const board = FleetBoard.forStream(base.options.quiet, run.command, run.members.length);
  const top = fleetProgress(base.options.quiet);
  const say = (text: string) => (board ? board.log(text) : top.note(text));
  let done = 0;
  // RECs of one namespace ask the same access reviews: ask once (7 round trips per namespace, not per REC).
  const access: AccessCache = new Map();
  say(`${run.command}: ${run.members.length} RECs, at most ${run.concurrency} in active steps at a time (waits overlap)`);
  // The board shows the totals live; plain output prints them now and then.
  const ticker = setInterval(() => {
    if (!board) top.note(`${run.command}: ${done}/${run.members.length} RECs done, ${slots.active} active, ${slots.waiting} waiting (${formatDuration(Date.now() - started)})`);
  }, run.summaryEveryMs ?? 10_000);
  ticker.unref();

  let failures = 0;
  const { canary = 0, maxFailures } = run.waves ?? {};
  const sessionFor = (member: FleetMember): Session => ({
    ...base,
    namespace: member.namespace,
    cluster: new Cluster(base.api, member.namespace, access),
    progress: board ? board.progressFor(label(member)) : recProgress(base.options.quiet, label(member)),
  });
  const ended = (session: Session, member: FleetMember, line: string) => (board ? board.finish(label(member), line) : session.progress.note(line));
  const skip = (member: FleetMember, why: string): Result & { durationMs: number } => {
    const session = sessionFor(member);
    const result = baseResult(run.command, session, member.name);
    settleResult(result, refused(`not started: ${why}; nothing was changed`, `once the cause is fixed, run the command again for the RECs not started`));
    result.phase = SKIPPED;
    done += 1;
    ended(session, member, `not started: ${why}`);
    return { ...result, durationMs: 0 };
  };
  const start = (member: FleetMember) =>
    slots.run(async () => {
      // Checked when its turn comes, not when the run began: RECs already started run to their end.
      if (maxFailures !== undefined && failures >= maxFailures) return skip(member, `--max-failures ${maxFailures} reached (${failures} failed)`);
      const t0 = Date.now();
      const session = sessionFor(member);
      let result: Result;
      try {
        result = await run.perRec(session, member, slots.idle);
      } catch (err) {
        // A per-REC procedure reports its own errors; this is the net under it, so one REC never stops the rest.
        result = baseResult(run.command, session, member.name);
        settleResult(result, err);
      }
      done += 1;
      if (result.exitCode !== 0) failures += 1;
      ended(session, member, result.exitCode === 0 ? `done: ${result.phase}` : `exit ${result.exitCode} (${result.phase}): ${result.message}`);
      return { ...result, durationMs: Date.now() - t0 };
    });
  const canaries = await Promise.all(run.members.slice(0, canary).map(start));
  const failedCanaries = canaries.filter((r) => r.exitCode !== 0).map((r) => label({ namespace: r.namespace, name: r.rec }));
  if (canary > 0 && !failedCanaries.length && run.members.length > canary) say(`${run.command}: the ${canaries.length} canary RECs completed; starting the others`);
  const rest = failedCanaries.length
    ? run.members.slice(canary).map((member) => skip(member, `canary ${failedCanaries.join(', ')} failed`))
    : await Promise.all(run.members.slice(canary).map(start));
  const results = [...canaries, ...rest];
  clearInterval(ticker);
  board?.close();
  const count = (code: number) => results.filter((r) => r.exitCode === code && r.phase !== SKIPPED).length;
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
      skipped: results.filter((r) => r.phase === SKIPPED).length,
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
  const problems = fleet.results.filter((r) => r.exitCode !== 0 && r.phase !== SKIPPED).map((r) => `  ${label({ namespace: r.namespace, name: r.rec })}: ${r.message}`);
  return [
    line(header),
    ...rows.map(line),
    '',
    `${s.total} RECs in ${formatDuration(s.durationMs)}: ${s.succeeded} succeeded, ${s.resumable} resumable (exit 3), ${s.failed} failed (exit 1), ${s.refused} refused (exit 4), ${s.usage} bad input (exit 2)${s.skipped ? `, ${s.skipped} not started (exit 4)` : ''}; exit code ${fleet.exitCode}`,
    ...(problems.length ? ['', 'Needs attention:', ...problems] : []),
    '',
  ].join('\n');
}
