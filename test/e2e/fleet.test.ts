// Fleet rotation end to end: 20 RECs in 5 namespaces in one command, through the real kubectl, against
// the simulated cluster (fleet mode: light pod sandboxes). One REC is made to fail; every REC's final
// state is checked (store, what the cluster accepts, journal, operator failures) and so is the summary.
import assert from 'node:assert/strict';
import { FleetResultSchema } from '../../src/output/result.js';
import { startSimCluster, type SimCluster } from '../sim/cluster.js';
import { journalExists, leaksIn, reccred, validPasswords, type RunResult } from './harness.js';

const NAMESPACES = ['ns-a', 'ns-b', 'ns-c', 'ns-d', 'ns-e'];
const RECS = Array.from({ length: 20 }, (_, i) => ({ name: `rec-${String(i).padStart(2, '0')}`, namespace: NAMESPACES[i % 5]! }));
const FAST = ['--settle', '3s', '--propagation-timeout', '10s'];

describe('fleet rotation: 20 RECs across 5 namespaces (end to end)', function () {
  this.timeout(600_000);
  let sim: SimCluster;
  const outputs: string[] = [];
  const passwords = new Set<string>();

  const run = async (args: string[], opts: Parameters<typeof reccred>[2] = {}): Promise<RunResult> => {
    const r = await reccred(sim, args, opts);
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const stored = (rec: string) => sim.credentials(rec)!.password;
  const remember = () => RECS.forEach((r) => passwords.add(stored(r.name)));
  /** Settled: the store holds a new password, the cluster accepts only it, no journal, no failed login. */
  const assertRotated = (rec: { name: string; namespace: string }, before: string) => {
    const now = sim.credentials(rec.name)!;
    assert.notEqual(now.password, before, `${rec.name}: the store holds a new password`);
    assert.deepEqual(validPasswords(sim, rec.name, now.username), [now.password], `${rec.name}: the cluster accepts only the stored password`);
    assert.equal(journalExists(sim, rec.namespace, rec.name), false, `${rec.name}: no journal left`);
    assert.equal(sim.operator.failures(rec.name).length, 0, `${rec.name}: no component failed to authenticate`);
    assert.equal(sim.audit.failedRestAuths(rec.name), 0, `${rec.name}: no failed login`);
  };

  before(async () => {
    sim = await startSimCluster({ recs: RECS, namespaces: NAMESPACES, pods: 2, fleet: true, syncDelayMs: 500, operatorIntervalMs: 250 });
    remember();
  });
  after(async () => sim?.stop());

  it('refuses one password for several RECs, and names mixed with -A (exit 2, nothing changed)', async () => {
    const mark = sim.audit.mark();
    let r = await run(['rotate', 'rec-00', 'rec-05', '-n', 'ns-a', '--password-stdin'], { stdin: 'Some-Passw0rd!x\n' });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /one password must not be shared by several clusters/);
    r = await run(['rotate', 'rec-00', '-A']);
    assert.equal(r.code, 2, r.stderr);
    r = await run(['rotate']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /name a REC, or select RECs with -l\/--selector or -A\/--all-namespaces/);
    assert.equal(sim.audit.since(mark).filter((e) => e.kind === 'exec' || (e.kind === 'api' && !['GET'].includes(e.method))).length, 0);
  });

  it('rotate -A -o json: 19 RECs rotate, the one with a frozen pod stops resumable (exit 3), the rest are not held up', async () => {
    const failing = RECS[7]!;
    const before = new Map(RECS.map((r) => [r.name, stored(r.name)]));
    sim.faults.frozenPods.add(`${failing.namespace}/${failing.name}-1`);
    const started = Date.now();
    const r = await run(['rotate', '-A', ...FAST, '--concurrency', '10', '-o', 'json']);
    const wall = Date.now() - started;
    remember();
    assert.equal(r.code, 3, r.stderr);
    const doc = FleetResultSchema.parse(JSON.parse(r.stdout));
    assert.equal(doc.exitCode, 3);
    assert.deepEqual(
      { total: doc.summary.total, succeeded: doc.summary.succeeded, resumable: doc.summary.resumable, failed: doc.summary.failed, refused: doc.summary.refused },
      { total: 20, succeeded: 19, resumable: 1, failed: 0, refused: 0 },
    );
    assert.deepEqual(
      doc.results.map((x) => `${x.namespace}/${x.rec}`),
      [...RECS].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name)).map((x) => `${x.namespace}/${x.name}`),
    );
    for (const res of doc.results) {
      if (res.rec === failing.name) {
        assert.equal(res.exitCode, 3);
        assert.equal(res.phase, 'stored');
        assert.match(res.message, new RegExp(`kubectl reccred finish ${failing.name} -n ${failing.namespace}`));
      } else {
        assert.equal(res.exitCode, 0, `${res.rec}: ${res.message}`);
        assert.equal(res.phase, 'completed');
        assert.ok(res.pods.every((p) => p.propagation === 'current'));
      }
    }
    // Every REC's final state.
    for (const rec of RECS) if (rec !== failing) assertRotated(rec, before.get(rec.name)!);
    const now = sim.credentials(failing.name)!;
    assert.notEqual(now.password, before.get(failing.name));
    assert.deepEqual(new Set(validPasswords(sim, failing.name, now.username)), new Set([before.get(failing.name)!, now.password]), 'both passwords stay valid');
    assert.ok(journalExists(sim, failing.namespace, failing.name), 'its journal is left for finish/abort');
    assert.equal(sim.operator.failures(failing.name).length, 0);
    // Waits overlap: 20 RECs take about one settle plus the propagation timeout, not 20 of them.
    assert.ok(wall < 90_000, `took ${wall} ms`);
    // Progress: one line per state change, prefixed with namespace/rec.
    assert.match(r.stderr, /^ns-c\/rec-07 \[FAILED\] every pod mounts the new password/m);
    assert.match(r.stderr, /^ns-a\/rec-00 \[ok\] remove the old password/m);

    // The failed REC resumes on its own once its pod syncs again.
    sim.faults.frozenPods.clear();
    const fin = await run(['finish', failing.name, '-n', failing.namespace, ...FAST]);
    assert.equal(fin.code, 0, fin.stderr);
    assertRotated(failing, before.get(failing.name)!);
    remember();
  });

  it('rotate -l in text mode: a REC whose lock is held is refused (exit 4) and the others complete; status -A summarises', async () => {
    for (const rec of RECS) {
      const o = sim.store.mustGet('redisenterpriseclusters', rec.namespace, rec.name);
      const labels = { ...(o.metadata.labels ?? {}), tier: Number(rec.name.slice(4)) < 10 ? 'gold' : 'silver' };
      sim.store.update('redisenterpriseclusters', { ...o, metadata: { ...o.metadata, labels, resourceVersion: undefined } });
    }
    const held = RECS[3]!; // gold
    const heldBefore = stored(held.name);
    const noWait = await run(['rotate', held.name, '-n', held.namespace, '--no-wait']);
    assert.equal(noWait.code, 0, noWait.stderr);
    remember();
    const gold = RECS.filter((r) => Number(r.name.slice(4)) < 10);
    const before = new Map(RECS.map((r) => [r.name, stored(r.name)]));
    const r = await run(['rotate', '-A', '-l', 'tier=gold', ...FAST]);
    remember();
    assert.equal(r.code, 4, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[0]!, /^NAMESPACE\s+REC\s+PHASE\s+EXIT\s+TIME$/);
    const rows = lines.slice(1, 1 + gold.length);
    assert.equal(rows.length, 10);
    for (const rec of gold) {
      const row = rows.find((l) => l.split(/\s+/)[1] === rec.name);
      assert.ok(row, `a row for ${rec.name}`);
      assert.match(row!, rec === held ? /\snot-started\s+4\s/ : /\scompleted\s+0\s/);
    }
    assert.match(r.stdout, /10 RECs in \S+: 9 succeeded, 0 resumable \(exit 3\), 0 failed \(exit 1\), 1 refused \(exit 4\), 0 bad input \(exit 2\); exit code 4/);
    assert.match(r.stdout, new RegExp(`Needs attention:\\n  ${held.namespace}/${held.name}: a rotate of REC ${held.name} is already in progress`));
    for (const rec of gold) if (rec !== held) assertRotated(rec, before.get(rec.name)!);
    for (const rec of RECS.filter((x) => !gold.includes(x))) assert.equal(stored(rec.name), before.get(rec.name), `${rec.name} (silver) untouched`);

    const st = await run(['status', '-A']);
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, new RegExp(`${held.namespace}\\s+${held.name}\\s+stored\\s+0\\s+\\S+\\s+2/2 pods current, rotate in progress since`));
    assert.match(st.stdout, /20 RECs in \S+: 20 succeeded/);
    const fin = await run(['finish', held.name, '-n', held.namespace, ...FAST]);
    assert.equal(fin.code, 0, fin.stderr);
    assertRotated(held, heldBefore);
    remember();
  });

  it('no password appears in any output or in the audit trail', () => {
    sim.collectArgv();
    assert.deepEqual(leaksIn([...outputs, ...sim.audit.texts()], [...passwords]), []);
  });
});
