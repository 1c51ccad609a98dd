// The workloads that read an application's Secret (apps/v1 Deployments, StatefulSets, DaemonSets): which
// of them read it, the restart `kubectl rollout restart` makes, and whether a rollout is complete by the
// rules of `kubectl rollout status` (kubernetes/kubectl pkg/polymorphichelpers/rollout_status.go).
import { z } from 'zod';
import { FIELD_MANAGER } from './api-client.js';
import type { Cluster } from './cluster.js';
import { Metadata } from './resources.js';

export const WORKLOAD_KINDS = ['deployment', 'statefulset', 'daemonset'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];
export const WORKLOAD_RESOURCES: Record<WorkloadKind, string> = { deployment: 'deployments', statefulset: 'statefulsets', daemonset: 'daemonsets' };

/** The annotation `kubectl rollout restart` sets on the pod template (kubectl pkg/polymorphichelpers/objectrestarter.go). */
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

const SecretKeySelector = z.object({ name: z.string().optional(), key: z.string().optional() }).loose();
const Container = z
  .object({
    name: z.string().optional(),
    env: z.array(z.object({ name: z.string(), valueFrom: z.object({ secretKeyRef: SecretKeySelector.optional() }).loose().optional() }).loose()).optional(),
    envFrom: z.array(z.object({ secretRef: z.object({ name: z.string().optional() }).loose().optional() }).loose()).optional(),
  })
  .loose();
const Volume = z
  .object({
    name: z.string().optional(),
    secret: z.object({ secretName: z.string().optional() }).loose().optional(),
    projected: z
      .object({ sources: z.array(z.object({ secret: z.object({ name: z.string().optional() }).loose().optional() }).loose()).optional() })
      .loose()
      .optional(),
  })
  .loose();
const PodTemplate = z
  .object({
    metadata: z
      .object({ annotations: z.record(z.string(), z.string()).optional(), labels: z.record(z.string(), z.string()).optional() })
      .loose()
      .optional(),
    spec: z
      .object({ containers: z.array(Container).optional(), initContainers: z.array(Container).optional(), volumes: z.array(Volume).optional() })
      .loose()
      .optional(),
  })
  .loose();
const Condition = z.object({ type: z.string(), status: z.string().optional(), reason: z.string().optional(), message: z.string().optional() }).loose();

export const WorkloadSchema = z
  .object({
    metadata: Metadata.extend({ generation: z.number().optional() }),
    spec: z
      .object({
        replicas: z.number().optional(),
        paused: z.boolean().optional(),
        selector: z
          .object({ matchLabels: z.record(z.string(), z.string()).optional() })
          .loose()
          .optional(),
        template: PodTemplate.optional(),
        updateStrategy: z
          .object({ type: z.string().optional(), rollingUpdate: z.object({ partition: z.number().optional() }).loose().optional() })
          .loose()
          .optional(),
      })
      .loose(),
    status: z
      .object({
        observedGeneration: z.number().optional(),
        replicas: z.number().optional(),
        updatedReplicas: z.number().optional(),
        readyReplicas: z.number().optional(),
        availableReplicas: z.number().optional(),
        currentReplicas: z.number().optional(),
        currentRevision: z.string().optional(),
        updateRevision: z.string().optional(),
        desiredNumberScheduled: z.number().optional(),
        updatedNumberScheduled: z.number().optional(),
        numberAvailable: z.number().optional(),
        conditions: z.array(Condition).optional(),
      })
      .loose()
      .optional(),
  })
  .loose();
export type Workload = z.infer<typeof WorkloadSchema>;
const WorkloadList = z.object({ items: z.array(WorkloadSchema) }).loose();

export interface WorkloadRef {
  kind: WorkloadKind;
  name: string;
}
export const describeWorkload = (w: WorkloadRef): string => `${w.kind}/${w.name}`;

