// What the apps/v1 controllers of the simulator share: workload references, owner references, pod readiness and
// availability, IntOrString scaling, conditions and timestamps.
import type { KubeObject, KubeStore, Resource } from '../kube/store.js';

export type Obj = Record<string, unknown>;

/** The workloads an application runs as; a ReplicaSet without a Deployment counts as its own workload. */
export type WorkloadKind = 'deployment' | 'statefulset' | 'daemonset' | 'replicaset';

export interface WorkloadRef {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

export const WORKLOAD_RESOURCE: Record<WorkloadKind, Resource> = {
  deployment: 'deployments',
  statefulset: 'statefulsets',
  daemonset: 'daemonsets',
  replicaset: 'replicasets',
};

/** `deployment/app`, as kubectl names it. */
export const workloadName = (w: Pick<WorkloadRef, 'kind' | 'name'>) => `${w.kind}/${w.name}`;
export const workloadKey = (w: WorkloadRef) => `${w.namespace}/${w.kind}/${w.name}`;

const KIND_ALIASES: Record<string, WorkloadKind> = {
  deployment: 'deployment',
  deployments: 'deployment',
  deploy: 'deployment',
  statefulset: 'statefulset',
  statefulsets: 'statefulset',
  sts: 'statefulset',
  daemonset: 'daemonset',
  daemonsets: 'daemonset',
  ds: 'daemonset',
  replicaset: 'replicaset',
  replicasets: 'replicaset',
  rs: 'replicaset',
};

/** `KIND/NAME` or `NAMESPACE/KIND/NAME` (kinds as kubectl accepts them: deployment, deploy, sts, ds...); namespace undefined: any. */
export function parseWorkload(s: string): { kind: WorkloadKind; name: string; namespace?: string } {
  const parts = s.split('/');
  const [ns, kind, name] = parts.length === 3 ? parts : [undefined, parts[0], parts[1]];
  const k = KIND_ALIASES[(kind ?? '').toLowerCase()];
  if (!k || !name || parts.length > 3) throw new Error(`not a workload: ${s} (want KIND/NAME or NAMESPACE/KIND/NAME)`);
  return { kind: k, name, ...(ns ? { namespace: ns } : {}) };
}

export const matchesWorkload = (want: { kind: WorkloadKind; name: string; namespace?: string }, w: WorkloadRef) =>
  want.kind === w.kind && want.name === w.name && (want.namespace === undefined || want.namespace === w.namespace);

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: boolean;
  blockOwnerDeletion: boolean;
}

/** metav1.NewControllerRef. */
export function controllerRef(o: KubeObject): OwnerReference {
  return { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, uid: o.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

export function controllerOf(o: KubeObject): OwnerReference | undefined {
  return ((o.metadata['ownerReferences'] as OwnerReference[] | undefined) ?? []).find((r) => r.controller);
}

/** The objects of `resource` in the owner's namespace whose controller is the owner. */
export function owned(store: KubeStore, resource: Resource, owner: KubeObject): KubeObject[] {
  return store.list(resource, owner.metadata.namespace).filter((o) => controllerOf(o)?.uid === owner.metadata.uid);
}

export const get = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((cur, k) => (cur && typeof cur === 'object' ? (cur as Obj)[k] : undefined), o);

export const num = (v: unknown, fallback = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

/** RFC 3339 with seconds, as metav1.Time serializes. */
export const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
  lastProbeTime?: null;
}

export const conditionsOf = (o: unknown): Condition[] => (get(o, 'status', 'conditions') as Condition[] | undefined) ?? [];

/** podutil.IsPodReady: the Ready condition is True. */
export const isPodReady = (pod: KubeObject) => conditionsOf(pod).some((c) => c.type === 'Ready' && c.status === 'True');

/** podutil.IsPodAvailable: Ready for at least minReadySeconds. */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, now: number): boolean {
  const ready = conditionsOf(pod).find((c) => c.type === 'Ready' && c.status === 'True');
  if (!ready) return false;
  if (minReadySeconds <= 0) return true;
  const since = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : now;
  return since + minReadySeconds * 1000 <= now;
}

/** controller.IsPodActive: neither finished nor being deleted. */
export function isPodActive(pod: KubeObject): boolean {
  const phase = get(pod, 'status', 'phase');
  return phase !== 'Succeeded' && phase !== 'Failed' && pod.metadata['deletionTimestamp'] === undefined;
}

/** intstr.GetScaledValueFromIntOrPercent. */
export function scaledValue(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\d+%$/.test(v)) {
    const x = (Number(v.slice(0, -1)) * total) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  }
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return 0;
}

/** Writes `next` as the object's status when it differs from the stored one (a controller's UpdateStatus). */
export function writeStatus(store: KubeStore, resource: Resource, o: KubeObject, next: Obj): void {
  const current = store.get(resource, o.metadata.namespace, o.metadata.name);
  if (!current || current.metadata.uid !== o.metadata.uid) return;
  if (JSON.stringify(current['status'] ?? {}) === JSON.stringify(next)) return;
  store.update(resource, { ...current, metadata: { ...current.metadata, resourceVersion: undefined }, status: next });
}

/** Replaces the object's spec and metadata fields given (a controller's Update); generation moves when the spec does. */
export function writeObject(
  store: KubeStore,
  resource: Resource,
  o: KubeObject,
  change: { spec?: Obj; annotations?: Record<string, string>; labels?: Record<string, string> },
): KubeObject {
  const current = store.mustGet(resource, o.metadata.namespace, o.metadata.name);
  const next: KubeObject = { ...current, metadata: { ...current.metadata, resourceVersion: undefined } };
  if (change.annotations) next.metadata.annotations = change.annotations;
  if (change.labels) next.metadata.labels = change.labels;
  if (change.spec) {
    if (JSON.stringify(change.spec) !== JSON.stringify(current['spec'])) next.metadata['generation'] = num(current.metadata['generation'], 1) + 1;
    next['spec'] = change.spec;
  }
  if (
    JSON.stringify(next.metadata.annotations) === JSON.stringify(current.metadata.annotations) &&
    JSON.stringify(next['spec']) === JSON.stringify(current['spec']) &&
    JSON.stringify(next.metadata.labels) === JSON.stringify(current.metadata.labels)
  ) {
    return current;
  }
  return store.update(resource, next);
}
