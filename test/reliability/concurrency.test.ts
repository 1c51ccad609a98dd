// SPEC 3.6, one operation per REC at a time: two rotations of one REC started together (at several
// offsets, so both the preflight check and the journal's create race are hit) leave exactly one
// proceeding and the other refused with exit 4 naming the holder and its age; a finish while the holder
// is alive is refused too; rotations of different RECs run in parallel untouched. Lockout guard on every
// run, hygiene scan at the end.
import assert from 'node:assert/strict';
import type { SimCluster } from '../sim/cluster.js';
import { startSimCluster } from '../sim/cluster.js';
import { journalExists, journalPhaseOf, validPasswords } from '../e2e/harness.js';
import { Guard, printTally } from './guard.js';

const NS = 'default';
const FAST = ['--settle', '1s', '--propagation-timeout', '30s'];

describe('reliability: concurrent invocations', function () {
  this.timeout(600_000);
  let sim: SimCluster;
  let g: Guard;
  const t0 = Date.now();
  let scenarios = 0;

  const creds = (rec: string) => sim.credentials(rec)!;
  const assertSettled = (rec: string) => {
    assert.equal(journalExists(sim, NS, rec), false, `no journal is left for ${rec}`);
    const { username, password } = creds(rec);
    assert.deepEqual(validPasswords(sim, rec, username), [password], `${rec} accepts exactly the stored password`);
  };

  before(async () => {
    sim = await startSimCluster({
      recs: [
        { name: 'rec', namespace: NS },
        { name: 'rec-b', namespace: NS },
      ],
      pods: 2,
      syncDelayMs: 400,
      operatorIntervalMs: 250,
    });
    g = new Guard(sim);
  });
  after(async () => {
    g?.dispose();
    await sim?.stop();
  });

  for (const offsetMs of [0, 150, 600]) {
    it(`two rotations of one REC, the second ${offsetMs} ms later: one proceeds, the other exits 4 naming the holder`, async () => {
      const old = creds('rec').password;
      const mark = sim.audit.mark();
      const first = g.start(['rotate', 'rec', ...FAST]);
      if (offsetMs) await new Promise((r) => setTimeout(r, offsetMs));
      const second = g.start(['rotate', 'rec', ...FAST]);
      const results = await Promise.all([first.result, second.result]);
      const codes = results.map((r) => r.code).sort();
      assert.deepEqual(codes, [0, 4], results.map((r) => r.stderr).join('\n----\n'));
      const loser = results.find((r) => r.code === 4)!;
      assert.match(loser.stderr, /already in progress/);
      assert.match(loser.stderr, /held by \S+ \(pid \d+\)/, 'names the holder');
      assert.match(loser.stderr, /\d+s ago|started \d+s ago/, 'says how old the lock is');
      assertSettled('rec');
      assert.notEqual(creds('rec').password, old);
      // The loser reached nothing that changes the cluster: one add and one removal in all.
      const writes = sim.audit.since(mark).filter((e) => e.kind === 'rest' && e.method !== 'GET' && e.status < 300);
      assert.deepEqual(writes.map((e) => (e.kind === 'rest' ? `${e.method} ${e.path}` : '')).sort(), ['DELETE /v1/users/password', 'POST /v1/users/password']);
      scenarios++;
    });
  }

  it('finish while the holder is still running: exit 4 naming it; the rotation completes undisturbed', async () => {
    const running = g.start(['rotate', 'rec', '--settle', '6s', '--propagation-timeout', '30s']);
    let finishRun: Promise<Awaited<typeof running.result>> | undefined;
    const stop = sim.store.onChange((e) => {
      if (!finishRun && journalPhaseOf(e) === 'propagated' && e.object.metadata.name === 'rec-reccred-journal') finishRun = g.run(['finish', 'rec']);
    });
    const r = await running.result;
    stop();
    assert.ok(finishRun, 'the rotation reached its settle');
    const f = await finishRun;
    assert.equal(f.code, 4, f.stderr);
    assert.match(f.stderr, /held by \S+ \(pid \d+\).*the holder is still running: it renewed its lease/);
    assert.equal(r.code, 0, r.stderr);
    assertSettled('rec');
    scenarios++;
  });

  it('rotations of two different RECs in parallel both complete', async () => {
    const before = { a: creds('rec').password, b: creds('rec-b').password };
    const [a, b] = await Promise.all([g.run(['rotate', 'rec', ...FAST], { recs: ['rec'] }), g.run(['rotate', 'rec-b', ...FAST], { recs: ['rec-b'] })]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    for (const rec of ['rec', 'rec-b']) assertSettled(rec);
    assert.notEqual(creds('rec').password, before.a);
    assert.notEqual(creds('rec-b').password, before.b);
    assert.equal(sim.operator.failures('rec').length + sim.operator.failures('rec-b').length, 0);
    scenarios++;
  });

  it('a change-user and a user rotate of the same REC: separate locks, both complete', async () => {
    sim.redis('rec-b').createUser({ email: 'par@example.com', password: 'Par-Initial-Pa55!', role: 'db_member' });
    sim.store.create('secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'par', namespace: NS },
      data: { password: Buffer.from('Par-Initial-Pa55!').toString('base64') },
    });
    g.addPassword('Par-Initial-Pa55!');
    const [c, u] = await Promise.all([
      g.run(['change-user', 'rec-b', '--username', 'par-admin@example.com', '--settle', '6s', '--propagation-timeout', '30s'], { recs: ['rec-b'] }),
      g.run(['user', 'rotate', 'rec-b', '--user', 'par@example.com', '--to-secret', `${NS}/par`], { recs: ['rec-b'] }),
    ]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(u.code, 0, u.stderr);
    assertSettled('rec-b');
    assert.equal(creds('rec-b').username, 'par-admin@example.com');
    const f = await g.run(['user', 'finish', 'rec-b', '--user', 'par@example.com']);
    assert.equal(f.code, 0, f.stderr);
    scenarios++;
  });

  describe('secret hygiene over the concurrency runs', () => {
    it('no password leaked; no unexpected command ran in a pod', () => {
      const { passwords, texts } = g.assertClean(t0);
      printTally('concurrency', { scenarios, passwordsTracked: passwords, textsScanned: texts });
    });
  });
});
