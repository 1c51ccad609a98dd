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
  failures: OperatorFailure[];
}

export class OperatorComponents {
  private readonly recs = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private intervalMs: number) {}

  add(target: OperatorTarget): void {
    this.recs.set(target.rec, { target, enabled: true, cached: undefined, failures: [] });
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
    for (const t of this.recs.values()) if (t.enabled) this.tick(t);
  }

  private tick(t: Tracked): void {
    const now = Date.now();
    const { target } = t;
    if (!t.cached || !target.cacheMs || now - t.cached.at >= target.cacheMs) {
      const creds = target.readStore();
      t.cached = creds && { creds, at: now };
    }
    if (t.cached) this.attempt(t, 'store', t.cached.creds);
    const files = readFiles(target.credentialsDir);
    if (files) this.attempt(t, 'files', files);
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
