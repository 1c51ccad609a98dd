// Active-Active end to end: three simulated clusters whose RECs share an Active-Active database, each
// holding every REC's admin credentials in an RERC Secret; the real kubectl runs the plugin. Rotating
// one REC with --participant-context for the other two must leave every RERC Secret on every cluster
// with the new password, every RERC Active, every REAADB active, the old password refused, and no failed
// login by any RERC controller or operator component; without the other clusters it is refused.
import assert from 'node:assert/strict';
import { startClusterSet, type ClusterSet } from '../sim/active-active/cluster-set.js';
import { journalExists, journalPhaseOf, reccred, startReccred, validPasswords, type KillEvent } from './harness.js';

const NS = 'default';
const FAST = ['--settle', '2s', '--propagation-timeout', '30s'];

describe('Active-Active: a participating REC rotated across its clusters (end to end)', function () {
  this.timeout(300_000);
  let set: ClusterSet;

  before(async () => {
    set = await startClusterSet({
      clusters: ['a', 'b', 'c'],
      rerc: { intervalMs: 300, reactionMs: 50 },
      sim: { syncDelayMs: 500, operatorIntervalMs: 250 },
    });
  });
  after(async () => {
    await set?.stop();
  });

  const email = () => set.sim('a').credentials('rec-a')?.username ?? assert.fail('no username');
  const stored = () => set.sim('a').credentials('rec-a')?.password ?? assert.fail('no password');
  const operatorFailures = () => set.names.reduce((n, c) => n + set.sim(c).operator.failures(set.participant(c).rec).length, 0);
  const run = (args: string[], env: Record<string, string> = {}) => reccred(set.sim('a'), args, { kubeconfig: set.kubeconfig, env });
  const everyRercSecret = () => set.names.map((c) => set.rercSecret(c, 'rerc-a')?.password);

  /** Every cluster settled on `password`: its RERC Secret, its RERC Active, its REAADB active, the REC accepting only it. */
  const assertSettled = (password: string) => {
    assert.equal(journalExists(set.sim('a'), NS, 'rec-a'), false, 'no journal is left');
    assert.deepEqual(validPasswords(set.sim('a'), 'rec-a', email()), [password], 'rec-a accepts exactly that password');
    assert.equal(stored(), password, "the REC's own Secret holds it");
    assert.deepEqual(
      everyRercSecret(),
      set.names.map(() => password),
      'every RERC Secret holds it',
    );
    set.tick();
    for (const c of set.names) {
      assert.equal(set.rercStatus(c, 'rerc-a')?.status, 'Active', `rerc-a in cluster ${c}`);
      assert.equal(set.reaadbStatus(c)?.status?.toLowerCase(), 'active', `the REAADB in cluster ${c}`);
      assert.equal(set.reaadbStatus(c)?.replicationStatus, 'up', `replication in cluster ${c}`);
    }
  };

  it('without --participant-context: refused (exit 4) before anything changes, naming the RERCs and REAADBs it found and the flag', async () => {
    const before = stored();
    const failures = set.failures().length;
    const r = await run(['rotate', 'rec-a', '--context', 'cluster-a', ...FAST]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /takes part in Active-Active/);
    assert.match(r.stderr, /rerc-a/);
    assert.match(r.stderr, /reaadb-1/);
    assert.match(r.stderr, /--participant-context/);
    assertSettled(before);
    assert.equal(set.failures().length, failures);
  });

  it('change-user and reset of a participating REC: refused (exit 4), nothing changed', async () => {
    const before = stored();
    const reset = await run(['reset', 'rec-a', '--context', 'cluster-a', '--yes']);
    assert.equal(reset.code, 4, reset.stderr);
    assert.match(reset.stderr, /Active-Active/);
    const change = await run(['change-user', 'rec-a', '--context', 'cluster-a', '--username', 'ops@example.com', '--yes']);
    assert.equal(change.code, 4, change.stderr);
    assertSettled(before);
  });

  it('with --participant-context for the other two: every RERC Secret on every cluster holds the new password, all Active, the old password refused, no failed login', async () => {
    const before = stored();
    const failures = set.failures().length;
    const operator = operatorFailures();
    const r = await run(['rotate', 'rec-a', '--context', 'cluster-a', '--participant-context', 'cluster-b', '--participant-context', 'cluster-c', ...FAST]);
    assert.equal(r.code, 0, r.stderr);
    const now = stored();
    assert.notEqual(now, before);
    assertSettled(now);
    assert.deepEqual(set.failures().slice(failures), [], 'no RERC controller failed to log in');
    assert.equal(operatorFailures(), operator, 'no operator component failed to log in');
  });

  it('an empty --participant-context (an unset variable in a script): a usage error, nothing changed', async () => {
    const before = stored();
    const r = await run(['rotate', 'rec-a', '--context', 'cluster-a', '--participant-context', 'cluster-b', '--participant-context', '', ...FAST]);
    assert.equal(r.code, 2, r.stderr);
    assertSettled(before);
  });

  it('one participating cluster left out: refused (exit 4) naming its RERC, nothing changed', async () => {
    const before = stored();
    const r = await run(['rotate', 'rec-a', '--context', 'cluster-a', '--participant-context', 'cluster-b', ...FAST]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /RERC rerc-c/);
    assertSettled(before);
  });

  /** Where a run is killed: after the journal records N clusters' RERC Secrets updated, or right as a cluster's Secret is written (before the journal knows). */
  const KILL_POINTS: { name: string; updated?: number; secretIn?: string }[] = [
    { name: "the REC's own RERC Secret updated", updated: 1 },
    { name: "the second cluster's RERC Secret updated", updated: 2 },
    { name: 'every RERC Secret updated, before the removal', updated: 3 },
    { name: "the third cluster's RERC Secret written, not yet journaled", secretIn: 'c' },
  ];
  const updatedIn = (e: KillEvent): number => {
    if (!e.store || journalPhaseOf(e.store) !== 'propagated') return -1;
    const data = (e.store.object as { data?: Record<string, string> }).data?.['journal.json'];
    if (!data) return -1;
    const record = JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { participants?: { updatedAt?: string }[] };
    return (record.participants ?? []).filter((p) => p.updatedAt).length;
  };

  for (const point of KILL_POINTS) {
    for (const direction of ['finish', 'abort'] as const) {
      it(`killed at "${point.name}", then ${direction}: every cluster settles on one password, all Active, no failed login`, async () => {
        const before = stored();
        const failures = set.failures().length;
        const operator = operatorFailures();
        const { child, result } = startReccred(
          set.sim('a'),
          ['rotate', 'rec-a', '--context', 'cluster-a', '--participant-context', 'cluster-b', '--participant-context', 'cluster-c', ...FAST],
          { kubeconfig: set.kubeconfig, ...(point.updated !== undefined ? { killWhen: (e: KillEvent) => updatedIn(e) >= (point.updated ?? 0) } : {}) },
        );
        const stop =
          point.secretIn === undefined
            ? () => undefined
            : set.onStoreChange((cluster, e) => {
                if (cluster === point.secretIn && e.resource === 'secrets' && e.object.metadata.name === 'redis-enterprise-rerc-a' && e.type === 'MODIFIED') child.kill('SIGKILL');
              });
        const killed = await result;
        stop();
        assert.equal(killed.signal, 'SIGKILL', `the run was killed at "${point.name}": ${killed.stderr}`);
        assert.ok(journalExists(set.sim('a'), NS, 'rec-a'), 'the journal is left for the next run');
        const r = await run([direction, 'rec-a', '--context', 'cluster-a', ...FAST]);
        assert.equal(r.code, 0, r.stderr);
        const now = stored();
        if (direction === 'finish') assert.notEqual(now, before);
        else assert.equal(now, before);
        assertSettled(now);
        assert.deepEqual(set.failures().slice(failures), [], 'no RERC controller failed to log in');
        assert.equal(operatorFailures(), operator, 'no operator component failed to log in');
      });
    }
  }
});
