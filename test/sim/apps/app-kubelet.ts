// The kubelet of the simulated application pods (the pods the workload controllers create): it starts their
// container, resolves its environment from Secrets and ConfigMaps once at start, mounts `secret` and `projected`
// volumes and keeps them in step with their Secret after a sync delay, reports the pod's status (phase, the
// Ready/ContainersReady conditions, containerStatuses) and records the Events the kubelet records, and makes a
// rollout fail on demand (crash loop, image pull, readiness) as a real node shows it.
// Sources (kubernetes/kubernetes): pkg/kubelet/kubelet_pods.go (makeEnvironmentVariables: env resolved at container
// start; the CreateContainerConfigError texts), pkg/kubelet/status/generate.go (GeneratePodReadyCondition: reason
// ContainersNotReady, "containers with unready status: [app]"), pkg/kubelet/kuberuntime/kuberuntime_manager.go
// (doBackOff: "back-off 10s restarting failed container=app pod=NAME_NS(UID)", event BackOff "Back-off restarting
// failed container app in pod NAME_NS(UID)"), pkg/kubelet/images/image_manager.go (ImagePullBackOff, "Back-off
// pulling image %q", event BackOff), pkg/kubelet/prober/prober.go and pkg/probe/http/http.go (event Unhealthy
// "Readiness probe failed: HTTP probe failed with statuscode: 503"), pkg/kubelet/volumemanager (FailedMount).
import type { KubeObject, KubeStore, StoreEvent } from '../kube/store.js';
import { canonicalJson, generatedName, templateHash } from './names.js';
import { get, rfc3339, type Condition, type Obj, type OwnerReference, type WorkloadRef } from './workloads.js';

/**
 * How the pods of a new template fail (silent: a simulator switch; each is what a real node reports).
 * - `crash-loop`: the container exits with code 1 at every start: waiting CrashLoopBackOff, restartCount climbing.
 * - `image-pull`: the image cannot be pulled: phase Pending, waiting ImagePullBackOff.
 * - `readiness`: the container runs (and the application logs in) but its readiness probe fails: Ready False.
 */
export type RolloutFailure = 'crash-loop' | 'image-pull' | 'readiness';

/** A pod for the kubelet to create and run. */
export interface NewPod {
  namespace: string;
  /** The full name (StatefulSets), or the generateName prefix (ReplicaSets, DaemonSets). */
  name: string;
  generateName?: boolean;
  template: Obj;
  /** The labels beyond the template's (pod-template-hash, controller-revision-hash...). */
  labels: Record<string, string>;
  owner: OwnerReference;
  /** The workload it belongs to (a Deployment for the pods of its ReplicaSets). */
  workload: WorkloadRef;
  node: string;
  /** Fields set on the pod spec beyond the template's (hostname, subdomain). */
  spec?: Obj;
}

/** What a running application sees: its environment (fixed at start) and its mounted Secret volumes (synced). */
export interface AppProcess {
  namespace: string;
  name: string;
  workload: WorkloadRef;
  /** The pod spec it was created with. */
  spec: Obj;
  env: Record<string, string>;
  /** A volume's files as mounted now (path -> content), or undefined. */
  volume(name: string): Record<string, string> | undefined;
  startedAt: number;
}

export interface AppKubeletOptions {
  store: KubeStore;
  /** How long a started container takes to pass its readiness probe (default 300 ms). */
  readyDelayMs: () => number;
  /** A crash-looping container's restart period (default 1000 ms; a real kubelet backs off 10 s doubling to 5 min). */
  crashBackoffMs: () => number;
  /** The secret-volume sync delay: the kubelet's syncDelayMs (SimOptions.syncDelayMs) unless the apps set their own. */
  volumeSyncDelayMs: () => number;
  /** Pods whose kubelet does not sync volumes (Faults.frozenPods, `namespace/name`). */
  frozen: (key: string) => boolean;
  /** The failure a pod created now gets, from the rollout-failure switch of its workload. */
  failureFor: (workload: WorkloadRef, templateFingerprint: string) => RolloutFailure | undefined;
}

type State = 'creating' | 'config-error' | 'mount-error' | 'image-pull' | 'crash-loop' | 'running' | 'ready';

