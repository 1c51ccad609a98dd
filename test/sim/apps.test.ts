// The simulated apps/v1 workloads against the real kubectl 1.33: `kubectl rollout restart` and `kubectl rollout status`
// on Deployments, StatefulSets (with and without a partition) and DaemonSets, the rollout-failure switch as kubectl and
// the pods report it, and the simulated applications' logins: env-fed ones keep their password until restarted,
// volume-fed ones follow the Secret after the kubelet's lag, and every refused login is counted.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomPassword, startSimCluster, type SimCluster } from './cluster.js';
import { kubectlBinary, runProcess, type ProcessResult } from './kube/api-fixture.js';
import type { KubeObject } from './kube/store.js';

const KUBECTL = kubectlBinary('1.33');
const NS = 'default';
const SYNC_DELAY_MS = 800;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

type Source = 'env' | 'envFrom' | 'volume' | 'projected';

/** A pod template whose one container reads the Secret `secret` the given way. */
function template(app: string, secret: string, source: Source, extra: Record<string, unknown> = {}) {
  const container: Record<string, unknown> = { name: 'app', image: `registry.example/${app}:1.0`, ...extra };
  const volumes: unknown[] = [];
  if (source === 'env') {
    container['env'] = [
      { name: 'REDIS_USER', valueFrom: { secretKeyRef: { name: secret, key: 'username' } } },
      { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: secret, key: 'password' } } },
    ];
  } else if (source === 'envFrom') {
    container['envFrom'] = [{ secretRef: { name: secret } }];
  } else {
    container['volumeMounts'] = [{ name: 'creds', mountPath: '/etc/redis', readOnly: true }];
    volumes.push(source === 'volume' ? { name: 'creds', secret: { secretName: secret } } : { name: 'creds', projected: { sources: [{ secret: { name: secret } }] } });
  }
  return { metadata: { labels: { app } }, spec: { containers: [container], ...(volumes.length ? { volumes } : {}) } };
}

function workload(name: string, spec: Record<string, unknown>, tpl: ReturnType<typeof template>): KubeObject {
  return { apiVersion: 'apps/v1', kind: '', metadata: { name, namespace: NS }, spec: { selector: { matchLabels: { app: name } }, ...spec, template: tpl } };
}

