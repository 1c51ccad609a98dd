// The operator's Active-Active controllers of one simulated Kubernetes cluster: every RedisEnterpriseRemoteCluster
// (RERC) is checked by logging in to the REC it names, at its external API address, with the credentials of its
// Secret; each RedisEnterpriseActiveActiveDatabase (REAADB) reports from the RERCs it lists. A failed login is a
// login like any other client's: it counts towards that REC's lockout, in whichever simulated cluster it runs.
// Sources (redis/docs): content/operate/kubernetes/active-active/edit-rerc.md (edit-rerc below),
// content/operate/kubernetes/active-active/create-reaadb.md (create-reaadb), and the CRDs of
// RedisLabs/redis-enterprise-k8s-docs crds/rerc_crd.yaml and crds/reaadb_crd.yaml (rerc_crd, reaadb_crd).
import { randomUUID } from 'node:crypto';
import type { KubeObject, KubeStore, StoreEvent } from '../kube/store.js';
import type { ClusterState } from '../redis/cluster-state.js';

/**
 * What the RERC status shows after a failed check (wrong credentials, Secret missing, nothing at the address).
 * Silent: edit-rerc and create-reaadb only ever show `Active`, and rerc_crd gives `status` no enum.
 * - `Error`: status.status becomes `Error`.
 * - `keep-last`: the status is left as it was (a failure shows nowhere in the RERC).
 */
export type RercFailureStatus = 'Error' | 'keep-last';

/**
 * What a REAADB shows while one of its RERCs is not Active/Valid. Silent: create-reaadb and edit-rerc only show
 * `active` / `up`; reaadb_crd says status "doesn't include the replication link (data path) status" and gives
 * replicationStatus the enum up/down.
 * - `active-replication-down`: status stays `active`, replicationStatus (overall and that participant's) `down`.
 * - `error`: status `error` and replicationStatus `down`.
 */
export type ReaadbDegradedStatus = 'active-replication-down' | 'error';

/** A REC answering at an external API address, wherever it runs. */
export interface RemoteEndpoint {
  /** The participating cluster it runs in (the cluster set's name). */
  cluster: string;
  rec: string;
  recNamespace: string;
  state: ClusterState;
}

/** An RERC Secret as the controller reads it; `version` is what status.internalObservedSecretResourceVersion records. */
export interface RercSecret {
  username?: string;
  password?: string;
  version?: string;
}

/** One refused login by this controller. */
export interface RercLoginFailure {
  time: number;
  /** The cluster whose controller tried. */
  cluster: string;
  namespace: string;
  rerc: string;
  /** The REC it tried, and the cluster that REC runs in. */
  rec: string;
  recNamespace: string;
  recCluster: string;
  username: string;
  reason: 'failed' | 'locked' | 'none';
}

/** The last check of one RERC, for tests. */
export type RercOutcome = 'active' | 'login-failed' | 'secret-missing' | 'secret-incomplete' | 'unreachable' | 'spec-invalid';

export interface RercControllerOptions {
  /** This cluster's name in the set (recorded in failures). */
  cluster: string;
  store: KubeStore;
  /**
   * The REC reached at `apiFqdnUrl:apiPort`: edit-rerc, "The RERC controller periodically connects to the local REC
   * endpoint via its external address" (the same for remote ones). undefined: nothing answers there.
   */
  resolve: (apiFqdnUrl: string, apiPort: number) => RemoteEndpoint | undefined;
  /** Reads an RERC Secret; default the Kubernetes Secret in the RERC's namespace (its resourceVersion as version). */
  readSecret?: (namespace: string, name: string) => RercSecret | undefined;
  /** The periodic check (silent: the docs say "periodically" only). Default 1000 ms. */
  intervalMs?: number;
  /** How soon a change of an RERC's spec or of its Secret is checked (silent). Default 100 ms. */
  reactionMs?: number;
  /** Default `Error` (see RercFailureStatus). */
  failureStatus?: RercFailureStatus;
  /**
   * Whether status.internalObservedSecretResourceVersion is written: rerc_crd, "Observed secret resource version.
   * For internal use only." (so a release may not show it). Default true.
   */
  exposeObservedSecretVersion?: boolean;
  /** Default `active-replication-down` (see ReaadbDegradedStatus). */
  reaadbDegraded?: ReaadbDegradedStatus;
}