/** How a pod template reads the Secret: each way named, for the plan ("env", "envFrom", "volume", "projected volume"). */
export function readsSecret(workload: Workload, secretName: string): string[] {
  const spec = workload.spec.template?.spec;
  if (!spec) return [];
  const ways = new Set<string>();
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    if ((c.env ?? []).some((e) => e.valueFrom?.secretKeyRef?.name === secretName)) ways.add('env');
    if ((c.envFrom ?? []).some((e) => e.secretRef?.name === secretName)) ways.add('envFrom');
  }
  for (const v of spec.volumes ?? []) {
    if (v.secret?.secretName === secretName) ways.add('volume');
    if ((v.projected?.sources ?? []).some((s) => s.secret?.name === secretName)) ways.add('projected volume');
  }
  return [...ways];
}

/**
 * Why a restart would not replace every pod with one that reads the new password, or undefined. kubectl refuses a
 * paused Deployment (objectrestarter.go: "can't restart paused deployment"); an OnDelete strategy replaces no pod;
 * a StatefulSet partition leaves the ordinals below it on the old pods (rollout_status.go calls that complete).
 */
export function restartGap(kind: WorkloadKind, w: Workload): string | undefined {
  if (kind === 'deployment' && w.spec.paused) return 'it is paused (kubectl rollout resume first)';
  if (kind !== 'deployment' && w.spec.updateStrategy?.type === 'OnDelete') return 'its updateStrategy is OnDelete: a restart replaces no pod';
  const partition = w.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
  if (kind === 'statefulset' && partition > 0) return `its rollingUpdate partition is ${partition}: the pods below that ordinal would keep the old password`;
  return undefined;
}

/** A rollout's state as `kubectl rollout status` judges it: done, or what it waits for; `failed` where kubectl gives up. */
export function rolloutStatus(kind: WorkloadKind, w: Workload): { done: boolean; message: string; failed?: boolean } {
  const name = w.metadata.name;
  const s = w.status ?? {};
  const generation = w.metadata.generation ?? 0;
  const observed = s.observedGeneration ?? 0;
  if (kind === 'deployment') {
    if (generation > observed) return { done: false, message: 'waiting for the deployment spec update to be observed' };
    if (s.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded')) {
      return { done: false, failed: true, message: `deployment "${name}" exceeded its progress deadline` };
    }
    const updated = s.updatedReplicas ?? 0;
    if (w.spec.replicas !== undefined && updated < w.spec.replicas) return { done: false, message: `${updated} out of ${w.spec.replicas} new replicas have been updated` };
    if ((s.replicas ?? 0) > updated) return { done: false, message: `${(s.replicas ?? 0) - updated} old replicas are pending termination` };
    if ((s.availableReplicas ?? 0) < updated) return { done: false, message: `${s.availableReplicas ?? 0} of ${updated} updated replicas are available` };
    return { done: true, message: `deployment "${name}" successfully rolled out` };
  }
  if (kind === 'daemonset') {
    if (generation > observed) return { done: false, message: 'waiting for the daemon set spec update to be observed' };
    const desired = s.desiredNumberScheduled ?? 0;
    if ((s.updatedNumberScheduled ?? 0) < desired) return { done: false, message: `${s.updatedNumberScheduled ?? 0} out of ${desired} new pods have been updated` };
    if ((s.numberAvailable ?? 0) < desired) return { done: false, message: `${s.numberAvailable ?? 0} of ${desired} updated pods are available` };
    return { done: true, message: `daemon set "${name}" successfully rolled out` };
  }
  if (observed === 0 || generation > observed) return { done: false, message: 'waiting for the statefulset spec update to be observed' };
  if (w.spec.replicas !== undefined && (s.readyReplicas ?? 0) < w.spec.replicas)
    return { done: false, message: `waiting for ${w.spec.replicas - (s.readyReplicas ?? 0)} pods to be ready` };
  const partition = w.spec.updateStrategy?.rollingUpdate?.partition;
  if (w.spec.updateStrategy?.rollingUpdate !== undefined) {
    if (w.spec.replicas !== undefined && partition !== undefined && (s.updatedReplicas ?? 0) < w.spec.replicas - partition) {
      return { done: false, message: `${s.updatedReplicas ?? 0} out of ${w.spec.replicas - partition} new pods have been updated` };
    }
    return { done: true, message: `partitioned roll out complete: ${s.updatedReplicas ?? 0} new pods have been updated` };
  }
  if (s.updateRevision !== s.currentRevision) return { done: false, message: `${s.updatedReplicas ?? 0} pods at revision ${s.updateRevision ?? ''}` };
  return { done: true, message: `statefulset rolling update complete ${s.currentReplicas ?? 0} pods at revision ${s.currentRevision ?? ''}` };
}