interface MountedVolume {
  applied: string | undefined;
  pending: { content: string; since: number } | undefined;
}

interface PodRuntime {
  namespace: string;
  name: string;
  uid: string;
  workload: WorkloadRef;
  node: string;
  podIP: string;
  spec: Obj;
  createdAt: number;
  failure: RolloutFailure | undefined;
  state: State;
  /** The waiting message of a config or mount error. */
  errorMessage?: string;
  /** When the kubelet tries again to start a pod that could not start (a missing Secret). */
  retryAt?: number;
  startedAt?: number;
  readyAt?: number;
  restartCount: number;
  nextRestartAt?: number;
  lastTerminated?: { startedAt: number; finishedAt: number };
  env: Record<string, string>;
  mounts: Map<string, MountedVolume>;
  /** When the state last changed (the conditions' lastTransitionTime). */
  transitions: Map<string, number>;
}

const unb64 = (v: unknown) => (typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : '');
const HASH_LABELS = ['pod-template-hash', 'controller-revision-hash', 'pod-template-generation'];

/** A template as its author wrote it: without the hash labels controllers add, so a Deployment's and its ReplicaSet's agree. */
export function templateFingerprint(template: unknown): string {
  const t = structuredClone((template ?? {}) as Obj);
  const labels = get(t, 'metadata', 'labels') as Record<string, string> | undefined;
  if (labels) for (const l of HASH_LABELS) delete labels[l];
  return templateHash(t);
}

/** Go's time.Duration String for whole seconds: 10s, 1m20s, 5m0s. */
function goDuration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  return m ? `${m}m${seconds % 60}s` : `${seconds}s`;
}

export class AppKubelet {
  private readonly pods = new Map<string, PodRuntime>();
  private readonly off: () => void;
  private ipCounter = 0;
  private eventCounter = 0;

  constructor(private readonly o: AppKubeletOptions) {
    // A pod removed by anyone stops running (its application stops logging in).
    this.off = o.store.onChange((e: StoreEvent) => {
      if (e.resource === 'pods' && e.type === 'DELETED') this.pods.delete(`${e.object.metadata.namespace}/${e.object.metadata.name}`);
    });
  }

  close(): void {
    this.off();
  }