export interface RercStatus {
  status?: string;
  specStatus?: string;
  local?: boolean;
  observedGeneration?: number;
  internalObservedSecretResourceVersion?: string;
}

export interface ReaadbStatus {
  status?: string;
  specStatus?: string;
  replicationStatus?: 'up' | 'down';
  participatingClusters?: { name: string; id: number; replicationStatus: 'up' | 'down' }[];
  secretsStatus?: { name: string; status: 'Valid' | 'Invalid' }[];
  guid?: string;
  redisEnterpriseCluster?: string;
  linkedRedbs?: string[];
}

interface RercSpec {
  recName?: string;
  recNamespace?: string;
  apiFqdnUrl?: string;
  apiPort?: number;
  secretName?: string;
}

const RERC = 'redisenterpriseremoteclusters';
const REAADB = 'redisenterpriseactiveactivedatabases';
const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;
const unb64 = (v: unknown) => (typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : undefined);

/** rerc_crd spec.secretName: 'Must use the following format: "redis-enterprise-<RERC name>".' */
export const rercSecretName = (rerc: string) => `redis-enterprise-${rerc}`;

export class RercController {
  readonly cluster: string;
  private readonly store: KubeStore;
  private readonly resolve: RercControllerOptions['resolve'];
  private readonly readSecret: (namespace: string, name: string) => RercSecret | undefined;
  private intervalMs: number;
  private readonly reactionMs: number;
  failureStatus: RercFailureStatus;
  exposeObservedSecretVersion: boolean;
  reaadbDegraded: ReaadbDegradedStatus;
  /** Off: no checks at all (a stopped operator); statuses stay as they are. */
  enabled = true;
  private timer: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;
  private readonly pendingKeys = new Set<string>();
  private off: (() => void) | undefined;
  private readonly failed: RercLoginFailure[] = [];
  private readonly outcomes = new Map<string, { time: number; outcome: RercOutcome }>();
  /** The generation each RERC was last checked at: status-only writes (its own) do not trigger a login. */
  private readonly seenGenerations = new Map<string, number>();
  private loginCount = 0;

  constructor(options: RercControllerOptions) {
    this.cluster = options.cluster;
    this.store = options.store;
    this.resolve = options.resolve;
    this.readSecret = options.readSecret ?? ((ns, name) => this.kubernetesSecret(ns, name));
    this.intervalMs = options.intervalMs ?? 1000;
    this.reactionMs = options.reactionMs ?? 100;
    this.failureStatus = options.failureStatus ?? 'Error';
    this.exposeObservedSecretVersion = options.exposeObservedSecretVersion ?? true;
    this.reaadbDegraded = options.reaadbDegraded ?? 'active-replication-down';
  }

  start(): void {
    if (this.timer) return;
    this.off = this.store.onChange((e) => this.changed(e));
    this.timer = setInterval(() => this.reconcileAll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.pending);
    this.off?.();
    this.timer = this.pending = this.off = undefined;
    this.pendingKeys.clear();
  }

  setInterval(ms: number): void {
    this.intervalMs = ms;
    if (this.timer) {
      this.stop();
      this.start();
    }
  }

  /** Every refused login so far (tests assert none during a rotation). */
  failures(): RercLoginFailure[] {
    return this.failed.map((f) => ({ ...f }));
  }

  /** Logins attempted so far, successful or not. */
  logins(): number {
    return this.loginCount;
  }

  /** The last check of an RERC. */
  outcome(namespace: string, name: string): { time: number; outcome: RercOutcome } | undefined {
    const o = this.outcomes.get(keyOf(namespace, name));
    return o && { ...o };
  }

  /** One round now: every RERC checked (one login each), then every REAADB. */
  reconcileAll(): void {
    if (!this.enabled) return;
    for (const o of this.store.list(RERC)) this.guarded(() => this.reconcileRerc(o));
    this.reconcileReaadbs();
  }

  /** The REAADB statuses from the RERC statuses as they are now (no login). */
  reconcileReaadbs(): void {
    if (!this.enabled) return;
    for (const o of this.store.list(REAADB)) this.guarded(() => this.reconcileReaadb(o));
  }

  private guarded(f: () => void): void {
    try {
      f();
    } catch (err) {
      console.error(`[sim rerc-controller ${this.cluster}]`, err);
    }
  }

