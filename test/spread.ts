// A matrix too slow to run whole in every CI run: its cheap cases run every time, the costly ones in turns.
// The turn comes from the commit under test (so a re-run of a commit runs the same cases and consecutive
// commits cover them all), RECCRED_SEED overrides it, and RECCRED_SPREAD=all runs everything. What did not run
// is printed, never skipped silently.
import { execFileSync } from 'node:child_process';

function seed(): number {
  const given = Number(process.env.RECCRED_SEED);
  if (Number.isInteger(given) && given > 0) return given;
  try {
    return parseInt(execFileSync('git', ['rev-parse', '--short=7', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(), 16);
  } catch {
    return 0;
  }
}

/**
 * The costly cases this run takes: `perRun` consecutive ones in a window that moves by one turn per seed, so
 * `ceil(cases / perRun)` consecutive seeds run every case. Prints which ran and which wait for another turn.
 */
export function spread<T>(label: string, costly: readonly T[], perRun: number, name: (c: T) => string): T[] {
  if (process.env.RECCRED_SPREAD === 'all' || costly.length <= perRun) return [...costly];
  const turns = Math.ceil(costly.length / perRun);
  const s = seed();
  const turn = s % turns;
  const taken = costly.slice(turn * perRun, turn * perRun + perRun);
  const waiting = costly.filter((c) => !taken.includes(c));
  console.log(
    `      [spread] ${label}: turn ${turn + 1} of ${turns} (seed ${s}) runs ${taken.map(name).join('; ')}; ` +
      `in other turns: ${waiting.map(name).join('; ')} (RECCRED_SPREAD=all runs every case)`,
  );
  return taken;
}
