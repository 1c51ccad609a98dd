// The journal is a lease, as in Kubernetes leader election (client-go tools/leaderelection, the
// coordination.k8s.io Lease): the holder renews it while it runs, and a taker judges it expired only by
// watching it not change for a whole lease duration on the taker's own clock. Hostnames, pids and the
// holder's clock prove nothing across containers and machines (SPEC 3.6); the holder's process is
// consulted only where it is provably visible: same boot, same PID namespace, and a /proc that numbers
// processes as that namespace does.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { z } from 'zod';

export const Lease = z.object({
  /** Random per process: who holds it, whatever the hostname or pid. */
  holderId: z.string(),
  durationMs: z.number().int().positive(),
  pid: z.number().int(),
  bootId: z.string().optional(),
  pidNamespace: z.string().optional(),
  /** Field 22 of /proc/PID/stat (start time in clock ticks since boot): tells a reused pid apart. */
  processStart: z.string().optional(),
});
export type Lease = z.infer<typeof Lease>;

/** Kubernetes' default leader-election lease is 15 s; a rotation's single steps (an exec, a poll) can last longer. */
export const DEFAULT_LEASE_MS = 30_000;
/** A taker never waits longer than this, whatever a journal claims. */
const MAX_LEASE_MS = 10 * 60_000;

let longestRequestMs = 60_000;
/**
 * The longest a request of this process may run (its --request-timeout): a change it sent may still
 * be running in a pod that long after it died, so the lease lasts at least that long.
 */
export function setLongestRequest(ms: number): void {
  longestRequestMs = ms;
}

export function leaseDurationMs(): number {
  // A test knob: the suites keep takeovers short. Not for production, where the request timeout rules.
  const fromEnv = Number(process.env.RECCRED_LEASE_MS);
  if (Number.isInteger(fromEnv) && fromEnv >= 300 && fromEnv <= MAX_LEASE_MS) return fromEnv;
  return Math.min(MAX_LEASE_MS, Math.max(DEFAULT_LEASE_MS, longestRequestMs + 5000));
}

const readText = (path: string): string | undefined => {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

const readLink = (path: string): string | undefined => {
  try {
    return fs.readlinkSync(path);
  } catch {
    return undefined;
  }
};

/** Start time of a process as /proc shows it; undefined when there is no such process (or no /proc). */
function processStart(pid: number): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ")".
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

interface LocalIdentity {
  holderId: string;
  bootId?: string;
  pidNamespace?: string;
  /** Whether /proc numbers processes as this process's PID namespace does. */
  procMatches: boolean;
}

let local: LocalIdentity | undefined;
function localIdentity(): LocalIdentity {
  local ??= {
    holderId: crypto.randomUUID(),
    bootId: readText('/proc/sys/kernel/random/boot_id')?.trim(),
    pidNamespace: readLink('/proc/self/ns/pid'),
    procMatches: readLink('/proc/self') === String(process.pid),
  };
  return local;
}

/** The lease this process writes into every journal it holds. */
export function ownLease(): Lease {
  const me = localIdentity();
  const visible = me.procMatches && me.bootId && me.pidNamespace;
  return {
    holderId: me.holderId,
    durationMs: leaseDurationMs(),
    pid: process.pid,
    ...(visible ? { bootId: me.bootId, pidNamespace: me.pidNamespace, processStart: processStart(process.pid) } : {}),
  };
}

export const heldByThisProcess = (lease: Lease | undefined): boolean => lease?.holderId === localIdentity().holderId;

/**
 * "gone" only when the holder's process provably no longer exists: it ran on this boot of this machine,
 * in this PID namespace, and that pid is free or now belongs to a process started at another time.
 * Anything else is "unknown", and only the lease itself can tell (a full lease duration without change).
 */
export function holderProcess(lease: Lease | undefined): 'gone' | 'unknown' {
  const me = localIdentity();
  if (!lease?.bootId || !lease.pidNamespace || !lease.processStart) return 'unknown';
  if (!me.procMatches || lease.bootId !== me.bootId || lease.pidNamespace !== me.pidNamespace) return 'unknown';
  if (lease.holderId === me.holderId) return 'unknown';
  try {
    process.kill(lease.pid, 0);
  } catch (err) {
    // EPERM: a process of another user has that pid, so it exists; /proc may hide it (hidepid).
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return 'gone';
  }
  const start = processStart(lease.pid);
  return start !== undefined && start !== lease.processStart ? 'gone' : 'unknown';
}

/** How long a taker watches the lease before it may take it: the holder's own figure, bounded. */
export const takeoverWaitMs = (lease: Lease | undefined): number => Math.min(lease?.durationMs ?? DEFAULT_LEASE_MS, MAX_LEASE_MS);
