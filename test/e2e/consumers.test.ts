// The whole of rotate-user-passwords.md end to end, its middle step included ("update the password in all
// database connections that connect with the user account"): user rotate --finish finds the workloads that read
// the application's Secret, restarts them as `kubectl rollout restart` does, waits for their rollouts by
// `kubectl rollout status`'s rules, and only then deletes the old password. The simulated applications log in
// continuously with the password their pod read: every failed login they saw is counted.
import assert from 'node:assert/strict';
import { startSimCluster, type SimCluster } from '../sim/cluster.js';
import type { KubeObject } from '../sim/kube/store.js';
import { spread } from '../spread.js';
import { reccred, startReccred, validPasswords, waitFor, type KillEvent } from './harness.js';

const NS = 'default';
const APPS = 'apps';
const REC = 'rec';
const FAST = ['--settle', '2s', '--rollout-timeout', '60s'];

const labels = (app: string) => ({ app });
const container = (extra: Record<string, unknown>) => ({ name: 'app', image: 'registry.example.com/app:1', ...extra });
const envReader = (secret: string) => ({ env: [{ name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: secret, key: 'password' } } }] });
const envFromReader = (secret: string) => ({ envFrom: [{ secretRef: { name: secret } }] });

function deployment(name: string, podSpec: Record<string, unknown>, replicas = 2): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: APPS },
    spec: { replicas, selector: { matchLabels: labels(name) }, template: { metadata: { labels: labels(name) }, spec: podSpec } },
  } as KubeObject;
}

function statefulSet(name: string, podSpec: Record<string, unknown>, replicas = 2): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: APPS },
    spec: { replicas, serviceName: name, selector: { matchLabels: labels(name) }, template: { metadata: { labels: labels(name) }, spec: podSpec } },
  } as KubeObject;
}

