// The kubelet's secret-volume sync: each pod's credentials folder follows its secret after a delay, and
// is swapped atomically through a `..data` symlink exactly as kubelet's AtomicWriter lays it out:
//   ..2026_11_24_18_00_00.123456789/{username,password}   the payload of one version
//   ..data -> ..2026_...                                   replaced by rename(..data_tmp, ..data)
//   username -> ..data/username, password -> ..data/password
import { mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import type { Faults } from '../faults.js';

export interface KubeletPod {
  namespace: string;
  name: string;
  rec: string;
  credentialsDir: string;
}

/** The current payload of a REC's credentials (secret or Vault), or undefined while there is none. */
export type CredentialSource = (namespace: string, rec: string) => Record<string, string> | undefined;

interface PodSync {
  pod: KubeletPod;
  /** JSON of the payload now on disk. */
  applied: string | undefined;
  /** A newer payload seen at `since`, written once the delay has passed. */
  pending: { content: string; since: number } | undefined;
}

let counter = 0;

export class Kubelet {
  delayMs: number;
  private readonly pods = new Map<string, PodSync>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: { faults: Faults; source: CredentialSource; delayMs: number; pollMs?: number }) {
    this.delayMs = o.delayMs;
  }

  addPod(pod: KubeletPod): void {
    this.pods.set(`${pod.namespace}/${pod.name}`, { pod, applied: undefined, pending: undefined });
    this.syncNow(pod.namespace, pod.name);
  }

  /** Writes the current payload right away: what a (re)starting pod mounts. Frozen pods too. */
  syncNow(namespace: string, name: string): void {
    const s = this.pods.get(`${namespace}/${name}`);
    if (!s) return;
    const payload = this.o.source(s.pod.namespace, s.pod.rec);
    if (!payload) return;
    this.write(s, JSON.stringify(payload));
  }

  start(): void {
    if (this.timer) return;
    const poll = this.o.pollMs ?? Math.max(10, Math.min(100, Math.floor(this.delayMs / 4)));
    this.timer = setInterval(() => this.tick(), poll);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const now = Date.now();
    for (const s of this.pods.values()) {
      const payload = this.o.source(s.pod.namespace, s.pod.rec);
      if (!payload) continue;
      const content = JSON.stringify(payload);
      if (content === s.applied) {
        s.pending = undefined;
        continue;
      }
      if (s.pending?.content !== content) s.pending = { content, since: now };
      if (this.o.faults.frozenPods.has(`${s.pod.namespace}/${s.pod.name}`)) continue;
      if (now - s.pending.since >= this.delayMs) this.write(s, content);
    }
  }

  /** True when the pod's folder holds the current payload. */
  synced(namespace: string, name: string): boolean {
    const s = this.pods.get(`${namespace}/${name}`);
    if (!s) return false;
    const payload = this.o.source(s.pod.namespace, s.pod.rec);
    return payload !== undefined && JSON.stringify(payload) === s.applied;
  }

  /** Resolves once every pod that is not frozen shows the current payload. */
  async waitForSync(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lagging = [...this.pods.values()].filter((s) => !this.o.faults.frozenPods.has(`${s.pod.namespace}/${s.pod.name}`) && !this.synced(s.pod.namespace, s.pod.name));
      if (!lagging.length) return;
      if (Date.now() > deadline) throw new Error(`kubelet: pods not synced after ${timeoutMs} ms: ${lagging.map((s) => s.pod.name).join(', ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private write(s: PodSync, content: string): void {
    const dir = s.pod.credentialsDir;
    mkdirSync(dir, { recursive: true });
    const payload = JSON.parse(content) as Record<string, string>;
    const version = timestampDir();
    mkdirSync(join(dir, version), { mode: 0o755 });
    for (const [k, v] of Object.entries(payload)) writeFileSync(join(dir, version, k), v, { mode: 0o644 });
    // The swap readers see is a single rename of a symlink: never a half-written folder.
    rmSync(join(dir, '..data_tmp'), { force: true });
    symlinkSync(version, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    for (const k of Object.keys(payload)) {
      if (!exists(join(dir, k))) symlinkSync(join('..data', k), join(dir, k));
    }
    for (const entry of readdirSync(dir)) {
      if (entry.startsWith('..') && entry !== '..data' && entry !== version) rmSync(join(dir, entry), { recursive: true, force: true });
      else if (!entry.startsWith('..') && !(entry in payload) && isLink(join(dir, entry))) rmSync(join(dir, entry));
    }
    s.applied = content;
    s.pending = undefined;
  }
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function isLink(p: string): boolean {
  try {
    return readlinkSync(p).startsWith('..data/');
  } catch {
    return false;
  }
}

/** `..YYYY_MM_DD_HH_MM_SS.NNNNNNNNN`, unique even for two writes in one millisecond. */
function timestampDir(): string {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const nanos = d.getUTCMilliseconds() * 1_000_000 + (counter++ % 1_000_000);
  return `..${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}.${p(nanos, 9)}`;
}