  private changed(e: StoreEvent): void {
    const ns = e.object.metadata.namespace ?? '';
    if (e.resource === RERC) {
      const key = keyOf(ns, e.object.metadata.name);
      if (e.type === 'DELETED') {
        this.seenGenerations.delete(key);
        this.schedule();
        return;
      }
      // A new RERC or a new spec is checked soon; a status write (its own, or anyone's) only moves the REAADBs.
      const generation = Number(e.object.metadata['generation'] ?? 1);
      if (e.type === 'ADDED' || this.seenGenerations.get(key) !== generation) this.schedule(key);
      else this.schedule();
      return;
    }
    if (e.resource === 'secrets') {
      // edit-rerc: an updated RERC Secret is noticed by the operator (step 3 watches the RERC turn Active).
      for (const r of this.store.list(RERC, ns)) if (this.secretNameOf(r) === e.object.metadata.name) this.schedule(keyOf(ns, r.metadata.name));
      return;
    }
    if (e.resource === REAADB && e.type !== 'DELETED') this.schedule();
  }

  /** A check of the RERCs given (none: only the REAADBs) after reactionMs. */
  private schedule(rercKey?: string): void {
    if (!this.timer) return;
    if (rercKey) this.pendingKeys.add(rercKey);
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      if (!this.enabled) return;
      const keys = [...this.pendingKeys];
      this.pendingKeys.clear();
      for (const k of keys) {
        const [ns, name] = k.split('/') as [string, string];
        const o = this.store.get(RERC, ns, name);
        if (o) this.guarded(() => this.reconcileRerc(o));
      }
      this.reconcileReaadbs();
    }, this.reactionMs);
    this.pending.unref();
  }

  /** Silent: the Secret of an RERC without spec.secretName (optional in rerc_crd); the documented name here. */
  private secretNameOf(o: KubeObject): string {
    return ((o['spec'] ?? {}) as RercSpec).secretName || rercSecretName(o.metadata.name);
  }

  private kubernetesSecret(namespace: string, name: string): RercSecret | undefined {
    const s = this.store.get('secrets', namespace, name);
    if (!s) return undefined;
    const data = (s['data'] ?? {}) as Record<string, string>;
    return { username: unb64(data.username), password: unb64(data.password), version: s.metadata.resourceVersion };
  }

  private reconcileRerc(o: KubeObject): void {
    const namespace = o.metadata.namespace ?? '';
    const name = o.metadata.name;
    const key = keyOf(namespace, name);
    const spec = (o['spec'] ?? {}) as RercSpec;
    const generation = Number(o.metadata['generation'] ?? 1);
    this.seenGenerations.set(key, generation);
    const previous = (o['status'] ?? {}) as RercStatus;
    // rerc_crd status.local: "Indicates whether this object represents a local or remote cluster": the REC it names runs here.
    const local = !!spec.recName && !!spec.recNamespace && this.store.get('redisenterpriseclusters', spec.recNamespace, spec.recName) !== undefined;
    const base = { local, observedGeneration: generation };
    const failure = (outcome: RercOutcome, specStatus: string) => {
      this.outcomes.set(key, { time: Date.now(), outcome });
      // keep-last: status.status is left as it was; the spec's validity and what was observed still move.
      const next: RercStatus = this.failureStatus === 'keep-last' ? { ...previous, specStatus, ...base } : { ...previous, status: 'Error', specStatus, ...base };
      this.writeStatus(RERC, o, this.ordered(next));
    };

    // rerc_crd: recName, recNamespace and apiFqdnUrl are required; secretName "Must use the following format:
    // "redis-enterprise-<RERC name>"". Silent: the specStatus of a spec that breaks them (`Invalid` here).
    const secretName = this.secretNameOf(o);
    if (!spec.recName || !spec.recNamespace || !spec.apiFqdnUrl || secretName !== rercSecretName(name)) return failure('spec-invalid', 'Invalid');

    const secret = this.readSecret(namespace, secretName);
    if (!secret) return failure('secret-missing', 'Valid');
    if (!secret.username || !secret.password) return failure('secret-incomplete', 'Valid');
    // rerc_crd spec.apiPort: "Port number of the cluster's URL"; silent default, 443 here (an HTTPS URL's).
    const endpoint = this.resolve(spec.apiFqdnUrl, spec.apiPort ?? 443);
    if (!endpoint) return failure('unreachable', 'Valid');

    this.loginCount += 1;
    const r = endpoint.state.authenticate(secret.username, secret.password);
    if (!r.ok) {
      this.failed.push({
        time: Date.now(),
        cluster: this.cluster,
        namespace,
        rerc: name,
        rec: endpoint.rec,
        recNamespace: endpoint.recNamespace,
        recCluster: endpoint.cluster,
        username: secret.username,
        reason: r.reason,
      });
      return failure('login-failed', 'Valid');
    }
    this.outcomes.set(key, { time: Date.now(), outcome: 'active' });
    // edit-rerc step 3: "Watch the RERC to verify the status is "Active" and the spec status is "Valid."".
    const next: RercStatus = { ...previous, status: 'Active', specStatus: 'Valid', ...base };
    if (this.exposeObservedSecretVersion && secret.version !== undefined) next.internalObservedSecretResourceVersion = secret.version;
    this.writeStatus(RERC, o, this.ordered(next));
  }

  /** rerc_crd's field order, without the internal field when it is not exposed. */
  private ordered(s: RercStatus): RercStatus {
    const out: RercStatus = {};
    if (s.status !== undefined) out.status = s.status;
    if (s.specStatus !== undefined) out.specStatus = s.specStatus;
    if (s.local !== undefined) out.local = s.local;
    if (s.observedGeneration !== undefined) out.observedGeneration = s.observedGeneration;
    if (this.exposeObservedSecretVersion && s.internalObservedSecretResourceVersion !== undefined)
      out.internalObservedSecretResourceVersion = s.internalObservedSecretResourceVersion;
    return out;
  }

  private reconcileReaadb(o: KubeObject): void {
    const namespace = o.metadata.namespace ?? '';
    const spec = (o['spec'] ?? {}) as { participatingClusters?: { name?: string }[]; redisEnterpriseCluster?: { name?: string } };
    const previous = (o['status'] ?? {}) as ReaadbStatus;
    const names = (spec.participatingClusters ?? []).map((p) => p.name ?? '');
    // Silent: where the operator looks the RERCs up; here in the REAADB's own namespace (the operator's, as in the
    // docs' examples, where RERCs and REAADB share ns-illinois).
    const rercs = names.map((n) => (n ? this.store.get(RERC, namespace, n) : undefined));
    const active = rercs.map((r) => {
      const s = (r?.['status'] ?? {}) as RercStatus;
      return s.status === 'Active' && s.specStatus === 'Valid';
    });
    const allUp = names.length > 0 && active.every(Boolean);
    // Silent: the specStatus of a REAADB naming an RERC that does not exist (`Invalid` here; reaadb_crd has no enum).
    const specStatus = names.length > 0 && rercs.every((r) => r !== undefined) ? 'Valid' : 'Invalid';
    const next: ReaadbStatus = {
      // create-reaadb / edit-rerc step 4: "active", "Valid", REPLICATION STATUS "up".
      status: allUp || this.reaadbDegraded === 'active-replication-down' ? 'active' : 'error',
      specStatus,
      replicationStatus: allUp ? 'up' : 'down',
      // reaadb_crd participatingClusters[]{name, id "ID of the instance in the Active-Active database", replicationStatus}.
      // Silent: the ids (1.. in spec order here) and that a participant whose RERC is not Active is `down`.
      participatingClusters: names.map((n, i) => ({ name: n, id: i + 1, replicationStatus: active[i] ? 'up' : 'down' })),
      // reaadb_crd secretsStatus[]{name, status Valid|Invalid}. Silent: which secrets it lists; here the RERC Secrets,
      // Valid while their RERC is Active.
      secretsStatus: rercs.flatMap((r, i) => (r ? [{ name: this.secretNameOf(r), status: active[i] ? ('Valid' as const) : ('Invalid' as const) }] : [])),
      guid: previous.guid ?? randomUUID(),
      ...(spec.redisEnterpriseCluster?.name ? { redisEnterpriseCluster: spec.redisEnterpriseCluster.name } : {}),
    };
    this.writeStatus(REAADB, o, next);
  }

  /** Writes the status only when it changed (its own write would otherwise wake it up for ever). */
  private writeStatus(resource: typeof RERC | typeof REAADB, o: KubeObject, next: object): void {
    const current = this.store.get(resource, o.metadata.namespace, o.metadata.name);
    if (!current || current.metadata.uid !== o.metadata.uid) return;
    if (JSON.stringify(current['status'] ?? {}) === JSON.stringify(next)) return;
    this.store.update(resource, { ...current, status: next });
  }
}
