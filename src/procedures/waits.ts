// The two waits of SPEC 3.3: every pod mounts the new credentials (checked by hash, so the secret
// never travels back), then the settle period since the store was updated. Both show progress,
// stop as soon as the run has lost its lease (the journal renews it on its own meanwhile), and stop on
// Ctrl-C leaving a resumable state.
import { formatDuration } from '../duration/duration.js';
import { resumable } from '../errors/exit-codes.js';
import type { Progress } from '../output/progress.js';
import { ExecRefusedError } from '../pod/exec-session.js';
import { sha256 } from '../pod/pod-transport.js';
import type { RecTarget } from '../rec/rec-target.js';

export class InterruptedError extends Error {
  constructor() {
    super('interrupted');
    this.name = 'InterruptedError';
  }
}

export interface PodPropagation {
  pod: string;
  state: 'current' | 'pending' | 'unreachable';
}

/** Runs a wait without holding the caller's concurrency slot (fleet runs: the waits of all RECs overlap). */
export type Idle = <T>(wait: () => Promise<T>) => Promise<T>;

export interface WaitContext {
  target: RecTarget;
  progress: Progress;
  signal: AbortSignal;
  /** Called at every tick of a wait: throws once the run lost its lease. */
  stillHeld: () => void;
  pollMs: number;
  idle?: Idle;
}

const outsideSlot = <T>(ctx: WaitContext, wait: () => Promise<T>): Promise<T> => (ctx.idle ? ctx.idle(wait) : wait());

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new InterruptedError());
      return;
    }
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new InterruptedError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * What each pod mounts, against `expected`. Empty for a Vault REC none of whose pods has the credential files:
 * where Vault-backed pods see the credentials is not documented (content/operate/kubernetes/security/vault.md),
 * so there is nothing to compare, and the settle, never shorter than the operator's Vault cache
 * (VAULT_CACHE_SECRET_EXPIRATION_SECONDS), covers propagation. A Kubernetes-Secret REC without the files, or
 * a Vault REC where some pods have them, is pending as ever.
 */
export async function podPropagation(
  target: RecTarget,
  expected: { username: string; password: string },
  /** Throw the API server's refusal of an exec (RBAC) instead of calling the pod unreachable: a wait would never see it pass. */
  { throwForbidden = false, known = new Set<string>() }: { throwForbidden?: boolean; known?: ReadonlySet<string> } = {},
): Promise<PodPropagation[]> {
  const want = { username: sha256(expected.username), password: sha256(expected.password) };
  const seen = await Promise.all(
    target.pods.map(async (p) => {
      const pod = p.metadata.name;
      // Already seen current in this wait: not asked again (the last look before a removal asks every pod).
      if (known.has(pod)) return { pod, hashes: want };
      try {
        return { pod, hashes: await target.transport.credentialHashes(pod) };
      } catch (err) {
        if (throwForbidden && err instanceof ExecRefusedError && err.httpStatus === 403) throw err;
        // A pod being restarted cannot be exec'd into for a moment; it is still pending, not failed.
        return { pod, hashes: undefined };
      }
    }),
  );
  const noFiles = (h: (typeof seen)[number]['hashes']) => h?.username === null && h.password === null;
  if (target.storeType === 'vault' && seen.length > 0 && seen.every((s) => noFiles(s.hashes))) return [];
  return seen.map(({ pod, hashes: h }): PodPropagation => {
    if (!h) return { pod, state: 'unreachable' };
    return { pod, state: h.username === want.username && h.password === want.password ? 'current' : 'pending' };
  });
}

/** What the run says where podPropagation found no mounted credentials to compare. */
export const NO_MOUNTED_CREDENTIALS =
  "the pods of this Vault REC mount no credential files (/opt/redislabs/credentials is empty on every pod): propagation is covered by the settle, which is never shorter than the operator's Vault cache (VAULT_CACHE_SECRET_EXPIRATION_SECONDS)";

export async function waitForPropagation(ctx: WaitContext, expected: { username: string; password: string }, timeoutMs: number): Promise<PodPropagation[]> {
  return outsideSlot(ctx, () => pollPropagation(ctx, expected, timeoutMs));
}

/**
 * When to look again: kubelet refreshes a mounted Secret on its sync period plus its cache TTL (a minute or
 * more), so the first look comes after one poll interval and the next ones back off by half again, with jitter
 * (RECs of a fleet do not poll in step), up to 7.5 intervals (15 s by default).
 */
export function nextPollMs(pollMs: number, previousMs: number | undefined, random = Math.random): number {
  const base = previousMs === undefined ? pollMs : Math.min(previousMs * 1.5, pollMs * 7.5);
  return Math.round(base * (0.8 + 0.4 * random()));
}

async function pollPropagation(ctx: WaitContext, expected: { username: string; password: string }, timeoutMs: number): Promise<PodPropagation[]> {
  const started = Date.now();
  const current = new Set<string>();
  let delay: number | undefined;
  for (;;) {
    ctx.stillHeld();
    // A refused exec (RBAC) does not pass with time: say so now, not after the timeout as "unreachable".
    const states = await podPropagation(ctx.target, expected, { throwForbidden: true, known: current });
    for (const s of states) if (s.state === 'current') current.add(s.pod);
    if (!states.length) {
      if (ctx.target.pods.length) ctx.progress.note(NO_MOUNTED_CREDENTIALS);
      return states;
    }
    if (current.size === states.length) return states;
    const elapsed = Date.now() - started;
    if (elapsed >= timeoutMs) {
      const late = states.filter((s) => s.state !== 'current').map((s) => `${s.pod} (${s.state})`);
      throw resumable(`propagation timed out after ${formatDuration(timeoutMs)}: ${late.join(', ')} still mount the previous credentials`);
    }
    delay = nextPollMs(ctx.pollMs, delay);
    const wait = Math.min(delay, timeoutMs - elapsed);
    const shown = `propagation ${current.size}/${states.length} pods (${states.map((s) => `${s.pod}:${s.state}`).join(' ')}), ${formatDuration(elapsed)} of up to ${formatDuration(timeoutMs)}`;
    // The countdown to the next look, second by second: the display never claims a check that is not happening.
    for (let left = wait; left > 0; left -= 1000) {
      ctx.progress.waiting(`${shown}; next check in ${formatDuration(left)}`);
      await sleep(Math.min(1000, left), ctx.signal);
      ctx.stillHeld();
    }
  }
}

export async function waitUntil(ctx: WaitContext, deadline: number, what: string): Promise<void> {
  if (Date.now() >= deadline) return;
  return outsideSlot(ctx, () => sleepUntil(ctx, deadline, what));
}

async function sleepUntil(ctx: WaitContext, deadline: number, what: string): Promise<void> {
  // No exec session is held open through a settle (each is a process in a production container, and the
  // settle is minutes long by default): the look after it opens new ones, authorized afresh.
  await ctx.target.transport.release();
  while (Date.now() < deadline) {
    ctx.stillHeld();
    ctx.progress.waiting(`${what}: ${formatDuration(deadline - Date.now())} left`);
    await sleep(Math.min(1000, deadline - Date.now()), ctx.signal);
  }
}