describe('Simulated apps/v1 workloads, rollouts and applications (kubectl 1.33)', function () {
  this.timeout(60_000);
  let sim: SimCluster;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sim-apps-'));
    sim = await startSimCluster({
      recs: [{ name: 'rec', pods: 1 }],
      syncDelayMs: SYNC_DELAY_MS,
      // Failed logins are counted here, never turned into a lock that would hide which workload failed.
      redis: { lockout: { threshold: 0 } },
      apps: { readyDelayMs: 150, loginIntervalMs: 100, crashBackoffMs: 200 },
    });
  });

  after(async () => {
    await sim?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const kubectl = (args: string[], input?: string): Promise<ProcessResult> =>
    runProcess(KUBECTL, ['--kubeconfig', sim.kubeconfig, '--cache-dir', join(dir, 'cache'), '-n', NS, ...args], {
      env: { ...process.env, KUBECONFIG: '' },
      ...(input === undefined ? {} : { input }),
    });
  async function ok(args: string[]): Promise<string> {
    const r = await kubectl(args);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  /** A database user whose password the Secret `name` holds; returns its rotation helpers. */
  function appUser(name: string) {
    const email = `${name}@example.com`;
    const old = randomPassword();
    const user = sim.redis('rec').createUser({ email, password: old, role: 'db_member' });
    sim.store.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS }, type: 'Opaque', data: { username: b64(email), password: b64(old) } });
    return {
      email,
      old,
      /** rotate-user-passwords.md's first step and the Secret update: both passwords valid, the Secret holding the new one. */
      rotate(): string {
        const fresh = randomPassword();
        sim.redis('rec').addPassword(user.uid, fresh);
        const s = sim.store.mustGet('secrets', NS, name);
        sim.store.update('secrets', { ...s, metadata: { ...s.metadata, resourceVersion: undefined }, data: { username: b64(email), password: b64(fresh) } });
        return fresh;
      },
      deleteOld: () => sim.redis('rec').deletePassword(user.uid, old),
    };
  }

  const uids = (w: string) => new Set(sim.apps.pods(w).map((p) => p.metadata.uid));
  const passwords = (w: string) => sim.apps.pods(w).map((p) => sim.apps.credentials(NS, p.metadata.name)?.password);

  it('serves apps/v1 as kubectl discovers it, with the API server defaults kubectl relies on', async () => {
    const resources = await ok(['api-resources', '--api-group=apps', '--no-headers']);
    for (const [name, short, kind] of [
      ['deployments', 'deploy', 'Deployment'],
      ['statefulsets', 'sts', 'StatefulSet'],
      ['daemonsets', 'ds', 'DaemonSet'],
      ['replicasets', 'rs', 'ReplicaSet'],
    ]) {
      assert.match(resources, new RegExp(`^${name}\\s+${short}\\s+apps/v1\\s+true\\s+${kind}$`, 'm'));
    }
    assert.match(resources, /^controllerrevisions\s+apps\/v1\s+true\s+ControllerRevision$/m);
    // Created through kubectl: the server fills the defaults (pkg/apis/apps/v1/defaults.go). (`kubectl create -f`
    // sends JSON, where `kubectl create deployment` would send protobuf; the simulated server decodes neither protobuf
    // nor serves the OpenAPI documents client-side validation downloads.)
    const manifest = {
      ...workload('plain', { replicas: 2 }, { metadata: { labels: { app: 'plain' } }, spec: { containers: [{ name: 'plain', image: 'registry.example/plain:1.0' }] } }),
      kind: 'Deployment',
    };
    const created = await kubectl(['create', '--validate=false', '-f', '-'], JSON.stringify(manifest));
    assert.equal(created.code, 0, created.stderr);
    const d = sim.store.mustGet('deployments', NS, 'plain');
    assert.deepEqual(d['spec'] && (d['spec'] as { strategy: unknown }).strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
    assert.equal((d['spec'] as { progressDeadlineSeconds: number }).progressDeadlineSeconds, 600);
    assert.match(await ok(['rollout', 'status', 'deployment/plain', '--timeout=20s']), /deployment "plain" successfully rolled out/);
    const rs = sim.store.list('replicasets', NS).filter((x) => x.metadata.name.startsWith('plain-'));
    assert.equal(rs.length, 1);
    assert.equal(rs[0]!.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
    assert.match(await ok(['get', 'rs', '-l', 'app=plain', '-o', 'name']), /^replicaset\.apps\/plain-[a-z0-9]+$/m);
    const pods = sim.apps.pods('deployment/plain');
    assert.equal(pods.length, 2);
    for (const p of pods) assert.equal(p.metadata.labels?.['pod-template-hash'], rs[0]!.metadata.labels?.['pod-template-hash']);
  });

  it('Deployment: rollout restart, then rollout status succeeds; every pod is new and reads the new Secret value', async () => {
    const u = appUser('web-secret');
    sim.apps.create('Deployment', workload('web', { replicas: 3 }, template('web', 'web-secret', 'envFrom')));
    await sim.apps.waitForSettled('deployment/web');
    const before = uids('deployment/web');
    assert.deepEqual(passwords('deployment/web'), [u.old, u.old, u.old]);
    const fresh = u.rotate();
    const since = Date.now();
    assert.match(await ok(['rollout', 'restart', 'deployment/web']), /deployment\.apps\/web restarted/);
    const status = await ok(['rollout', 'status', 'deployment/web', '--timeout=30s']);
    assert.match(status, /deployment "web" successfully rolled out/);
    const after = uids('deployment/web');
    assert.equal(after.size, 3);
    for (const uid of after) assert.ok(!before.has(uid), 'every pod is new');
    assert.deepEqual(passwords('deployment/web'), [fresh, fresh, fresh]);
    const d = sim.store.mustGet('deployments', NS, 'web');
    assert.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
    const progressing = ((d['status'] as { conditions: { type: string; reason: string }[] }).conditions ?? []).find((c) => c.type === 'Progressing');
    assert.equal(progressing?.reason, 'NewReplicaSetAvailable');
    assert.equal(sim.store.list('replicasets', NS).filter((x) => x.metadata.name.startsWith('web-')).length, 2, 'the old ReplicaSet is kept, scaled to 0');
    assert.deepEqual(sim.apps.failedLogins('deployment/web', { since }), [], 'both passwords work during the rollout');
  });

  it('StatefulSet: rollout restart replaces the pods from the highest ordinal down; rollout status says the roll out is complete', async () => {
    const u = appUser('db-secret');
    sim.apps.create('StatefulSet', workload('db', { replicas: 3, serviceName: 'db' }, template('db', 'db-secret', 'env')));
    await sim.apps.waitForSettled('statefulset/db');
    const before = uids('statefulset/db');
    const fresh = u.rotate();
    const created: string[] = [];
    const off = sim.store.onChange((e) => {
      if (e.resource === 'pods' && e.type === 'ADDED' && e.object.metadata.name.startsWith('db-')) created.push(e.object.metadata.name);
    });
    try {
      await ok(['rollout', 'restart', 'statefulset/db']);
      // The default updateStrategy has rollingUpdate.partition 0, so kubectl reports a partitioned roll out.
      assert.match(await ok(['rollout', 'status', 'statefulset/db', '--timeout=30s']), /partitioned roll out complete: 3 new pods have been updated/);
    } finally {
      off();
    }
    assert.deepEqual(created, ['db-2', 'db-1', 'db-0']);
    for (const uid of uids('statefulset/db')) assert.ok(!before.has(uid), 'every pod is new');
    assert.deepEqual(passwords('statefulset/db'), [fresh, fresh, fresh]);
    const status = sim.store.mustGet('statefulsets', NS, 'db')['status'] as { currentRevision: string; updateRevision: string; updatedReplicas: number };
    assert.equal(status.currentRevision, status.updateRevision);
    assert.equal(status.updatedReplicas, 3);
  });

  it('StatefulSet with partition 2: only ordinals >= 2 are updated, and rollout status calls that complete', async () => {
    const u = appUser('queue-secret');
    sim.apps.create(
      'StatefulSet',
      workload(
        'queue',
        { replicas: 3, serviceName: 'queue', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } },
        template('queue', 'queue-secret', 'env'),
      ),
    );
    await sim.apps.waitForSettled('statefulset/queue');
    const before = new Map(sim.apps.pods('statefulset/queue').map((p) => [p.metadata.name, p.metadata.uid]));
    const fresh = u.rotate();
    await ok(['rollout', 'restart', 'statefulset/queue']);
    assert.match(await ok(['rollout', 'status', 'statefulset/queue', '--timeout=30s']), /partitioned roll out complete: 1 new pods have been updated/);
    const after = new Map(sim.apps.pods('statefulset/queue').map((p) => [p.metadata.name, p.metadata.uid]));
    assert.equal(after.get('queue-0'), before.get('queue-0'));
    assert.equal(after.get('queue-1'), before.get('queue-1'));
    assert.notEqual(after.get('queue-2'), before.get('queue-2'));
    assert.deepEqual(passwords('statefulset/queue'), [u.old, u.old, fresh], 'the pods below the partition keep the old password');
    const status = sim.store.mustGet('statefulsets', NS, 'queue')['status'] as {
      currentRevision: string;
      updateRevision: string;
      currentReplicas: number;
      updatedReplicas: number;
    };
    assert.notEqual(status.currentRevision, status.updateRevision);
    assert.equal(status.currentReplicas, 2);
    assert.equal(status.updatedReplicas, 1);
  });

  it('DaemonSet: one pod per node; rollout restart and rollout status; every pod new, reading the new value', async () => {
    const u = appUser('agent-secret');
    sim.apps.create('DaemonSet', workload('agent', {}, template('agent', 'agent-secret', 'projected')));
    await sim.apps.waitForSettled('daemonset/agent');
    assert.deepEqual(
      sim.apps
        .pods('daemonset/agent')
        .map((p) => (p['spec'] as { nodeName: string }).nodeName)
        .sort(),
      sim.apps.nodes,
    );
    const before = uids('daemonset/agent');
    const fresh = u.rotate();
    await ok(['rollout', 'restart', 'daemonset/agent']);
    assert.match(await ok(['rollout', 'status', 'daemonset/agent', '--timeout=30s']), /daemon set "agent" successfully rolled out/);
    const after = uids('daemonset/agent');
    assert.equal(after.size, sim.apps.nodes.length);
    for (const uid of after) assert.ok(!before.has(uid), 'every pod is new');
    assert.deepEqual(
      passwords('daemonset/agent'),
      sim.apps.nodes.map(() => fresh),
    );
  });

  it('the rollout-failure switch: rollout status --timeout=5s fails, the new pods report why, the old ones keep running', async () => {
    appUser('fail-secret');
    sim.apps.create('Deployment', workload('crashy', { replicas: 2 }, template('crashy', 'fail-secret', 'env')));
    sim.apps.create('Deployment', workload('pully', { replicas: 2, progressDeadlineSeconds: 2 }, template('pully', 'fail-secret', 'env')));
    sim.apps.create(
      'StatefulSet',
      workload('unready', { replicas: 2, serviceName: 'unready' }, template('unready', 'fail-secret', 'volume', { readinessProbe: { httpGet: { path: '/ready', port: 8080 } } })),
    );
    await Promise.all(['deployment/crashy', 'deployment/pully', 'statefulset/unready'].map((w) => sim.apps.waitForSettled(w)));
    const before = new Map(['deployment/crashy', 'deployment/pully', 'statefulset/unready'].map((w) => [w, uids(w)]));
    sim.apps.setRolloutFailure('deployment/crashy', 'crash-loop');
    sim.apps.setRolloutFailure('deployment/pully', 'image-pull');
    sim.apps.setRolloutFailure('statefulset/unready', 'readiness');
    await ok(['rollout', 'restart', 'deployment/crashy', 'deployment/pully', 'statefulset/unready']);
    const [crashy, pully, unready] = await Promise.all(
      ['deployment/crashy', 'deployment/pully', 'statefulset/unready'].map((w) => kubectl(['rollout', 'status', w, '--timeout=5s'])),
    );
    assert.notEqual(crashy!.code, 0);
    assert.match(crashy!.stderr, /timed out waiting for the condition/);
    assert.match(crashy!.stdout, /Waiting for deployment "crashy" rollout to finish: 1 out of 2 new replicas have been updated/);
    // progressDeadlineSeconds 2: the controller marks ProgressDeadlineExceeded and kubectl gives up on it.
    assert.notEqual(pully!.code, 0);
    assert.match(pully!.stderr, /deployment "pully" exceeded its progress deadline/);
    assert.notEqual(unready!.code, 0);
    assert.match(unready!.stdout, /Waiting for 1 pods to be ready/);

    const newPods = (w: string) => sim.apps.pods(w).filter((p) => !before.get(w)!.has(p.metadata.uid));
    const oldPods = (w: string) => sim.apps.pods(w).filter((p) => before.get(w)!.has(p.metadata.uid));
    type Status = {
      phase: string;
      conditions: { type: string; status: string; reason?: string; message?: string }[];
      containerStatuses: { ready: boolean; restartCount: number; state: { waiting?: { reason: string; message?: string } } }[];
    };
    const statusOf = (p: KubeObject) => p['status'] as Status;

    const crash = statusOf(newPods('deployment/crashy')[0]!);
    assert.equal(crash.phase, 'Running');
    assert.equal(crash.containerStatuses[0]!.state.waiting?.reason, 'CrashLoopBackOff');
    assert.match(crash.containerStatuses[0]!.state.waiting?.message ?? '', /^back-off \d+[ms0-9]* restarting failed container=app pod=crashy-/);
    assert.ok(crash.containerStatuses[0]!.restartCount >= 3, `restartCount climbs (${crash.containerStatuses[0]!.restartCount})`);
    const pull = statusOf(newPods('deployment/pully')[0]!);
    assert.equal(pull.phase, 'Pending');
    assert.deepEqual(pull.containerStatuses[0]!.state.waiting, { reason: 'ImagePullBackOff', message: 'Back-off pulling image "registry.example/pully:1.0"' });
    const progressing = ((sim.store.mustGet('deployments', NS, 'pully')['status'] as Status).conditions ?? []).find((c) => c.type === 'Progressing');
    assert.equal(progressing?.reason, 'ProgressDeadlineExceeded');
    const [probe] = newPods('statefulset/unready');
    assert.equal(probe!.metadata.name, 'unready-1', 'the highest ordinal is replaced first');
    const ready = statusOf(probe!).conditions.find((c) => c.type === 'Ready');
    assert.deepEqual([ready?.status, ready?.reason, ready?.message], ['False', 'ContainersNotReady', 'containers with unready status: [app]']);
    assert.ok(statusOf(probe!).containerStatuses[0]!.state.waiting === undefined, 'the container runs');
    // The kubelet reports the probe failure as an Event on the pod, which kubectl describe shows.
    const events = await ok(['get', 'events', '--field-selector', `involvedObject.name=${probe!.metadata.name}`, '-o', 'custom-columns=REASON:.reason,MESSAGE:.message']);
    assert.match(events, /Unhealthy\s+Readiness probe failed: HTTP probe failed with statuscode: 503/);

    for (const w of ['deployment/crashy', 'deployment/pully', 'statefulset/unready']) {
      const old = oldPods(w);
      assert.ok(old.length >= 1, `${w}: old pods are left running`);
      for (const p of old) assert.equal(statusOf(p).conditions.find((c) => c.type === 'Ready')?.status, 'True', `${w}: ${p.metadata.name} stays Ready`);
    }
    // Switched off: the next restart's pods are healthy. The Deployment moves on by itself; the StatefulSet waits for
    // its broken pod until it is deleted (statefulset.md, "Forced rollback").
    for (const w of ['deployment/crashy', 'deployment/pully', 'statefulset/unready']) sim.apps.setRolloutFailure(w, undefined);
    await ok(['rollout', 'restart', 'deployment/crashy', 'statefulset/unready']);
    await ok(['rollout', 'status', 'deployment/crashy', '--timeout=20s']);
    assert.equal(sim.apps.pods('deployment/crashy').length, 2);
    await sleep(500);
    assert.equal(sim.apps.pods('statefulset/unready').find((p) => p.metadata.name === 'unready-1')?.metadata.uid, probe!.metadata.uid, 'the broken pod is left as it is');
    sim.apps.deletePod(NS, 'unready-1');
    await ok(['rollout', 'status', 'statefulset/unready', '--timeout=20s']);
  });

  it('applications: env keeps the old password until restarted and fails once it is deleted (counted); a volume follows after the lag', async () => {
    const u = appUser('shared-secret');
    sim.apps.create('Deployment', workload('env-app', { replicas: 2 }, template('env-app', 'shared-secret', 'env')));
    sim.apps.create('Deployment', workload('vol-app', { replicas: 1 }, template('vol-app', 'shared-secret', 'volume')));
    await sim.apps.waitForSettled('deployment/env-app');
    await sim.apps.waitForSettled('deployment/vol-app');
    const start = Date.now();
    await sleep(300);
    assert.ok(sim.apps.logins({ since: start, workload: 'deployment/env-app' }).length >= 4, 'each pod logs in continuously');
    assert.deepEqual(sim.apps.failedLogins(undefined, { since: start }), []);

    const fresh = u.rotate();
    const rotatedAt = Date.now();
    const [volPod] = sim.apps.pods('deployment/vol-app');
    await sleep(SYNC_DELAY_MS / 2);
    assert.equal(sim.apps.credentials(NS, volPod!.metadata.name)?.password, u.old, 'the volume lags behind the Secret');
    await waitFor('the volume to follow the Secret', () => sim.apps.credentials(NS, volPod!.metadata.name)?.password === fresh, 5000);
    assert.ok(Date.now() - rotatedAt >= SYNC_DELAY_MS - 50, 'not before the kubelet sync delay');
    assert.deepEqual(passwords('deployment/env-app'), [u.old, u.old], 'env-fed pods keep the password they started with');

    const failuresBefore = sim.redis('rec').failedAuthCount(u.email);
    u.deleteOld();
    const deletedAt = Date.now();
    await sleep(400);
    const envFailures = sim.apps.failedLogins('deployment/env-app', { since: deletedAt });
    assert.ok(envFailures.length >= 4, `the env-fed pods' logins fail (${envFailures.length})`);
    assert.deepEqual(new Set(envFailures.map((l) => l.reason)), new Set(['failed']));
    assert.deepEqual(sim.apps.failedLogins('deployment/vol-app', { since: deletedAt }), [], 'the volume-fed pod moved in time');
    // Each refused application login is a failed login of that user on the REC, as the lockout counts them.
    assert.equal(
      sim.redis('rec').failedAuthCount(u.email) - failuresBefore,
      sim.apps.failedLogins(undefined, { since: deletedAt - 1 }).filter((l) => l.username === u.email).length,
    );

    await ok(['rollout', 'restart', 'deployment/env-app']);
    await ok(['rollout', 'status', 'deployment/env-app', '--timeout=30s']);
    const restartedAt = Date.now();
    assert.deepEqual(passwords('deployment/env-app'), [fresh, fresh]);
    await sleep(300);
    assert.deepEqual(sim.apps.failedLogins('deployment/env-app', { since: restartedAt }), [], 'restarted pods log in with the new password');
  });
});
