// The simulated cluster's workloads: the apps/v1 controllers (Deployments and their ReplicaSets, StatefulSets,
// DaemonSets), the kubelet of their pods and the applications in them, run in-process like the operator's
// components (test/sim/redis/operator.ts): a pass reacts soon after any change in the store and runs again on a
// periodic tick (silent: how soon a controller acts; the real ones are watch-driven). Tests reach it as `sim.apps`.
import type { KubeObject, KubeStore, StoreEvent } from '../kube/store.js';
import type { ClusterState } from '../redis/cluster-state.js';
import { AppKubelet, templateFingerprint, type RolloutFailure } from './app-kubelet.js';
import { Applications, type AppBinding, type AppCredentials, type AppLogin, type LoginFilter } from './applications.js';
import { DaemonSetController } from './daemonset-controller.js';
import { setAppsDefaults } from './defaults.js';
import { DeploymentController } from './deployment-controller.js';
import { ReplicaSetController } from './replicaset-controller.js';
import { StatefulSetController } from './statefulset-controller.js';
import { get, matchesWorkload, num, owned, parseWorkload, WORKLOAD_RESOURCE, type WorkloadKind, type WorkloadRef } from './workloads.js';

export type { AppBinding, AppCredentials, AppLogin, LoginFilter } from './applications.js';
export type { RolloutFailure } from './app-kubelet.js';

export type WorkloadObjectKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

/** A workload the simulated cluster starts with, and what its application does. */
export interface SeedWorkload {
  kind: WorkloadObjectKind;
  /** The object as `kubectl apply` would send it; metadata.namespace defaults to `default`. */
  object: KubeObject;
  app?: AppBinding;
}

export interface AppsOptions {
  /** Schedulable nodes, `sim-node-0`...: the pods a DaemonSet runs (default 2). */
  nodes?: number;
  /** How long a started container takes to become Ready (silent: a readiness probe's timing; default 300 ms). */
  readyDelayMs?: number;
  /** How often each application pod logs in (silent: an application's reconnects; default 200 ms). */
  loginIntervalMs?: number;
  /** A crash-looping container's restart period (default 1000 ms; a real kubelet backs off 10 s doubling to 5 min). */
  crashBackoffMs?: number;
  /** How late secret volumes of application pods follow their Secret; default the kubelet's (SimOptions.syncDelayMs). */
  volumeSyncDelayMs?: number;
  /** The controllers' periodic pass (default 100 ms). */
  resyncMs?: number;
  /** How soon a pass follows a change in the store (default 10 ms). */
  reactionMs?: number;
  workloads?: SeedWorkload[];
}

export interface AppsSimOptions {
  store: KubeStore;
  options?: AppsOptions;
  /** The kubelet's secret-volume sync delay now (test/sim/pods/kubelet.ts delayMs). */
  kubeletSyncDelayMs: () => number;
  /** Pods whose kubelet is frozen (Faults.frozenPods). */
  frozen: (key: string) => boolean;
  /** The REC an application of `namespace` logs in to (`rec` as AppBinding.rec names it). */
  rec: (namespace: string, rec: string | undefined) => { name: string; state: ClusterState } | undefined;
}

const KIND_OF: Record<WorkloadObjectKind, WorkloadKind> = { Deployment: 'deployment', StatefulSet: 'statefulset', DaemonSet: 'daemonset' };
const WATCHED = new Set(['deployments', 'statefulsets', 'daemonsets', 'replicasets', 'controllerrevisions', 'pods', 'secrets']);

interface FailureSwitch {
  want: ReturnType<typeof parseWorkload>;
  failure: RolloutFailure;
  /** The template fingerprint of each matching workload when the switch was set: its pods keep working. */
  baselines: Map<string, string>;
}

export class AppsSim {
  /** The simulated nodes. */
  readonly nodes: string[];
  private readonly store: KubeStore;
  private readonly kubelet: AppKubelet;
  private readonly applications: Applications;
  private readonly controllers: { sync(now: number): void }[];
  private readonly switches: FailureSwitch[] = [];
  private readonly resyncMs: number;
  private readonly reactionMs: number;
  private timer: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;
  private off: (() => void) | undefined;