describe('user rotate with its consumers: the applications move before the old password goes (end to end)', function () {
  this.timeout(300_000);
  let sim: SimCluster;
  let n = 0;

  before(async () => {
    sim = await startSimCluster({
      namespaces: [NS, APPS],
      recs: [{ name: REC, namespace: NS, pods: 1 }],
      pods: 1,
      syncDelayMs: 500,
      apps: { readyDelayMs: 200, loginIntervalMs: 100 },
    });
  });
  after(async () => {
    await sim?.stop();
  });
  // A test's applications stop with it (scaled to zero): the next tests do not pay for their logins.
  let retiring: string[] = [];
  afterEach(() => {
    for (const w of retiring) {
      const [kind, name] = w.split('/') as ['deployment' | 'statefulset', string];
      const o = sim.store.get(`${kind}s`, APPS, name) as (KubeObject & { spec: Record<string, unknown> }) | undefined;
      if (o) sim.store.update(`${kind}s`, { ...o, metadata: { ...o.metadata, resourceVersion: undefined }, spec: { ...o.spec, replicas: 0 } } as KubeObject);
    }
    retiring = [];
  });

  /** A database user of its own, its Secret, and three workloads reading it (env, envFrom, a volume): each test has its own. */
  async function setUp(): Promise<{ email: string; initial: string; secret: string; workloads: string[] }> {
    n += 1;
    const email = `cache-${n}@example.com`;
    const initial = `Initial-Passw0rd-${n}`;
    const secret = `cache-user-${n}`;
    sim.redis(REC).createUser({ email, password: initial, role: 'db_member' });
    const data = { username: Buffer.from(email).toString('base64'), password: Buffer.from(initial).toString('base64') };
    sim.store.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: secret, namespace: APPS }, type: 'Opaque', data } as KubeObject);
    const names = [`web-${n}`, `worker-${n}`, `cache-${n}`] as const;
    const app = { rec: `${NS}/${REC}`, username: email, secret };
    sim.apps.create('Deployment', deployment(names[0], { containers: [container(envReader(secret))] }), app);
    sim.apps.create('Deployment', deployment(names[1], { containers: [container(envFromReader(secret))] }), app);
    sim.apps.create('StatefulSet', statefulSet(names[2], { containers: [container({})], volumes: [{ name: 'creds', secret: { secretName: secret } }] }), app);
    const workloads = [`deployment/${names[0]}`, `deployment/${names[1]}`, `statefulset/${names[2]}`];
    retiring = workloads;
    await waitFor(() => workloads.every((w) => sim.apps.settled(`${APPS}/${w}`)), 'the workloads are rolled out');
    await waitFor(() => workloads.every((w) => sim.apps.logins({ workload: `${APPS}/${w}` }).some((l) => l.ok)), 'every application logged in');
    return { email, initial, secret, workloads };
  }

  const secretPassword = (secret: string) => {
    const s = sim.store.get('secrets', APPS, secret) as { data?: Record<string, string> } | undefined;
    return Buffer.from(s?.data?.password ?? '', 'base64').toString('utf8');
  };
  const userJournals = () => sim.store.list('secrets', NS).filter((s) => s.metadata.name.startsWith(`${REC}-reccred-journal`));
  const run = (args: string[]) => reccred(sim, ['-n', NS, ...args]);

  /** Every pod of every workload runs with `password` and started after `since`; none of the applications saw a failed login since `from`. */
  function assertMoved(workloads: string[], password: string, from: number): void {
    for (const w of workloads) {
      const pods = sim.apps.pods(`${APPS}/${w}`);
      assert.ok(pods.length > 0, `${w} has pods`);
      for (const p of pods) assert.equal(sim.apps.credentials(APPS, p.metadata.name)?.password, password, `${w} pod ${p.metadata.name} uses it`);
    }
    assert.deepEqual(
      workloads.flatMap((w) => sim.apps.failedLogins(`${APPS}/${w}`, { since: from }).map((l) => `${l.workload} ${l.pod} ${l.reason ?? ''}`)),
      [],
      'no application saw a failed login',
    );
  }

  it('--finish: the consumers found (env, envFrom, a volume) restarted and rolled out, then the old password deleted; no application saw a failed login', async () => {
    const { email, initial, secret, workloads } = await setUp();
    const started = Date.now();
    const before = new Map(workloads.map((w) => [w, sim.apps.pods(`${APPS}/${w}`).map((p) => p.metadata.name)]));
    const r = await run(['user', 'rotate', REC, '--user', email, '--to-secret', `${APPS}/${secret}`, '--finish', '-o', 'json', ...FAST]);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { consumers?: { workload: string; reads: string[]; state: string }[] };
    assert.deepEqual(
      (result.consumers ?? []).map((c) => [c.workload, c.reads.join('+'), c.state]),
      [
        [workloads[0], 'env', 'rolled-out'],
        [workloads[1], 'envFrom', 'rolled-out'],
        [workloads[2], 'volume', 'rolled-out'],
      ],
    );
    const now = secretPassword(secret);
    assert.notEqual(now, initial);
    assert.deepEqual(validPasswords(sim, REC, email), [now], 'the cluster accepts only the new password');
    for (const w of workloads) {
      const old = before.get(w) ?? [];
      for (const p of sim.apps.pods(`${APPS}/${w}`)) assert.ok(!old.includes(p.metadata.name) || w.startsWith('statefulset/'), `${w}: pod ${p.metadata.name} is new`);
    }
    assertMoved(workloads, now, started);
    assert.deepEqual(userJournals(), [], 'no journal is left');
  });

  it('a rollout made to fail: exit 3 naming the workload and what its pods report, both passwords valid; abort leaves the old password, the Secret holding it, no failed login', async () => {
    const { email, initial, secret, workloads } = await setUp();
    const started = Date.now();
    sim.apps.setRolloutFailure(`${APPS}/${workloads[0]!}`, 'crash-loop');
    const r = await run(['user', 'rotate', REC, '--user', email, '--to-secret', `${APPS}/${secret}`, '--finish', '--settle', '2s', '--rollout-timeout', '6s']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, new RegExp(`${workloads[0]!}.*did not complete within 6s`));
    assert.match(r.stderr, /CrashLoopBackOff/);
    assert.match(r.stderr, /both passwords are still valid/);
    assert.equal(validPasswords(sim, REC, email).length, 2, 'both passwords valid');
    sim.apps.setRolloutFailure(`${APPS}/${workloads[0]!}`, undefined);
    const a = await run(['user', 'abort', REC, '--user', email, '--to-secret', `${APPS}/${secret}`, ...FAST]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(secretPassword(secret), initial, 'the Secret holds the old password again');
    assert.deepEqual(validPasswords(sim, REC, email), [initial], 'only the old password is valid');
    await waitFor(() => workloads.every((w) => sim.apps.settled(`${APPS}/${w}`)), 'the workloads settled');
    assertMoved(workloads, initial, started);
    assert.deepEqual(userJournals(), [], 'no journal is left');
  });

  /** Where a run is killed: the journal's marks and the Secret's update. */
  const KILL_POINTS: { name: string; when: (e: KillEvent) => boolean }[] = [
    { name: 'once the new password is added', when: (e) => userJournalPhaseOf(e) === 'added' },
    { name: 'once the Secret holds the new password', when: (e) => userJournalPhaseOf(e) === 'stored' },
    { name: 'once the restarts are journaled', when: (e) => journalField(e, 'consumersRestartedAt') },
    { name: 'once the rollouts completed', when: (e) => journalField(e, 'consumersRolledOutAt') },
  ];
  /** The user journal (`<rec>-reccred-journal-user-<uid>`) a store event carries. */
  const userJournal = (e: KillEvent): Record<string, unknown> | undefined => {
    if (!e.store || e.store.resource !== 'secrets' || e.store.type === 'DELETED' || !e.store.object.metadata.name.startsWith(`${REC}-reccred-journal-user-`)) return undefined;
    const data = (e.store.object as { data?: Record<string, string> }).data?.['journal.json'];
    return data ? (JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as Record<string, unknown>) : undefined;
  };
  const journalField = (e: KillEvent, field: string): boolean => userJournal(e)?.[field] !== undefined;
  const userJournalPhaseOf = (e: KillEvent): unknown => userJournal(e)?.['phase'];

  const KILLS = KILL_POINTS.flatMap((point) => (['finish', 'abort'] as const).map((direction) => ({ point, direction })));
  for (const { point, direction } of spread('kills of user rotate --finish', KILLS, 2, (k) => `killed ${k.point.name}, then ${k.direction}`)) {
    it(`killed ${point.name}, then user ${direction}: one password, the Secret holding it, every pod on it, no failed login`, async () => {
      const { email, initial, secret, workloads } = await setUp();
      const started = Date.now();
      const { result } = startReccred(sim, ['-n', NS, 'user', 'rotate', REC, '--user', email, '--to-secret', `${APPS}/${secret}`, '--finish', ...FAST], { killWhen: point.when });
      const killed = await result;
      assert.equal(killed.signal, 'SIGKILL', `killed ${point.name}: ${killed.stderr}`);
      // Before the Secret held the new password there is nothing for finish to complete: the rotation itself resumes.
      const resume = direction === 'finish' && point.name === 'once the new password is added';
      const r = await run(
        resume
          ? ['user', 'rotate', REC, '--user', email, '--to-secret', `${APPS}/${secret}`, '--finish', ...FAST]
          : ['user', direction, REC, '--user', email, '--rollout-timeout', '60s', ...(direction === 'abort' ? ['--settle', '2s'] : [])],
      );
      assert.equal(r.code, 0, r.stderr);
      const want = direction === 'finish' ? secretPassword(secret) : initial;
      if (direction === 'finish') assert.notEqual(want, initial);
      assert.equal(secretPassword(secret), want);
      assert.deepEqual(validPasswords(sim, REC, email), [want]);
      await waitFor(() => workloads.every((w) => sim.apps.settled(`${APPS}/${w}`)), 'the workloads settled');
      assertMoved(workloads, want, started);
      assert.deepEqual(userJournals(), [], 'no journal is left');
    });
  }
});