  /** Creates the pod object (Pending, ContainerCreating); the next tick starts it. */
  create(p: NewPod): KubeObject {
    const now = Date.now();
    const template = p.template;
    const tmeta = (template['metadata'] ?? {}) as { labels?: Record<string, string>; annotations?: Record<string, string> };
    const spec = { ...structuredClone((template['spec'] ?? {}) as Obj), ...(p.spec ?? {}), nodeName: p.node };
    let name = p.name;
    if (p.generateName) {
      // The API server's generateName: retried on a clash, as the ReplicaSet controller's create is.
      do name = generatedName(p.name);
      while (this.o.store.get('pods', p.namespace, name));
    }
    const podIP = `10.245.${Math.floor(++this.ipCounter / 250)}.${(this.ipCounter % 250) + 2}`;
    const created = this.o.store.create('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        ...(p.generateName ? { generateName: p.name } : {}),
        namespace: p.namespace,
        labels: { ...(tmeta.labels ?? {}), ...p.labels },
        ...(tmeta.annotations ? { annotations: { ...tmeta.annotations } } : {}),
        ownerReferences: [p.owner],
      },
      spec,
      status: { phase: 'Pending', qosClass: 'BestEffort' },
    });
    const rt: PodRuntime = {
      namespace: p.namespace,
      name,
      uid: created.metadata.uid ?? '',
      workload: p.workload,
      node: p.node,
      podIP,
      spec,
      createdAt: now,
      failure: this.o.failureFor(p.workload, templateFingerprint(template)),
      state: 'creating',
      restartCount: 0,
      env: {},
      mounts: new Map(),
      transitions: new Map([['PodScheduled', now]]),
    };
    this.pods.set(`${p.namespace}/${name}`, rt);
    this.writeStatus(rt, now);
    return this.o.store.mustGet('pods', p.namespace, name);
  }

  /** Deletes the pod at once (the simulation has no graceful termination): its application stops. */
  delete(namespace: string, name: string): void {
    this.pods.delete(`${namespace}/${name}`);
    if (this.o.store.get('pods', namespace, name)) this.o.store.delete('pods', namespace, name);
  }

  /** The failure the pod was created with, if any. */
  failureOf(namespace: string, name: string): RolloutFailure | undefined {
    return this.pods.get(`${namespace}/${name}`)?.failure;
  }

  /** The applications running now: containers started and not crash-looping. */
  running(): AppProcess[] {
    return [...this.pods.values()]
      .filter((rt) => rt.state === 'running' || rt.state === 'ready')
      .map((rt) => ({
        namespace: rt.namespace,
        name: rt.name,
        workload: rt.workload,
        spec: rt.spec,
        env: rt.env,
        startedAt: rt.startedAt ?? rt.createdAt,
        volume: (v: string) => {
          const m = rt.mounts.get(v);
          return m?.applied === undefined ? undefined : (JSON.parse(m.applied) as Record<string, string>);
        },
      }));
  }

  /** One pass: containers started, readiness, crash restarts, volume syncs, statuses written. */
  tick(now = Date.now()): void {
    for (const rt of [...this.pods.values()]) {
      if (!this.o.store.get('pods', rt.namespace, rt.name)) {
        this.pods.delete(`${rt.namespace}/${rt.name}`);
        continue;
      }
      this.advance(rt, now);
      this.writeStatus(rt, now);
    }
  }

  private advance(rt: PodRuntime, now: number): void {
    switch (rt.state) {
      case 'creating':
      case 'config-error':
      case 'mount-error':
        if (rt.retryAt !== undefined && now < rt.retryAt) return;
        this.start(rt, now);
        if (rt.state === 'config-error' || rt.state === 'mount-error') rt.retryAt = now + 1000;
        return;
      case 'crash-loop':
        if (rt.nextRestartAt !== undefined && now >= rt.nextRestartAt) {
          // The container is started again and exits again at once.
          rt.restartCount += 1;
          rt.lastTerminated = { startedAt: now, finishedAt: now };
          rt.nextRestartAt = now + this.o.crashBackoffMs();
          this.event(rt, 'Warning', 'BackOff', `Back-off restarting failed container ${this.containerNames(rt)[0]} in pod ${this.formatPod(rt)}`, now);
        }
        return;
      case 'image-pull':
        return;
      case 'running':
        this.syncVolumes(rt, now);
        if (rt.failure === 'readiness') {
          if (now - (rt.transitions.get('probe') ?? 0) >= 1000) {
            rt.transitions.set('probe', now);
            this.event(rt, 'Warning', 'Unhealthy', `Readiness probe failed: ${this.probeFailure(rt)}`, now);
          }
        } else if (rt.readyAt !== undefined && now >= rt.readyAt) {
          rt.state = 'ready';
          rt.transitions.set('Ready', now);
        }
        return;
      case 'ready':
        this.syncVolumes(rt, now);
        return;
    }
  }

  private start(rt: PodRuntime, now: number): void {
    const image = String(get(rt.spec, 'containers', '0', 'image') ?? '');
    if (rt.failure === 'image-pull') {
      rt.state = 'image-pull';
      this.event(rt, 'Normal', 'Pulling', `Pulling image "${image}"`, now);
      this.event(rt, 'Warning', 'Failed', `Failed to pull image "${image}": rpc error: code = NotFound desc = failed to pull and unpack image "${image}": not found`, now);
      this.event(rt, 'Warning', 'Failed', 'Error: ErrImagePull', now);
      this.event(rt, 'Normal', 'BackOff', `Back-off pulling image "${image}"`, now);
      this.event(rt, 'Warning', 'Failed', 'Error: ImagePullBackOff', now);
      return;
    }
    // Volumes are mounted before any container starts; a missing Secret keeps the pod in ContainerCreating.
    const mounts = new Map<string, string>();
    for (const v of (rt.spec['volumes'] as Obj[] | undefined) ?? []) {
      const files = this.volumeFiles(rt.namespace, v);
      if (files instanceof Error) {
        rt.state = 'mount-error';
        rt.errorMessage = undefined;
        this.event(rt, 'Warning', 'FailedMount', `MountVolume.SetUp failed for volume "${String(v['name'])}" : ${files.message}`, now);
        return;
      }
      if (files) mounts.set(String(v['name']), canonicalJson(files));
    }
    const env = this.environment(rt);
    if (env instanceof Error) {
      rt.state = 'config-error';
      rt.errorMessage = env.message;
      this.event(rt, 'Warning', 'Failed', `Error: ${env.message}`, now);
      return;
    }
    rt.env = env;
    for (const [name, content] of mounts) rt.mounts.set(name, { applied: content, pending: undefined });
    rt.startedAt = now;
    rt.transitions.set('Initialized', now);
    rt.transitions.set('PodReadyToStartContainers', now);
    if (rt.failure === 'crash-loop') {
      rt.state = 'crash-loop';
      rt.lastTerminated = { startedAt: now, finishedAt: now };
      rt.nextRestartAt = now + this.o.crashBackoffMs();
      this.event(rt, 'Warning', 'BackOff', `Back-off restarting failed container ${this.containerNames(rt)[0]} in pod ${this.formatPod(rt)}`, now);
      return;
    }
    rt.state = 'running';
    rt.readyAt = now + this.o.readyDelayMs();
  }

  /** makeEnvironmentVariables for the first container: literal values, Secret and ConfigMap keys, envFrom. */
  private environment(rt: PodRuntime): Record<string, string> | Error {
    const c = (get(rt.spec, 'containers', '0') ?? {}) as Obj;
    const out: Record<string, string> = {};
    const source = (resource: 'secrets' | 'configmaps', name: string): Record<string, string> | undefined => {
      const o = this.o.store.get(resource, rt.namespace, name);
      if (!o) return undefined;
      const data = (o['data'] ?? {}) as Record<string, string>;
      return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, resource === 'secrets' ? unb64(v) : String(v)]));
    };
    for (const e of (c['envFrom'] as Obj[] | undefined) ?? []) {
      const ref = (e['secretRef'] ?? e['configMapRef']) as { name?: string; optional?: boolean } | undefined;
      if (!ref?.name) continue;
      const kind = e['secretRef'] ? 'secrets' : 'configmaps';
      const data = source(kind, ref.name);
      if (!data) {
        if (ref.optional) continue;
        return new Error(`${kind === 'secrets' ? 'secret' : 'configmap'} "${ref.name}" not found`);
      }
      const prefix = typeof e['prefix'] === 'string' ? e['prefix'] : '';
      for (const [k, v] of Object.entries(data)) out[`${prefix}${k}`] = v;
    }
    for (const e of (c['env'] as Obj[] | undefined) ?? []) {
      const name = String(e['name'] ?? '');
      if (typeof e['value'] === 'string') {
        out[name] = e['value'];
        continue;
      }
      const secretRef = get(e, 'valueFrom', 'secretKeyRef') as { name?: string; key?: string; optional?: boolean } | undefined;
      const cmRef = get(e, 'valueFrom', 'configMapKeyRef') as { name?: string; key?: string; optional?: boolean } | undefined;
      const ref = secretRef ?? cmRef;
      if (!ref?.name || !ref.key) {
        out[name] = '';
        continue;
      }
      const data = source(secretRef ? 'secrets' : 'configmaps', ref.name);
      if (!data) {
        if (ref.optional) continue;
        return new Error(`${secretRef ? 'secret' : 'configmap'} "${ref.name}" not found`);
      }
      if (!(ref.key in data)) {
        if (ref.optional) continue;
        return new Error(`couldn't find key ${ref.key} in ${secretRef ? 'Secret' : 'ConfigMap'} ${rt.namespace}/${ref.name}`);
      }
      out[name] = data[ref.key]!;
    }
    return out;
  }

  /** A `secret` or `projected` volume's files (path -> content); undefined for other volumes; an Error when it cannot mount. */
  private volumeFiles(namespace: string, v: Obj): Record<string, string> | undefined | Error {
    const one = (ref: { secretName?: string; name?: string; items?: { key: string; path: string }[]; optional?: boolean }): Record<string, string> | Error => {
      const name = ref.secretName ?? ref.name ?? '';
      const secret = this.o.store.get('secrets', namespace, name);
      if (!secret) return ref.optional ? {} : new Error(`secret "${name}" not found`);
      const data = Object.fromEntries(Object.entries((secret['data'] ?? {}) as Record<string, string>).map(([k, x]) => [k, unb64(x)]));
      if (!ref.items?.length) return data;
      const files: Record<string, string> = {};
      for (const item of ref.items) {
        if (!(item.key in data)) {
          if (ref.optional) continue;
          return new Error(`references non-existent secret key: ${item.key}`);
        }
        files[item.path] = data[item.key]!;
      }
      return files;
    };
    if (v['secret']) return one(v['secret'] as Parameters<typeof one>[0]);
    const sources = get(v, 'projected', 'sources') as Obj[] | undefined;
    if (!sources) return undefined;
    const files: Record<string, string> = {};
    for (const s of sources) {
      if (!s['secret']) continue;
      const f = one(s['secret'] as Parameters<typeof one>[0]);
      if (f instanceof Error) return f;
      Object.assign(files, f);
    }
    return files;
  }

  /**
   * Secret volumes follow their Secret after the sync delay (as test/sim/pods/kubelet.ts does for REC pods); a
   * Secret that disappears leaves the files as they were.
   */
  private syncVolumes(rt: PodRuntime, now: number): void {
    if (this.o.frozen(`${rt.namespace}/${rt.name}`)) return;
    for (const v of (rt.spec['volumes'] as Obj[] | undefined) ?? []) {
      const m = rt.mounts.get(String(v['name']));
      if (!m) continue;
      const files = this.volumeFiles(rt.namespace, v);
      if (!files || files instanceof Error) continue;
      const content = canonicalJson(files);
      if (content === m.applied) {
        m.pending = undefined;
        continue;
      }
      if (m.pending?.content !== content) m.pending = { content, since: now };
      if (now - m.pending.since >= this.o.volumeSyncDelayMs()) {
        m.applied = content;
        m.pending = undefined;
      }
    }
  }

  private containerNames(rt: PodRuntime): string[] {
    return ((rt.spec['containers'] as Obj[] | undefined) ?? []).map((c) => String(c['name'] ?? ''));
  }

  /** format.Pod: NAME_NAMESPACE(UID). */
  private formatPod(rt: PodRuntime): string {
    return `${rt.name}_${rt.namespace}(${rt.uid})`;
  }

  /** The prober's output for the first container's readiness probe (an HTTP 503 when it declares none). */
  private probeFailure(rt: PodRuntime): string {
    const probe = get(rt.spec, 'containers', '0', 'readinessProbe') as Obj | undefined;
    if (probe?.['tcpSocket']) return `dial tcp ${rt.podIP}:${String(get(probe, 'tcpSocket', 'port'))}: connect: connection refused`;
    if (probe?.['exec']) return 'command terminated with exit code 1';
    return 'HTTP probe failed with statuscode: 503';
  }

  private writeStatus(rt: PodRuntime, now: number): void {
    const current = this.o.store.get('pods', rt.namespace, rt.name);
    if (!current || current.metadata.uid !== rt.uid) return;
    const status = this.status(rt, now);
    if (JSON.stringify(current['status'] ?? {}) === JSON.stringify(status)) return;
    this.o.store.update('pods', { ...current, metadata: { ...current.metadata, resourceVersion: undefined }, status });
  }

  private status(rt: PodRuntime, now: number): Obj {
    const names = this.containerNames(rt);
    const started = rt.startedAt !== undefined;
    const ready = rt.state === 'ready';
    const at = (k: string) => rfc3339(rt.transitions.get(k) ?? rt.createdAt);
    const readyCondition = (type: string): Condition =>
      ready
        ? { type, status: 'True', lastProbeTime: null, lastTransitionTime: at('Ready') }
        : {
            type,
            status: 'False',
            lastProbeTime: null,
            lastTransitionTime: rfc3339(rt.createdAt),
            reason: 'ContainersNotReady',
            message: `containers with unready status: [${names.join(' ')}]`,
          };
    const image = (i: number) => String(get(rt.spec, 'containers', String(i), 'image') ?? '');
    const waiting = (): Obj | undefined => {
      switch (rt.state) {
        case 'creating':
        case 'mount-error':
          return { reason: 'ContainerCreating' };
        case 'config-error':
          return { reason: 'CreateContainerConfigError', message: rt.errorMessage ?? '' };
        case 'image-pull':
          return { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image(0)}"` };
        case 'crash-loop':
          return {
            reason: 'CrashLoopBackOff',
            message: `back-off ${goDuration(Math.min(300, 10 * 2 ** Math.max(0, rt.restartCount)))} restarting failed container=${names[0]} pod=${this.formatPod(rt)}`,
          };
        default:
          return undefined;
      }
    };
    const w = waiting();
    const containerStatuses = names.map((name, i) => ({
      name,
      image: image(i),
      imageID: '',
      ...(started && rt.state !== 'crash-loop' ? { containerID: `containerd://${templateHash(`${rt.uid}/${name}/${rt.restartCount}`)}` } : {}),
      ready,
      started: rt.state === 'running' || rt.state === 'ready',
      restartCount: rt.restartCount,
      state: w ? { waiting: w } : { running: { startedAt: rfc3339(rt.startedAt ?? now) } },
      lastState: rt.lastTerminated
        ? {
            terminated: {
              exitCode: 1,
              reason: 'Error',
              startedAt: rfc3339(rt.lastTerminated.startedAt),
              finishedAt: rfc3339(rt.lastTerminated.finishedAt),
              containerID: `containerd://${templateHash(`${rt.uid}/${name}/${rt.restartCount - 1}`)}`,
            },
          }
        : {},
    }));
    const conditions: Condition[] = [
      { type: 'PodReadyToStartContainers', status: started || rt.state !== 'creating' ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: at('PodScheduled') },
      { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: at('PodScheduled') },
      readyCondition('Ready'),
      readyCondition('ContainersReady'),
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: at('PodScheduled') },
    ];
    // A pod is Running once a container has started, even one now waiting to restart (CrashLoopBackOff).
    const phase = started ? 'Running' : 'Pending';
    const hostIP = `192.168.1.${10 + Number(rt.node.replace(/\D+/g, '') || 0)}`;
    return {
      phase,
      conditions,
      hostIP,
      hostIPs: [{ ip: hostIP }],
      ...(rt.state === 'creating' ? {} : { podIP: rt.podIP, podIPs: [{ ip: rt.podIP }] }),
      startTime: rfc3339(rt.createdAt),
      containerStatuses,
      qosClass: 'BestEffort',
    };
  }

  /** Records an Event as the kubelet's recorder does, a repeat counted on the same Event (the event correlator). */
  private event(rt: PodRuntime, type: 'Normal' | 'Warning', reason: string, message: string, now: number): void {
    const store = this.o.store;
    const existing = store.list('events', rt.namespace).find((e) => get(e, 'involvedObject', 'uid') === rt.uid && e['reason'] === reason && e['message'] === message);
    if (existing) {
      store.update('events', {
        ...existing,
        metadata: { ...existing.metadata, resourceVersion: undefined },
        count: Number(existing['count'] ?? 1) + 1,
        lastTimestamp: rfc3339(now),
      });
      return;
    }
    store.create('events', {
      apiVersion: 'v1',
      kind: 'Event',
      // The recorder names an Event after its object and the time in nanoseconds, in hex.
      metadata: { name: `${rt.name}.${(BigInt(now) * 1_000_000n + BigInt(++this.eventCounter % 1_000_000)).toString(16)}`, namespace: rt.namespace },
      involvedObject: {
        kind: 'Pod',
        namespace: rt.namespace,
        name: rt.name,
        uid: rt.uid,
        apiVersion: 'v1',
        fieldPath: `spec.containers{${this.containerNames(rt)[0] ?? ''}}`,
      },
      reason,
      message,
      source: { component: 'kubelet', host: rt.node },
      firstTimestamp: rfc3339(now),
      lastTimestamp: rfc3339(now),
      count: 1,
      type,
      eventTime: null,
      reportingComponent: 'kubelet',
      reportingInstance: rt.node,
    });
  }
}