  constructor(o: AppsSimOptions) {
    const opts = o.options ?? {};
    this.store = o.store;
    this.nodes = Array.from({ length: Math.max(1, opts.nodes ?? 2) }, (_, i) => `sim-node-${i}`);
    this.resyncMs = opts.resyncMs ?? 100;
    this.reactionMs = opts.reactionMs ?? 10;
    this.kubelet = new AppKubelet({
      store: o.store,
      readyDelayMs: () => opts.readyDelayMs ?? 300,
      crashBackoffMs: () => opts.crashBackoffMs ?? 1000,
      volumeSyncDelayMs: () => opts.volumeSyncDelayMs ?? o.kubeletSyncDelayMs(),
      frozen: o.frozen,
      failureFor: (w, fingerprint) => this.failureFor(w, fingerprint),
    });
    this.applications = new Applications({ kubelet: this.kubelet, rec: o.rec, intervalMs: opts.loginIntervalMs ?? 200 });
    const ctx = { store: o.store, kubelet: this.kubelet, nodes: () => this.nodes };
    // The ReplicaSet controller runs before the Deployment controller, so that scaling reads fresh ReplicaSet statuses.
    this.controllers = [new ReplicaSetController(ctx), new DeploymentController(ctx), new StatefulSetController(ctx), new DaemonSetController(ctx)];
    for (const w of opts.workloads ?? []) this.create(w.kind, w.object, w.app);
  }

