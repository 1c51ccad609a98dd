// The live board of a fleet run on a terminal: `kubectl reccred rotate -A` in a real pseudo-terminal (tmux),
// its screen captured while it runs. One line per REC in flight with what its wait reports, and a totals
// line, redrawn in place (the screen never holds two totals lines); when the run ends the board is gone and
// the table is on stdout. RECCRED_BOARD_CAPTURE=FILE keeps the busiest screen (the README shows one).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSimCluster, type SimCluster } from '../sim/cluster.js';
import { pluginBinDir, validPasswords } from './harness.js';

const RECS = Array.from({ length: 8 }, (_, i) => ({ name: `rec-${i}`, namespace: i % 2 ? 'ns-b' : 'ns-a' }));
const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe('the live board: a fleet run on a pseudo-terminal (tmux)', function () {
  this.timeout(180_000);
  let sim: SimCluster;
  const socket = `reccred-board-${process.pid}`;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });

  before(async function () {
    try {
      execFileSync('tmux', ['-V']);
    } catch {
      assert.fail('tmux is needed for the pseudo-terminal (.ci/run installs it)');
    }
    sim = await startSimCluster({ recs: RECS, namespaces: ['ns-a', 'ns-b'], pods: 2, fleet: true, syncDelayMs: 1500, operatorIntervalMs: 250 });
  });
  after(async () => {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
    await sim?.stop();
  });

  it('one line per REC in flight and a totals line, redrawn in place; gone at the end, the table on stdout', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-board-'));
    const done = path.join(dir, 'exit');
    const env = { PATH: `${pluginBinDir()}:${process.env.PATH ?? ''}`, KUBECONFIG: sim.kubeconfig, HOME: dir, TERM: 'xterm-256color', RECCRED_POLL_MS: '300' };
    const command = `${Object.entries(env)
      .map(([k, v]) => `${k}=${shQuote(v)}`)
      .join(' ')} kubectl reccred rotate -A --settle 4s --concurrency 4; echo $? > ${shQuote(done)}; sleep 600`;
    tmux('new-session', '-d', '-s', 'board', '-x', '150', '-y', '40', `env ${command}`);
    const screens: string[] = [];
    const deadline = Date.now() + 120_000;
    while (!fs.existsSync(done) && Date.now() < deadline) {
      screens.push(tmux('capture-pane', '-p', '-t', 'board'));
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(fs.existsSync(done), 'the run ended');
    assert.equal(fs.readFileSync(done, 'utf8').trim(), '0');
    const final = tmux('capture-pane', '-p', '-t', 'board');

    const totals = (s: string) => s.split('\n').filter((l) => /^rotate: \d+\/8 done, \d+ in flight, \d+ not started/.test(l));
    const boards = screens.filter((s) => totals(s).length > 0);
    assert.ok(boards.length >= 3, `the board was on screen (${boards.length} captures)`);
    for (const s of boards) assert.equal(totals(s).length, 1, `redrawn in place, one totals line:\n${s}`);
    // A REC waiting shows what its wait reports: the settle countdown, or per-pod propagation.
    const busiest = boards.reduce((a, b) => (rowsOf(b).length > rowsOf(a).length ? b : a));
    assert.ok(rowsOf(busiest).length >= 2, `several RECs in flight at once:\n${busiest}`);
    assert.ok(
      boards.some((s) => rowsOf(s).some((l) => /settle.*left|pods? (?:mount|current|pending)/i.test(l))),
      `a wait's state on a row:\n${boards.map((s) => rowsOf(s).join('\n')).join('\n--\n')}`,
    );
    // The end: the board is gone, each REC's end line stays, the table follows.
    assert.equal(totals(final).length, 0, `no board left:\n${final}`);
    for (const r of RECS) assert.match(final, new RegExp(`${r.namespace}/${r.name} done: completed`));
    assert.match(final, /^NAMESPACE\s+REC\s+PHASE\s+EXIT\s+TIME/m);
    for (const r of RECS) {
      const now = sim.credentials(r.name)!;
      assert.deepEqual(validPasswords(sim, r.name, now.username), [now.password]);
    }
    if (process.env.RECCRED_BOARD_CAPTURE) fs.writeFileSync(process.env.RECCRED_BOARD_CAPTURE, busiest.trimEnd() + '\n');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

/** The board's REC rows: `namespace/rec  step...` lines that are not end lines. */
function rowsOf(screen: string): string[] {
  return screen.split('\n').filter((l) => /^ns-[ab]\/rec-\d+ {2}/.test(l));
}
