// Active-Active end to end: three simulated clusters whose RECs share an Active-Active database, each
// holding every REC's admin credentials in an RERC Secret; the real kubectl runs the plugin. Rotating
// one REC with --participant-context for the other two must leave every RERC Secret on every cluster
// with the new password, every RERC Active, every REAADB active, the old password refused, and no failed
// login by any RERC controller or operator component; without the other clusters it is refused.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import yaml from 'js-yaml';
import { startClusterSet, type ClusterSet } from '../sim/active-active/cluster-set.js';
import { journalExists, journalPhaseOf, reccred, startReccred, validPasswords, type KillEvent } from './harness.js';
import { spread } from '../spread.js';

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
    const peers = set.names.map((c) => set.sim(c).credentials(set.participant(c).rec)?.password ?? assert.fail(`no admin password in cluster ${c}`));
    const r = await run(['rotate', 'rec-a', '--context', 'cluster-a', '--participant-context', 'cluster-b', '--participant-context', 'cluster-c', '-vv', ...FAST]);
    assert.equal(r.code, 0, r.stderr);
    const now = stored();
    assert.notEqual(now, before);
    // GET /v1/crdbs may show every instance's credentials: none of them reaches the output.
    for (const p of peers) assert.ok(!r.stdout.includes(p) && !r.stderr.includes(p), 'no admin password of any cluster in the output');
    assertSettled(now);
    assert.deepEqual(set.failures().slice(failures), [], 'no RERC controller failed to log in');
    assert.equal(operatorFailures(), operator, 'no operator component failed to log in');
  });

  it('an Active-Active database created with crdb-cli (no REAADB has its guid) beside the REAADB: refused (exit 4) naming it and the documented steps, nothing changed', async () => {
    const before = stored();
    const failures = set.failures().length;
    const crdbs = set.redis('a').crdbs;
    const guid = '1f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b';
    crdbs.push({ guid, name: 'made-with-crdb-cli', instances: [{ id: 1, cluster: { name: 'api-rec-a-default.example.com', url: 'https://api-rec-a-default.example.com:443' } }] });
    try {
      const r = await run(['rotate', 'rec-a', '--context', 'cluster-a', '--participant-context', 'cluster-b', '--participant-context', 'cluster-c', ...FAST]);
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr, new RegExp(`made-with-crdb-cli \\(guid ${guid}\\)`));
      assert.doesNotMatch(r.stderr, /reaadb-1 \(guid/, 'the database its REAADB manages is not named');
      assert.match(r.stderr, /crdb-cli crdb update --crdb-guid GUID --credentials/);
      assert.match(r.stderr, /active-active-admin-credentials\.md/);
      assertSettled(before);
      assert.equal(set.failures().length, failures);
    } finally {
      crdbs.splice(
        crdbs.findIndex((c) => c.guid === guid),
        1,
      );
    }
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

  /**
   * Where a run is killed: after the journal records N clusters' RERC Secrets updated, right as a cluster's Secret is
   * written (before the journal knows), or when `when` (made afresh for each run) sees an event of cluster a. `landed`:
   * the journal's phase and number of clusters marked updated that the kill must leave.
   */
  interface KillPoint {
    name: string;
    updated?: number;
    secretIn?: string;
    when?: () => (e: KillEvent) => boolean;
    landed?: { phase: string; updated: number };
  }
  const KILL_POINTS: KillPoint[] = [
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
  /** After the pods mount the new password and the settle passed: the read of the local RERC Secret that precedes its write. */
  const atFirstRercRead = () => {
    let propagated = false;
    return (e: KillEvent) => {
      if (journalPhaseOf(e.store) === 'propagated') propagated = true;
      return propagated && e.audit?.kind === 'api' && e.audit.method === 'GET' && e.audit.uri.includes('/secrets/redis-enterprise-rerc-a');
    };
  };
  /** Every other step of the rotation, each killed then finished and aborted: 5 s a test, so run in turns (test/spread.ts). */
  const COSTLY_KILL_POINTS: KillPoint[] = [
    {
      name: 'journal recorded, before the new password is added',
      when: () => (e) => journalPhaseOf(e.store) === 'recorded' && e.store?.type === 'ADDED',
      landed: { phase: 'recorded', updated: 0 },
    },
    { name: 'the new password added (phase added)', when: () => (e) => journalPhaseOf(e.store) === 'added', landed: { phase: 'added', updated: 0 } },
    {
      name: "the REC's own Secret stored (phase stored), before any RERC Secret",
      when: () => (e) => journalPhaseOf(e.store) === 'stored',
      landed: { phase: 'stored', updated: 0 },
    },
    { name: 'every pod mounts the new password and the settle passed, before the first RERC Secret write', when: atFirstRercRead, landed: { phase: 'propagated', updated: 0 } },
    { name: 'the local RERC Secret (cluster a) written, not yet journaled', secretIn: 'a', landed: { phase: 'propagated', updated: 0 } },
    { name: "the second cluster's RERC Secret written, not yet journaled", secretIn: 'b', landed: { phase: 'propagated', updated: 1 } },
  ];
  const journaled = () => {
    const data = (set.sim('a').store.get('secrets', NS, 'rec-a-reccred-journal') as { data?: Record<string, string> } | undefined)?.data?.['journal.json'];
    const record = data ? (JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { phase: string; participants?: { updatedAt?: string }[] }) : undefined;
    return record && { phase: record.phase, updated: (record.participants ?? []).filter((p) => p.updatedAt).length };
  };
  const killCases = (points: KillPoint[]) => points.flatMap((point) => (['finish', 'abort'] as const).map((direction) => ({ point, direction })));
  const costly = spread('kills across the clusters', killCases(COSTLY_KILL_POINTS), 4, (k) => `killed at "${k.point.name}", then ${k.direction}`);

  for (const { point, direction } of [...killCases(KILL_POINTS), ...costly]) {
    it(`killed at "${point.name}", then ${direction}: every cluster settles on one password, all Active, no failed login`, async () => {
      const before = stored();
      const failures = set.failures().length;
      const operator = operatorFailures();
      const killWhen = point.updated !== undefined ? (e: KillEvent) => updatedIn(e) >= (point.updated ?? 0) : point.when?.();
      const { child, result } = startReccred(
        set.sim('a'),
        ['rotate', 'rec-a', '--context', 'cluster-a', '--participant-context', 'cluster-b', '--participant-context', 'cluster-c', ...FAST],
        { kubeconfig: set.kubeconfig, ...(killWhen ? { killWhen } : {}) },
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
      if (point.landed) assert.deepEqual(journaled(), point.landed, 'the kill left the journal where the point says');
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

  /** The set's kubeconfig without one context (its cluster and user entries stay): a cluster the machine running finish or abort cannot reach. */
  const kubeconfigWithout = (context: string): string => {
    const config = yaml.load(readFileSync(set.kubeconfig, 'utf8')) as { contexts: { name: string }[] };
    config.contexts = config.contexts.filter((c) => c.name !== context);
    const file = join(dirname(set.kubeconfig), `kubeconfig-without-${context}`);
    writeFileSync(file, yaml.dump(config), { mode: 0o600 });
    return file;
  };
  /** A rotation killed once the journal records the REC's own RERC Secret updated: b's Secret is next, c's was never written. */
  const killedAfterLocalRerc = async () => {
    const killed = await reccred(set.sim('a'), ['rotate', 'rec-a', '--context', 'cluster-a', '--participant-context', 'cluster-b', '--participant-context', 'cluster-c', ...FAST], {
      kubeconfig: set.kubeconfig,
      killWhen: (e: KillEvent) => updatedIn(e) >= 1,
    });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    assert.deepEqual(journaled(), { phase: 'propagated', updated: 1 });
  };
  /** What a run that changed nothing leaves as it was: the journal Secret's version, every RERC Secret, the passwords rec-a accepts. */
  const snapshot = () => ({
    journal: set.sim('a').store.get('secrets', NS, 'rec-a-reccred-journal')?.metadata.resourceVersion,
    rercSecrets: set.names.map((c) => set.rercSecret(c, 'rerc-a')),
    valid: validPasswords(set.sim('a'), 'rec-a', email()).sort(),
  });

  it("abort with a later participant's context gone from the kubeconfig: that cluster's RERC Secret was never written, so the abort completes without it", async () => {
    const before = stored();
    const failures = set.failures().length;
    const operator = operatorFailures();
    const untouched = set.rercSecret('c', 'rerc-a');
    await killedAfterLocalRerc();
    const r = await reccred(set.sim('a'), ['abort', 'rec-a', '--context', 'cluster-a', ...FAST], { kubeconfig: kubeconfigWithout('cluster-c') });
    assert.equal(r.code, 0, r.stderr);
    assertSettled(before);
    assert.deepEqual(set.rercSecret('c', 'rerc-a'), untouched, "cluster c's RERC Secret was never written");
    assert.deepEqual(set.failures().slice(failures), [], 'no RERC controller failed to log in');
    assert.equal(operatorFailures(), operator, 'no operator component failed to log in');
  });

  it('finish with a participant context gone from the kubeconfig, or abort with the one whose Secret may have been written: exit 3 naming the context, nothing changed', async () => {
    const failures = set.failures().length;
    await killedAfterLocalRerc();
    const left = snapshot();
    const finish = await reccred(set.sim('a'), ['finish', 'rec-a', '--context', 'cluster-a', ...FAST], { kubeconfig: kubeconfigWithout('cluster-c') });
    assert.equal(finish.code, 3, finish.stderr);
    assert.match(finish.stderr, /context cluster-c\b.*does not exist in the kubeconfig/);
    assert.deepEqual(snapshot(), left, 'nothing changed: the journal, every RERC Secret, the passwords rec-a accepts');
    // b follows the last cluster marked updated: a kill may have come between its write and its mark.
    const abort = await reccred(set.sim('a'), ['abort', 'rec-a', '--context', 'cluster-a', ...FAST], { kubeconfig: kubeconfigWithout('cluster-b') });
    assert.equal(abort.code, 3, abort.stderr);
    assert.match(abort.stderr, /context cluster-b\b.*does not exist in the kubeconfig/);
    assert.deepEqual(snapshot(), left, 'nothing changed');
    const done = await run(['finish', 'rec-a', '--context', 'cluster-a', ...FAST]);
    assert.equal(done.code, 0, done.stderr);
    assertSettled(stored());
    assert.equal(stored(), left.rercSecrets[0]?.password, 'finish completed the rotation to the password the local RERC Secret had taken');
    assert.deepEqual(set.failures().slice(failures), [], 'no RERC controller failed to log in');
  });
});

describe('Active-Active: a participating cluster whose REC keeps its secrets in Vault (end to end)', function () {
  this.timeout(300_000);
  let set: ClusterSet;

  before(async () => {
    set = await startClusterSet({
      clusters: ['a', 'b'],
      rerc: { intervalMs: 300, reactionMs: 50 },
      sim: { syncDelayMs: 500, operatorIntervalMs: 250 },
      // The plugin takes a cache of 0 as unset (the operator's default, 120 s): 1 s keeps the settle short.
      perCluster: { b: { rec: { secretType: 'vault' }, sim: { vaultCacheSeconds: 1 } } },
    });
  });
  after(async () => {
    await set?.stop();
  });

  const vault = () => ({ VAULT_ADDR: set.sim('b').vault.addr, VAULT_TOKEN: set.sim('b').vault.token, VAULT_CACERT: set.sim('b').vault.caFile });
  const password = () => set.sim('a').credentials('rec-a')?.password ?? assert.fail('no password');
  const assertSettled = (want: string) => {
    assert.equal(journalExists(set.sim('a'), NS, 'rec-a'), false, 'no journal is left');
    assert.deepEqual(validPasswords(set.sim('a'), 'rec-a', set.sim('a').credentials('rec-a')?.username ?? ''), [want], 'rec-a accepts exactly that password');
    assert.deepEqual(
      set.names.map((c) => set.rercSecret(c, 'rerc-a')?.password),
      [want, want],
      "a's RERC Secret and b's Vault entry hold it",
    );
    assert.equal(set.sim('b').store.get('secrets', NS, 'redis-enterprise-rerc-a'), undefined, 'no Kubernetes Secret was made in the Vault cluster');
    set.tick();
    for (const c of set.names) assert.equal(set.rercStatus(c, 'rerc-a')?.status, 'Active', `rerc-a in cluster ${c}`);
  };

  // vault.md, "Redis Enterprise Remote Cluster secrets": there the RERC secret is a Vault entry, at the path the operator's ConfigMap gives.
  it("rotates: the other cluster's RERC secret is written in its Vault, every RERC Active, the old password refused, no failed login", async () => {
    const before = password();
    const failures = set.failures().length;
    const r = await reccred(set.sim('a'), ['rotate', 'rec-a', '--context', 'cluster-a', '--participant-context', 'cluster-b', ...FAST], {
      kubeconfig: set.kubeconfig,
      env: vault(),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual(password(), before);
    assertSettled(password());
    assert.deepEqual(set.failures().slice(failures), [], 'no RERC controller failed to log in');
  });

  it('killed once the Vault entry is written, then finish: one password everywhere, no failed login', async () => {
    const before = password();
    const failures = set.failures().length;
    const { result } = startReccred(set.sim('a'), ['rotate', 'rec-a', '--context', 'cluster-a', '--participant-context', 'cluster-b', ...FAST], {
      kubeconfig: set.kubeconfig,
      env: vault(),
      killWhen: (e: KillEvent) => {
        if (!e.store || journalPhaseOf(e.store) !== 'propagated') return false;
        const data = (e.store.object as { data?: Record<string, string> }).data?.['journal.json'];
        const record = data ? (JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { version?: number; participants?: { updatedAt?: string }[] }) : undefined;
        return record?.version === 3 && (record.participants ?? []).filter((p) => p.updatedAt).length >= 2;
      },
    });
    const killed = await result;
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    const r = await reccred(set.sim('a'), ['finish', 'rec-a', '--context', 'cluster-a', ...FAST], { kubeconfig: set.kubeconfig, env: vault() });
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual(password(), before);
    assertSettled(password());
    assert.deepEqual(set.failures().slice(failures), []);
  });
});