const path = (cluster: Cluster, kind: WorkloadKind, name?: string) =>
  `/apis/apps/v1/namespaces/${cluster.namespace}/${WORKLOAD_RESOURCES[kind]}${name === undefined ? '' : `/${name}`}`;

export async function listWorkloads(cluster: Cluster, kind: WorkloadKind): Promise<Workload[]> {
  return (await cluster.api.request('GET', path(cluster, kind), WorkloadList)).items;
}

export async function getWorkload(cluster: Cluster, kind: WorkloadKind, name: string): Promise<Workload> {
  return cluster.api.request('GET', path(cluster, kind, name), WorkloadSchema);
}

/** `kubectl rollout restart`: the pod template's restartedAt annotation, so the controller rolls every pod. */
export async function restartWorkload(cluster: Cluster, kind: WorkloadKind, name: string, at: string): Promise<Workload> {
  return cluster.api.request('PATCH', path(cluster, kind, name), WorkloadSchema, {
    query: { fieldManager: FIELD_MANAGER },
    body: { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: at } } } } },
    contentType: 'application/merge-patch+json',
  });
}

const ContainerStatus = z
  .object({
    name: z.string().optional(),
    ready: z.boolean().optional(),
    restartCount: z.number().optional(),
    state: z
      .object({ waiting: z.object({ reason: z.string().optional(), message: z.string().optional() }).loose().optional() })
      .loose()
      .optional(),
  })
  .loose();
const ReportedPod = z
  .object({
    metadata: Metadata,
    status: z
      .object({
        phase: z.string().optional(),
        conditions: z.array(Condition).optional(),
        containerStatuses: z.array(ContainerStatus).optional(),
      })
      .loose()
      .optional(),
  })
  .loose();
const ReportedPodList = z.object({ items: z.array(ReportedPod) }).loose();
const EventList = z
  .object({
    items: z.array(
      z.object({ involvedObject: z.object({ name: z.string().optional() }).loose().optional(), reason: z.string().optional(), message: z.string().optional() }).loose(),
    ),
  })
  .loose();

/**
 * What the workload's pods that are not Ready report, as `kubectl get pods` and `describe` show it: a container's
 * waiting reason (CrashLoopBackOff, ImagePullBackOff) with its restarts, else its last Unhealthy Event (a failing
 * readiness probe), else the Ready condition's message, else the phase. At most `limit` pods.
 */
export async function unreadyPods(cluster: Cluster, w: Workload, limit = 3): Promise<string[]> {
  const labels = w.spec.selector?.matchLabels;
  if (!labels || !Object.keys(labels).length) return [];
  const labelSelector = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = (await cluster.api.request('GET', `/api/v1/namespaces/${cluster.namespace}/pods`, ReportedPodList, { query: { labelSelector } })).items;
  // A failing readiness probe shows only in the kubelet's Unhealthy Event; the Ready condition says "containers with unready status".
  const unhealthy = new Map<string, string>();
  const events = await cluster.api.request('GET', `/api/v1/namespaces/${cluster.namespace}/events`, EventList).catch(() => ({ items: [] }));
  for (const e of events.items) if (e.reason === 'Unhealthy' && e.involvedObject?.name && e.message) unhealthy.set(e.involvedObject.name, e.message);
  const out: string[] = [];
  for (const p of pods) {
    const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status === 'True') continue;
    const waiting = (p.status?.containerStatuses ?? []).find((c) => c.state?.waiting?.reason);
    const restarts = (p.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
    const why = waiting?.state?.waiting?.reason
      ? `${waiting.state.waiting.reason}${restarts ? ` (${restarts} restarts)` : ''}`
      : (unhealthy.get(p.metadata.name) ?? ready?.message ?? ready?.reason ?? p.status?.phase ?? 'not Ready');
    out.push(`pod ${p.metadata.name}: ${why}`);
    if (out.length >= limit) break;
  }
  return out;
}
