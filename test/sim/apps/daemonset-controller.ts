// The DaemonSet controller (kubernetes/kubernetes pkg/controller/daemon/daemon_controller.go manage and
// updateDaemonSetStatus; daemon/update.go rollingUpdate): one pod per node, labelled controller-revision-hash and
// pod-template-generation; RollingUpdate with maxSurge 0 deletes old pods within maxUnavailable (unavailable old
// pods first, every unavailable new pod counting against it) and the next pass creates the new pod on the freed
// node; with maxSurge > 0 the new pod starts beside the old one, which goes once the new one is available; OnDelete
// replaces none. Nodes are the simulator's (AppsOptions.nodes), all schedulable.
import type { KubeObject, KubeStore } from '../kube/store.js';
import type { AppKubelet } from './app-kubelet.js';
import { syncRevisions, truncateHistory } from './controller-history.js';
import { omitZero } from './replicaset-controller.js';
import { controllerRef, get, isPodActive, isPodAvailable, isPodReady, num, owned, scaledValue, writeStatus, type Obj } from './workloads.js';

const HASH_LABEL = 'controller-revision-hash';

export class DaemonSetController {
  constructor(private readonly ctx: { store: KubeStore; kubelet: AppKubelet; nodes: () => string[] }) {}

  sync(now: number): void {
    for (const ds of this.ctx.store.list('daemonsets')) this.syncOne(ds, now);
  }

  private syncOne(ds: KubeObject, now: number): void {
    const { store, kubelet } = this.ctx;
    const ns = ds.metadata.namespace ?? '';
    const nodes = this.ctx.nodes();
    const { podHash: hash, all } = syncRevisions(store, ds, 'daemonset');
    const minReadySeconds = num(get(ds, 'spec', 'minReadySeconds'));
    const available = (p: KubeObject) => isPodAvailable(p, minReadySeconds, now);
    const podsByNode = () => {
      const m = new Map<string, KubeObject[]>(nodes.map((n) => [n, []]));
      for (const p of owned(store, 'pods', ds)) {
        const node = String(get(p, 'spec', 'nodeName') ?? '');
        if (!isPodActive(p)) kubelet.delete(ns, p.metadata.name);
        else if (!m.has(node)) kubelet.delete(ns, p.metadata.name);
        else m.get(node)!.push(p);
      }
      return m;
    };
    const create = (node: string) =>
      kubelet.create({
        namespace: ns,
        name: `${ds.metadata.name}-`,
        generateName: true,
        template: (get(ds, 'spec', 'template') ?? {}) as Obj,
        labels: { [HASH_LABEL]: hash, 'pod-template-generation': String(num(ds.metadata['generation'], 1)) },
        owner: controllerRef(ds),
        workload: { kind: 'daemonset', namespace: ns, name: ds.metadata.name },
        node,
      });
    const isNew = (p: KubeObject) => p.metadata.labels?.[HASH_LABEL] === hash;

    // manage: a pod on every node lacking one (of the current template); surplus pods removed, the oldest kept.
    const byNode = podsByNode();
    for (const [node, pods] of byNode) {
      if (pods.length === 0) create(node);
      else if (pods.length > 1 && !(pods.length === 2 && pods.some(isNew) && pods.some((p) => !isNew(p)))) {
        const sorted = [...pods].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
        for (const p of sorted.slice(1)) kubelet.delete(ns, p.metadata.name);
      }
    }

    if (get(ds, 'spec', 'updateStrategy', 'type') === 'RollingUpdate') {
      const desired = nodes.length;
      const surge = scaledValue(get(ds, 'spec', 'updateStrategy', 'rollingUpdate', 'maxSurge'), desired, true);
      let maxUnavailable = scaledValue(get(ds, 'spec', 'updateStrategy', 'rollingUpdate', 'maxUnavailable'), desired, true);
      if (surge === 0 && maxUnavailable === 0) maxUnavailable = 1;
      const current = podsByNode();
      if (surge === 0) {
        let unavailable = 0;
        const replace: KubeObject[] = [];
        const candidates: KubeObject[] = [];
        for (const pods of current.values()) {
          const newPod = pods.find(isNew);
          const oldPod = pods.find((p) => !isNew(p));
          if ((!newPod && !oldPod) || (newPod && oldPod)) unavailable += 1;
          else if (newPod) {
            if (!available(newPod)) unavailable += 1;
          } else if (!available(oldPod!)) replace.push(oldPod!);
          else if (unavailable < maxUnavailable) candidates.push(oldPod!);
        }
        const budget = Math.min(Math.max(0, maxUnavailable - unavailable), candidates.length);
        for (const p of [...replace, ...candidates.slice(0, budget)]) kubelet.delete(ns, p.metadata.name);
      } else {
        let surged = 0;
        const allowed: string[] = [];
        const candidates: string[] = [];
        const oldToDelete: KubeObject[] = [];
        for (const [node, pods] of current) {
          const newPod = pods.find(isNew);
          const oldPod = pods.find((p) => !isNew(p));
          if (!oldPod) continue;
          if (!newPod) {
            if (!available(oldPod)) allowed.push(node);
            else if (surged < surge) candidates.push(node);
          } else if (!available(newPod)) surged += 1;
          else oldToDelete.push(oldPod);
        }
        for (const p of oldToDelete) kubelet.delete(ns, p.metadata.name);
        for (const node of [...allowed, ...candidates.slice(0, Math.max(0, surge - surged))]) create(node);
      }
    }

    // updateDaemonSetStatus: each node counts by its oldest pod.
    const final = podsByNode();
    const oldest = [...final.values()]
      .filter((p) => p.length > 0)
      .map(
        (p) => [...p].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || a.metadata.name.localeCompare(b.metadata.name))[0]!,
      );
    const numberAvailable = oldest.filter((p) => isPodReady(p) && available(p)).length;
    writeStatus(
      store,
      'daemonsets',
      ds,
      omitZero(
        {
          currentNumberScheduled: oldest.length,
          numberMisscheduled: 0,
          desiredNumberScheduled: nodes.length,
          numberReady: oldest.filter(isPodReady).length,
          observedGeneration: num(ds.metadata['generation'], 1),
          updatedNumberScheduled: oldest.filter(isNew).length,
          numberAvailable,
          numberUnavailable: nodes.length - numberAvailable,
        },
        ['observedGeneration', 'updatedNumberScheduled', 'numberAvailable', 'numberUnavailable'],
      ),
    );
    const pods = [...final.values()].flat();
    truncateHistory(store, ds, all, new Set(pods.map((p) => `${ds.metadata.name}-${p.metadata.labels?.[HASH_LABEL] ?? ''}`).concat(`${ds.metadata.name}-${hash}`)));
  }
}
