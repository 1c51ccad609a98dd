// The consumers of an application Secret: which pod templates read it, which restarts would leave a pod on the old
// password, and rollout completion by kubectl's own rules (kubernetes/kubectl pkg/polymorphichelpers/
// rollout_status_test.go: its cases, ported).
import assert from 'node:assert/strict';
import { parseConsumers } from '../../src/procedures/consumer-rollout.js';
import { readsSecret, restartGap, rolloutStatus, WorkloadSchema, type Workload } from '../../src/kube/workloads.js';

const workload = (o: { generation?: number; spec?: Record<string, unknown>; status?: Record<string, unknown> }): Workload =>
  WorkloadSchema.parse({ metadata: { name: 'foo', generation: o.generation ?? 1 }, spec: o.spec ?? {}, status: o.status ?? {} });

describe('workloads that read a Secret, and their rollouts (unit)', () => {
  describe('readsSecret: every way a pod template reads it', () => {
    const template = (spec: Record<string, unknown>) => workload({ spec: { template: { spec } } });
    it('env valueFrom.secretKeyRef, in a container or an init container', () => {
      assert.deepEqual(readsSecret(template({ containers: [{ env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'app', key: 'password' } } }] }] }), 'app'), ['env']);
      assert.deepEqual(readsSecret(template({ initContainers: [{ env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'app' } } }] }] }), 'app'), ['env']);
    });
    it('envFrom secretRef', () => assert.deepEqual(readsSecret(template({ containers: [{ envFrom: [{ secretRef: { name: 'app' } }] }] }), 'app'), ['envFrom']));
    it('a secret volume and a projected one', () => {
      assert.deepEqual(readsSecret(template({ volumes: [{ name: 'v', secret: { secretName: 'app' } }] }), 'app'), ['volume']);
      assert.deepEqual(readsSecret(template({ volumes: [{ name: 'v', projected: { sources: [{ configMap: { name: 'x' } }, { secret: { name: 'app' } }] } }] }), 'app'), [
        'projected volume',
      ]);
    });
    it('another Secret, a ConfigMap of the same name, or no template: not a consumer', () => {
      assert.deepEqual(
        readsSecret(template({ containers: [{ env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'other' } } }], envFrom: [{ configMapRef: { name: 'app' } }] }] }), 'app'),
        [],
      );
      assert.deepEqual(readsSecret(workload({}), 'app'), []);
    });
  });

  describe('restartGap: a restart that would leave pods on the old password', () => {
    it('a paused Deployment (kubectl refuses to restart it)', () => assert.match(restartGap('deployment', workload({ spec: { paused: true } })) ?? '', /paused/));
    it('OnDelete StatefulSets and DaemonSets', () => {
      assert.match(restartGap('statefulset', workload({ spec: { updateStrategy: { type: 'OnDelete' } } })) ?? '', /OnDelete/);
      assert.match(restartGap('daemonset', workload({ spec: { updateStrategy: { type: 'OnDelete' } } })) ?? '', /OnDelete/);
    });
    it('a StatefulSet partition above 0', () =>
      assert.match(restartGap('statefulset', workload({ spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } } })) ?? '', /partition is 2/));
    it('the defaults restart every pod', () => {
      assert.equal(restartGap('deployment', workload({})), undefined);
      assert.equal(restartGap('statefulset', workload({ spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } } } })), undefined);
      assert.equal(restartGap('daemonset', workload({ spec: { updateStrategy: { type: 'RollingUpdate' } } })), undefined);
    });
  });

  describe("rolloutStatus: kubectl's DeploymentStatusViewer cases", () => {
    const cases: [string, number, number, Record<string, number>, boolean, RegExp][] = [
      ['test1', 0, 1, { observedGeneration: 1, replicas: 1, updatedReplicas: 0, availableReplicas: 1 }, false, /0 out of 1 new replicas/],
      ['test2', 1, 1, { observedGeneration: 1, replicas: 2, updatedReplicas: 1, availableReplicas: 2 }, false, /1 old replicas are pending termination/],
      ['test3', 1, 2, { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 1 }, false, /1 of 2 updated replicas are available/],
      ['test4', 1, 2, { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }, true, /successfully rolled out/],
      ['test5', 2, 2, { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }, false, /spec update to be observed/],
    ];
    for (const [name, generation, replicas, status, done, message] of cases) {
      it(name, () => {
        const s = rolloutStatus('deployment', workload({ generation, spec: { replicas }, status }));
        assert.equal(s.done, done);
        assert.match(s.message, message);
      });
    }
    it('a Progressing condition with reason ProgressDeadlineExceeded: failed, as kubectl gives up', () => {
      const s = rolloutStatus(
        'deployment',
        workload({ spec: { replicas: 1 }, status: { observedGeneration: 1, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] } }),
      );
      assert.deepEqual([s.done, s.failed], [false, true]);
    });
  });

  describe("rolloutStatus: kubectl's DaemonSetStatusViewer cases", () => {
    const cases: [string, number, Record<string, number>, boolean][] = [
      ['test1', 0, { observedGeneration: 1, updatedNumberScheduled: 0, desiredNumberScheduled: 1, numberAvailable: 0 }, false],
      ['test2', 1, { observedGeneration: 1, updatedNumberScheduled: 2, desiredNumberScheduled: 2, numberAvailable: 1 }, false],
      ['test3', 1, { observedGeneration: 1, updatedNumberScheduled: 2, desiredNumberScheduled: 2, numberAvailable: 2 }, true],
      ['test4', 2, { observedGeneration: 1, updatedNumberScheduled: 2, desiredNumberScheduled: 2, numberAvailable: 2 }, false],
    ];
    for (const [name, generation, status, done] of cases) it(name, () => assert.equal(rolloutStatus('daemonset', workload({ generation, status })).done, done));
  });

  describe("rolloutStatus: kubectl's StatefulSetStatusViewer cases", () => {
    const rolling = (partition?: number) => ({ type: 'RollingUpdate', ...(partition === undefined ? {} : { rollingUpdate: { partition } }) });
    const cases: [string, number, Record<string, unknown>, Record<string, unknown>, boolean][] = [
      [
        'unobserved update is not complete',
        2,
        { replicas: 3, updateStrategy: rolling() },
        { observedGeneration: 1, replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 0 },
        false,
      ],
      [
        'if all pods are not ready the update is not complete',
        1,
        { replicas: 3, updateStrategy: rolling() },
        { observedGeneration: 1, replicas: 3, readyReplicas: 2, currentReplicas: 3 },
        false,
      ],
      [
        'partition update completes when all replicas above the partition are updated',
        1,
        { replicas: 3, updateStrategy: rolling(2) },
        { observedGeneration: 1, replicas: 3, readyReplicas: 3, currentReplicas: 2, updatedReplicas: 1 },
        true,
      ],
      [
        'partition update is in progress if all pods above the partition have not been updated',
        1,
        { replicas: 3, updateStrategy: rolling(1) },
        { observedGeneration: 1, replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 0 },
        false,
      ],
      [
        'update completes when all replicas are current',
        1,
        { replicas: 3, updateStrategy: rolling() },
        { observedGeneration: 1, replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3, currentRevision: 'foo', updateRevision: 'foo' },
        true,
      ],
      [
        'a rolling update in progress (revisions differ)',
        1,
        { replicas: 3, updateStrategy: rolling() },
        { observedGeneration: 1, replicas: 3, readyReplicas: 3, currentReplicas: 2, updatedReplicas: 1, currentRevision: 'foo', updateRevision: 'bar' },
        false,
      ],
    ];
    for (const [name, generation, spec, status, done] of cases) it(name, () => assert.equal(rolloutStatus('statefulset', workload({ generation, spec, status })).done, done));
  });

  describe('--consumers', () => {
    it("kubectl's TYPE/NAME with short names and the apps group", () =>
      assert.deepEqual(parseConsumers('deployment/app, sts/worker,daemonsets.apps/agent,deploy/b'), [
        { kind: 'deployment', name: 'app' },
        { kind: 'statefulset', name: 'worker' },
        { kind: 'daemonset', name: 'agent' },
        { kind: 'deployment', name: 'b' },
      ]));
    it('anything else is a usage error (exit 2)', () => {
      for (const bad of ['app', 'pod/app', 'deployment/', 'deployment/a/b'])
        assert.throws(
          () => parseConsumers(bad),
          (e: { exitCode?: number }) => e.exitCode === 2,
          bad,
        );
    });
  });
});