  start(): void {
    if (this.timer) return;
    this.off = this.store.onChange((e: StoreEvent) => {
      if (WATCHED.has(e.resource)) this.schedule();
    });
    this.timer = setInterval(() => this.sync(), this.resyncMs);
    this.timer.unref();
    this.applications.start();
    this.schedule();
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.pending);
    this.off?.();
    this.timer = this.pending = this.off = undefined;
    this.applications.stop();
    this.kubelet.close();
  }

  private schedule(): void {
    if (!this.timer || this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.sync();
    }, this.reactionMs);
    this.pending.unref();
  }

  /** One pass of the kubelet and every controller, now. */
  sync(): void {
    const now = Date.now();
    for (const step of [() => this.kubelet.tick(now), ...this.controllers.map((c) => () => c.sync(now))]) {
      try {
        step();
      } catch (err) {
        console.error('[sim apps]', err);
      }
    }
  }

  /** Creates a workload as `kubectl create` would (API server defaults, generation 1); `app` says what its application does. */
  create(kind: WorkloadObjectKind, object: KubeObject, app?: AppBinding): KubeObject {
    const resource = WORKLOAD_RESOURCE[KIND_OF[kind]];
    const o = structuredClone(object);
    o.apiVersion = 'apps/v1';
    o.kind = kind;
    o.metadata = { ...o.metadata, namespace: o.metadata.namespace ?? 'default', generation: 1 };
    setAppsDefaults(resource, o);
    const created = this.store.create(resource, o);
    if (app) this.applications.bind({ kind: KIND_OF[kind], namespace: created.metadata.namespace!, name: created.metadata.name }, app);
    this.schedule();
    return created;
  }

  /** Says what a workload's application does (`KIND/NAME` or `NAMESPACE/KIND/NAME`; namespace default `default`). */
  bind(workload: string, app: AppBinding): void {
    const w = parseWorkload(workload);
    this.applications.bind({ kind: w.kind, name: w.name, namespace: w.namespace ?? 'default' }, app);
  }

  /** The workload's pods (a Deployment's through its ReplicaSets), by name. */
  pods(workload: string): KubeObject[] {
    const want = parseWorkload(workload);
    const owners = this.store.list(WORKLOAD_RESOURCE[want.kind], want.namespace).filter((o) => o.metadata.name === want.name);
    const pods = owners.flatMap((o) =>
      want.kind === 'deployment' ? owned(this.store, 'replicasets', o).flatMap((rs) => owned(this.store, 'pods', rs)) : owned(this.store, 'pods', o),
    );
    return pods.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  }

  /** Every application login so far (filtered). */
  logins(filter: LoginFilter = {}): AppLogin[] {
    return this.applications.logins(filter);
  }

  /** The refused application logins, of one workload or all. */
  failedLogins(workload?: string, filter: Omit<LoginFilter, 'workload'> = {}): AppLogin[] {
    return this.applications.logins({ ...filter, ...(workload ? { workload } : {}) }).filter((l) => !l.ok);
  }

  /** What a running application pod logs in with now; undefined when its container is not running. */
  credentials(namespace: string, pod: string): AppCredentials | undefined {
    const p = this.kubelet.running().find((x) => x.namespace === namespace && x.name === pod);
    return p && this.applications.credentials(p);
  }

  /**
   * The rollout-failure switch: pods of `workload` created from now on with a template other than its current one
   * fail as `failure` says (RolloutFailure); undefined switches it off for pods created from then on (pods already
   * failing keep failing, as on a real node until they are replaced).
   */
  setRolloutFailure(workload: string, failure: RolloutFailure | undefined): void {
    const want = parseWorkload(workload);
    for (let i = this.switches.length - 1; i >= 0; i--) {
      const s = this.switches[i]!;
      if (s.want.kind === want.kind && s.want.name === want.name && s.want.namespace === want.namespace) this.switches.splice(i, 1);
    }
    if (!failure) return;
    const baselines = new Map<string, string>();
    for (const o of this.store.list(WORKLOAD_RESOURCE[want.kind], want.namespace).filter((x) => x.metadata.name === want.name)) {
      baselines.set(o.metadata.namespace ?? '', templateFingerprint(get(o, 'spec', 'template')));
    }
    this.switches.push({ want, failure, baselines });
  }

  /** `kubectl delete pod` for an application pod (the simulated API server does not serve pod deletion): its controller makes it again. */
  deletePod(namespace: string, pod: string): void {
    this.kubelet.delete(namespace, pod);
    this.schedule();
  }

  /** The failure a pod was created with (the switch as it was then), if any. */
  podFailure(namespace: string, pod: string): RolloutFailure | undefined {
    return this.kubelet.failureOf(namespace, pod);
  }

  private failureFor(w: WorkloadRef, fingerprint: string): RolloutFailure | undefined {
    const s = this.switches.find((x) => matchesWorkload(x.want, w));
    if (!s) return undefined;
    return s.baselines.get(w.namespace) === fingerprint ? undefined : s.failure;
  }

  /** Whether the workload (or every workload) runs its current template on every replica, all available. */
  settled(workload?: string): boolean {
    const kinds: WorkloadKind[] = ['deployment', 'statefulset', 'daemonset'];
    const want = workload ? parseWorkload(workload) : undefined;
    for (const kind of want ? [want.kind] : kinds) {
      for (const o of this.store.list(WORKLOAD_RESOURCE[kind], want?.namespace)) {
        if (want && o.metadata.name !== want.name) continue;
        const s = (o['status'] ?? {}) as Record<string, unknown>;
        const generation = num(o.metadata['generation'], 1);
        if (num(s['observedGeneration']) < generation) return false;
        const replicas = num(get(o, 'spec', 'replicas'), 1);
        if (kind === 'deployment' && !(num(s['updatedReplicas']) === replicas && num(s['replicas']) === replicas && num(s['availableReplicas']) === replicas)) return false;
        if (kind === 'statefulset' && !(num(s['readyReplicas']) === replicas && num(s['updatedReplicas']) === replicas && num(s['replicas']) === replicas)) return false;
        if (kind === 'daemonset' && !(num(s['updatedNumberScheduled']) === num(s['desiredNumberScheduled']) && num(s['numberAvailable']) === num(s['desiredNumberScheduled'])))
          return false;
      }
    }
    return true;
  }

  /** Resolves once settled(workload) holds; rejects after timeoutMs. */
  async waitForSettled(workload?: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.settled(workload)) {
      if (Date.now() > deadline) throw new Error(`apps: ${workload ?? 'the workloads'} not rolled out after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}
