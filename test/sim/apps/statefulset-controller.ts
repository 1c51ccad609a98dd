// The StatefulSet controller (kubernetes/kubernetes pkg/controller/statefulset/stateful_set_control.go
// updateStatefulSet, completeRollingUpdate; stateful_set_utils.go newVersionedStatefulSetPod): pods `<set>-<ordinal>`
// labelled with their revision; with OrderedReady (the default) one pod at a time, each Running and Ready before the
// next; RollingUpdate replaces pods from the highest ordinal down to updateStrategy.rollingUpdate.partition, one at a
// time, each healthy before the next; OnDelete replaces none; the status counts current, updated and ready pods, and
// currentRevision becomes updateRevision once every pod is updated and ready. As documented (kubernetes/website
// content/en/docs/concepts/workloads/controllers/statefulset.md, "Forced rollback"), a pod of a bad template that never
// becomes Running and Ready stops OrderedReady for good: reverting the template is not enough, the pod must be deleted.
import type { KubeObject, KubeStore } from '../kube/store.js';
import type { AppKubelet } from './app-kubelet.js';
import { revisionTemplate, syncRevisions, truncateHistory } from './controller-history.js';
import { omitZero } from './replicaset-controller.js';
import { controllerRef, get, isPodActive, isPodAvailable, isPodReady, num, owned, writeStatus, type Obj } from './workloads.js';

const REVISION_LABEL = 'controller-revision-hash';
const runningAndReady = (p: KubeObject) => get(p, 'status', 'phase') === 'Running' && isPodReady(p);

export class StatefulSetController {
  constructor(private readonly ctx: { store: KubeStore; kubelet: AppKubelet; nodes: () => string[] }) {}

  sync(now: number): void {
    for (const set of this.ctx.store.list('statefulsets')) this.syncOne(set, now);
  }

  private syncOne(set: KubeObject, now: number): void {
    const { store, kubelet } = this.ctx;
    const ns = set.metadata.namespace ?? '';
    const name = set.metadata.name;
    const replicas = num(get(set, 'spec', 'replicas'), 1);
    const { update, all } = syncRevisions(store, set, 'statefulset');
    const status = (set['status'] ?? {}) as Obj;
    const current = all.find((r) => r.metadata.name === status['currentRevision']) ?? update;
    const rollingUpdate = get(set, 'spec', 'updateStrategy', 'type') === 'RollingUpdate';
    const ru = get(set, 'spec', 'updateStrategy', 'rollingUpdate') as { partition?: number } | undefined;
    const partition = num(ru?.partition);
    const monotonic = get(set, 'spec', 'podManagementPolicy') !== 'Parallel';
    const ordinalOf = (p: KubeObject) => {
      const m = p.metadata.name.match(/-(\d+)$/);
      return m && p.metadata.name === `${name}-${m[1]}` ? Number(m[1]) : -1;
    };
    const pods = () => {
      const byOrdinal = new Map<number, KubeObject>();
      for (const p of owned(store, 'pods', set)) if (ordinalOf(p) >= 0) byOrdinal.set(ordinalOf(p), p);
      return byOrdinal;
    };
    const nodes = this.ctx.nodes();
    const create = (ordinal: number) => {
      // newVersionedStatefulSetPod: below the partition (or, without rollingUpdate, below currentReplicas) a pod
      // is made from the current revision, else from the update revision.
      const fromCurrent = rollingUpdate && (ru === undefined ? ordinal < num(status['currentReplicas']) : ordinal < partition);
      const revision = fromCurrent ? current : update;
      const podName = `${name}-${ordinal}`;
      kubelet.create({
        namespace: ns,
        name: podName,
        template: revisionTemplate(revision),
        labels: { [REVISION_LABEL]: revision.metadata.name, 'statefulset.kubernetes.io/pod-name': podName, 'apps.kubernetes.io/pod-index': String(ordinal) },
        owner: controllerRef(set),
        workload: { kind: 'statefulset', namespace: ns, name },
        node: nodes[ordinal % nodes.length]!,
        spec: { hostname: podName, ...(typeof get(set, 'spec', 'serviceName') === 'string' ? { subdomain: get(set, 'spec', 'serviceName') } : {}) },
      });
    };

    let halted = false;
    let byOrdinal = pods();
    // Failed pods are deleted and made again; missing ones created; with OrderedReady, one at a time.
    for (let i = 0; i < replicas && !halted; i++) {
      let p = byOrdinal.get(i);
      if (p && !isPodActive(p)) {
        kubelet.delete(ns, p.metadata.name);
        p = undefined;
      }
      if (!p) {
        create(i);
        if (monotonic) halted = true;
        continue;
      }
      if (monotonic && !runningAndReady(p)) halted = true;
    }
    // Ordinals beyond spec.replicas are removed from the highest down.
    if (!halted) {
      const condemned = [...byOrdinal.keys()].filter((o) => o >= replicas).sort((a, b) => b - a);
      for (const o of condemned) {
        kubelet.delete(ns, byOrdinal.get(o)!.metadata.name);
        if (monotonic) {
          halted = true;
          break;
        }
      }
    }
    // RollingUpdate: the highest ordinal not on the update revision is deleted (and made again next time); an
    // unhealthy updated pod stops the update.
    byOrdinal = pods();
    if (!halted && rollingUpdate) {
      for (let target = replicas - 1; target >= partition; target--) {
        const p = byOrdinal.get(target);
        if (!p) break;
        if (p.metadata.labels?.[REVISION_LABEL] !== update.metadata.name) {
          kubelet.delete(ns, p.metadata.name);
          break;
        }
        if (!runningAndReady(p)) break;
      }
    }

    byOrdinal = pods();
    const live = [...byOrdinal.values()];
    const minReadySeconds = num(get(set, 'spec', 'minReadySeconds'));
    const next: Obj = {
      observedGeneration: num(set.metadata['generation'], 1),
      replicas: live.length,
      readyReplicas: live.filter(runningAndReady).length,
      currentReplicas: live.filter((p) => p.metadata.labels?.[REVISION_LABEL] === current.metadata.name).length,
      updatedReplicas: live.filter((p) => p.metadata.labels?.[REVISION_LABEL] === update.metadata.name).length,
      currentRevision: current.metadata.name,
      updateRevision: update.metadata.name,
      collisionCount: num(status['collisionCount']),
      availableReplicas: live.filter((p) => runningAndReady(p) && isPodAvailable(p, minReadySeconds, now)).length,
    };
    // completeRollingUpdate.
    if (rollingUpdate && next['updatedReplicas'] === next['replicas'] && next['readyReplicas'] === next['replicas']) {
      next['currentReplicas'] = next['updatedReplicas'];
      next['currentRevision'] = next['updateRevision'];
    }
    writeStatus(store, 'statefulsets', set, omitZero(next, ['readyReplicas', 'currentReplicas', 'updatedReplicas']));
    const liveRevisions = new Set([String(next['currentRevision']), update.metadata.name, ...live.map((p) => p.metadata.labels?.[REVISION_LABEL] ?? '')]);
    truncateHistory(store, set, all, liveRevisions);
  }
}
