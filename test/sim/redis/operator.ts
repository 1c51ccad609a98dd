// The components of a Redis Enterprise deployment that hold the admin credentials: the operator (reads
// the secret through the API, or Vault through its cache) and the in-pod services (read the mounted
// files). Every interval each authenticates with what it holds, counting failures like any client, so
// deleting the old password before they moved on locks the account, as the documentation warns.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterState } from './cluster-state.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface OperatorTarget {
  rec: string;
  namespace: string;
  state: ClusterState;
  /** The store as the operator reads it (Secret through the API, or Vault). */
  readStore: () => Credentials | undefined;
  /** A pod's mounted credentials folder (host path). */
  credentialsDir: string;
  /** Vault RECs: how long the operator caches what it read (VAULT_CACHE_SECRET_EXPIRATION_SECONDS). */
  cacheMs?: number;
  /** Kubernetes-secret RECs: the components see the store as it was this long ago (RecSpec.secretLagMs). */
  lagMs?: number;
  /** When the store last changed (lagMs counts from it). */
  storeChangedAt?: () => number | undefined;
  /** The operator's own reconcile of the REC, run every round even while the components are switched off. */
  reconcile?: () => void;
}

export interface OperatorFailure {
  time: number;
  rec: string;
  source: 'store' | 'files';
  username: string;
  reason: 'failed' | 'locked' | 'none';
}

interface Tracked {
  target: OperatorTarget;
  enabled: boolean;
  cached: { creds: Credentials; at: number } | undefined;
  /** lagMs: each value the store held, from when it was first read. */
  history: Array<{ creds: Credentials | undefined; at: number }>;
  failures: OperatorFailure[];
}

export class OperatorComponents {
  private readonly recs = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private intervalMs: number) {}

  add(target: OperatorTarget): void {
    this.recs.set(target.rec, { target, enabled: true, cached: undefined, history: [], failures: [] });
  }

  /** Tests that need a quiet cluster switch a REC's components off (and back on). */
  setEnabled(rec: string, enabled: boolean): void {
    const t = this.recs.get(rec);
    if (t) t.enabled = enabled;
  }

  setInterval(ms: number): void {
    this.intervalMs = ms;
    if (this.timer) {
      this.stop();
      this.start();
    }
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tickAll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  failures(rec: string): OperatorFailure[] {
    return [...(this.recs.get(rec)?.failures ?? [])];
  }

  /** One round now (tests call it to avoid waiting for the timer). */
  tickAll(): void {
    for (const t of this.recs.values()) {
      t.target.reconcile?.();
      if (t.enabled) this.tick(t);
    }
  }

  private tick(t: Tracked): void {
    const now = Date.now();
    const { target } = t;
    if (target.lagMs) {
      const creds = this.lagged(t, now);
      t.cached = creds && { creds, at: now };
    } else if (!t.cached || !target.cacheMs || now - t.cached.at >= target.cacheMs) {
      const creds = target.readStore();
      t.cached = creds && { creds, at: now };
    }
    if (t.cached) this.attempt(t, 'store', t.cached.creds);
    const files = readFiles(target.credentialsDir);
    if (files) this.attempt(t, 'files', files);
  }

  /**
   * The store's value as it was lagMs ago, timed from the change itself (not from the tick that noticed it, which a
   * busy event loop delays): a removal less than lagMs after the change meets the old value at the next tick, and
   * one after it never does.
   */
  private lagged(t: Tracked, now: number): Credentials | undefined {
    const creds = t.target.readStore();
    const last = t.history.at(-1);
    if (!last || JSON.stringify(last.creds) !== JSON.stringify(creds)) t.history.push({ creds, at: Math.min(now, t.target.storeChangedAt?.() ?? now) });
    const due = t.history.filter((h) => h.at <= now - (t.target.lagMs ?? 0));
    t.history = t.history.slice(Math.max(0, due.length - 1));
    return (due.at(-1) ?? t.history[0])?.creds;
  }

  private attempt(t: Tracked, source: 'store' | 'files', creds: Credentials): void {
    const r = t.target.state.authenticate(creds.username, creds.password);
    if (!r.ok) t.failures.push({ time: Date.now(), rec: t.target.rec, source, username: creds.username, reason: r.reason });
  }
}

function readFiles(dir: string): Credentials | undefined {
  try {
    return {
      username: readFileSync(join(dir, 'username'), 'utf8'),
      password: readFileSync(join(dir, 'password'), 'utf8'),
    };
  } catch {
    return undefined;
  }
}

/**
 * How an operator treats spec.clusterCredentialSecretName, by generation (RedisLabs/redis-enterprise-k8s-docs
 * crds/rec_crd.yaml at each tag):
 * - `renamable` (v8.0.18-11 and later): "On running clusters, this field can be changed to point to a different
 *   existing secret. The new secret must exist, contain valid 'username' and 'password' fields, and the credentials
 *   must work with the RS cluster"; status.clusterCredentialSecretName is "currently in use by the cluster ... updated
 *   when the secret name changes" (also content/operate/kubernetes/release-notes/8-0-18-releases/8-0-18-11-april2026.md).
 *   How long the switch takes, and any other sign of it, is not documented: spec != status is the only observable.
 * - `fixed` (v7.8.6-11, v8.0.10-21 to v8.0.16-25): the status field holds the name "set upon cluster creation" and
 *   is "used to prevent changes": a changed spec is never applied.
 * - `no-status` (older): no status field; the name set at creation stays in use (the spec "can only be set upon
 *   cluster creation").
 */
export type CredentialSecretNaming = 'renamable' | 'fixed' | 'no-status';

export interface CredentialSecretSource {
  naming: CredentialSecretNaming;
  /** `renamable`: how long a valid new name waits before the operator switches to it. */
  renameMs: number;
  /** spec.clusterCredentialSecretName, or the REC's name when blank. */
  wanted: () => string;
  /** The new Secret exists, has both keys, and the cluster accepts them (checked without a counted login). */
  valid: (name: string) => boolean;
  /** Records the switch where this generation shows it (status.clusterCredentialSecretName). */
  publish: (name: string) => void;
}

/** The credential Secret (or Vault entry) the operator uses for one REC: what its components and the pods read. */
export class CredentialSecretInUse {
  private pending: { name: string; since: number } | undefined;

  constructor(
    private readonly source: CredentialSecretSource,
    public current: string,
  ) {}

  reconcile(now = Date.now()): void {
    if (this.source.naming !== 'renamable') return;
    const wanted = this.source.wanted();
    if (wanted === this.current || !this.source.valid(wanted)) {
      this.pending = undefined;
      return;
    }
    if (this.pending?.name !== wanted) this.pending = { name: wanted, since: now };
    if (now - this.pending.since < this.source.renameMs) return;
    this.current = wanted;
    this.pending = undefined;
    this.source.publish(wanted);
  }
}
