// The ReplicaSet controller (kubernetes/kubernetes pkg/controller/replicaset/replica_set.go, manageReplicas and
// replica_set_utils.go calculateStatus): as many active pods as spec.replicas, the surplus deleted in the order of
// pkg/controller/controller_utils.go ActivePods (not yet scheduled or running first, then not ready, then ready for
// the shortest time, then most restarted, then newest), and a status counting them.
import type { KubeObject, KubeStore } from '../kube/store.js';
import type { AppKubelet } from './app-kubelet.js';
import { conditionsOf, controllerOf, controllerRef, get, isPodActive, isPodAvailable, isPodReady, num, owned, writeStatus, type Obj, type WorkloadRef } from './workloads.js';

/** Go's omitempty for integer status fields: a zero is not serialized. */
export function omitZero(o: Obj, keys: string[]): Obj {
  for (const k of keys) if (o[k] === 0) delete o[k];
  return o;
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/** ActivePods' order: the pods to delete first come first. */
function deletionOrder(a: KubeObject, b: KubeObject): number {
  const phase = (p: KubeObject) => PHASE_RANK[String(get(p, 'status', 'phase'))] ?? 1;
  if (phase(a) !== phase(b)) return phase(a) - phase(b);
  if (isPodReady(a) !== isPodReady(b)) return isPodReady(a) ? 1 : -1;
  const readySince = (p: KubeObject) => Date.parse(conditionsOf(p).find((c) => c.type === 'Ready')?.lastTransitionTime ?? '') || 0;
  if (isPodReady(a) && readySince(a) !== readySince(b)) return readySince(b) - readySince(a);
  const restarts = (p: KubeObject) => ((get(p, 'status', 'containerStatuses') as { restartCount?: number }[] | undefined) ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  return (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || b.metadata.name.localeCompare(a.metadata.name);
}

export class ReplicaSetController {
  constructor(private readonly ctx: { store: KubeStore; kubelet: AppKubelet; nodes: () => string[] }) {}

  sync(now: number): void {
    for (const rs of this.ctx.store.list('replicasets')) this.syncOne(rs, now);
  }

  private syncOne(rs: KubeObject, now: number): void {
    const { store, kubelet } = this.ctx;
    const ns = rs.metadata.namespace ?? '';
    const want = num(get(rs, 'spec', 'replicas'), 1);
    let pods = owned(store, 'pods', rs).filter(isPodActive);
    const owner = controllerOf(rs);
    const workload: WorkloadRef =
      owner?.kind === 'Deployment' ? { kind: 'deployment', namespace: ns, name: owner.name } : { kind: 'replicaset', namespace: ns, name: rs.metadata.name };
    if (pods.length < want) {
      const template = (get(rs, 'spec', 'template') ?? {}) as Obj;
      const nodes = this.ctx.nodes();
      for (let i = pods.length; i < want; i++) {
        // Pods are named from the ReplicaSet (generateName `<rs>-`); the scheduler spreads them over the nodes.
        kubelet.create({
          namespace: ns,
          name: `${rs.metadata.name}-`,
          generateName: true,
          template,
          labels: {},
          owner: controllerRef(rs),
          workload,
          node: nodes[i % nodes.length]!,
        });
      }
    } else if (pods.length > want) {
      for (const p of [...pods].sort(deletionOrder).slice(0, pods.length - want)) kubelet.delete(ns, p.metadata.name);
    }
    pods = owned(store, 'pods', rs).filter(isPodActive);
    const minReadySeconds = num(get(rs, 'spec', 'minReadySeconds'));
    writeStatus(
      store,
      'replicasets',
      rs,
      omitZero(
        {
          replicas: pods.length,
          fullyLabeledReplicas: pods.length,
          readyReplicas: pods.filter(isPodReady).length,
          availableReplicas: pods.filter((p) => isPodAvailable(p, minReadySeconds, now)).length,
          observedGeneration: num(rs.metadata['generation'], 1),
        },
        ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas'],
      ),
    );
  }
}
