// Faults tests switch on. Components consult this object on every request; tests mutate it.
// A test that arms a fault also proves it fired: counted faults say how many occurrences are left,
// route faults log each request they hit (`fired`), and watchExecRequests names the exec request a drop hit.
import type { AuditLog } from './audit.js';

export interface RouteFault {
  /** Matched against "METHOD /path" (path without query). */
  match: RegExp;
  status: 500 | 429 | 503;
  /** How many more requests fail; Infinity for "until cleared". */
  remaining: number;
}

/**
 * A status frame other than the kubelet's: `text` is a plain-text error on channel 3 (what the error
 * channel carried before v4, which made it a JSON metav1.Status with exit codes: kubernetes
 * staging/src/k8s.io/apimachinery/pkg/util/remotecommand/constants.go), `empty-exit-code` a
 * NonZeroExitCode Status whose ExitCode cause is empty. Neither says whether the command ran or how it
 * ended; the plugin relies on neither, it must only never read them as success.
 */
export interface ExecStatusFault {
  /** Matched against "METHOD /path" of each REST call the session's command made (through the pod's REST API). */
  match: RegExp;
  status: 'text' | 'empty-exit-code';
  remaining: number;
}

/** One request a route fault answered in place of the real reply. */
export interface FiredFault {
  fault: RouteFault;
  /** "METHOD /path" of the request it hit. */
  request: string;
  time: number;
}

export class Faults {
  /** Added before every Kubernetes API response and before every exec session starts. */
  apiLatencyMs = 0;
  execLatencyMs = 0;
  apiErrors: RouteFault[] = [];
  restErrors: RouteFault[] = [];
  /** The next N writes (update/patch) of a Secret answer 409 Conflict: of any Secret, or only of the one named. */
  secretWriteConflicts = 0;
  secretWriteConflictName: string | undefined = undefined;
  /** The next N exec sessions run their command to the end, then the socket is closed without the status frame. */
  dropExecBeforeStatus = 0;
  /**
   * The next N requests (a stdin frame after a session's first) lose their answer: the session's connection is
   * cut at the request's first REST call (after the call ran) or its first output, whichever comes first.
   */
  dropExecRequest = 0;
  /** A session whose command makes a matching REST call is cut right after the call ran: no reply, no status. */
  dropExecAtRest: { match: RegExp; remaining: number }[] = [];
  /** A session whose command makes a matching REST call ends there, with this status frame instead of the reply. */
  execStatusFaults: ExecStatusFault[] = [];
  /** Every exec upgrade is refused with 403 while set. */
  refuseExec = false;
  /** Pods ("ns/name") whose kubelet stops syncing the credentials volume. */
  frozenPods = new Set<string>();
  /** Vault answers 503 sealed while set. */
  vaultSealed = false;
  /** Every request a route fault (apiErrors, restErrors) hit, in order; emptied by reset(). */
  fired: FiredFault[] = [];

  /** Returns the status to fail with, consuming one occurrence, or null. */
  take(list: RouteFault[], method: string, path: string): number | null {
    const key = `${method.toUpperCase()} ${path}`;
    for (const f of list) {
      if (f.remaining > 0 && f.match.test(key)) {
        f.remaining -= 1;
        this.fired.push({ fault: f, request: key, time: Date.now() });
        return f.status;
      }
    }
    return null;
  }

  /** The requests `fault` hit so far. */
  hits(fault: RouteFault): string[] {
    return this.fired.filter((f) => f.fault === fault).map((f) => f.request);
  }

  reset(): void {
    Object.assign(this, new Faults());
  }
}

/** One request of an exec session (a stdin frame after the session's first), numbered in the order they came. */
export interface ExecRequestSeen {
  index: number;
  pod: string;
  /** "METHOD /path" of each REST call made while it was the pod's latest request. */
  rest: string[];
  /** Its answer was cut off by dropExecRequest: the drop was aimed at it and the session was cut. */
  dropped: boolean;
  /** What the caller's `label` said when it came (e.g. the journal phase). */
  label: string | undefined;
}

/** Which request to drop: the n-th of the run, or the n-th that comes while `label` says `label`. */
export type ExecDropPoint = number | { label: string; ordinal: number };

/**
 * Numbers the exec requests that come from now on (1, 2, ...) and, with `dropAt`, cuts off the answer of
 * exactly that request. The sim consumes dropExecRequest as the next request arrives (it decrements it just
 * before recording that request), so the drop is armed whenever the next request is the chosen one: after the
 * request before it came, or when the label changes (call labelChanged then; a change away from the chosen
 * label disarms it). Each request says whether the drop hit it, so a test asserts which one did rather than
 * assume.
 */
export function watchExecRequests(
  audit: AuditLog,
  faults: Faults,
  options: { dropAt?: ExecDropPoint; label?: () => string | undefined } = {},
): { requests: ExecRequestSeen[]; labelChanged: () => void; stop: () => void } {
  const requests: ExecRequestSeen[] = [];
  const target = options.dropAt;
  let armed = false;
  let hit = false;
  const nextIsTarget = () => {
    if (target === undefined || hit) return false;
    if (typeof target === 'number') return requests.length + 1 === target;
    return options.label?.() === target.label && requests.filter((x) => x.label === target.label).length + 1 === target.ordinal;
  };
  const update = () => {
    const want = nextIsTarget();
    if (want !== armed) faults.dropExecRequest = want ? 1 : 0;
    armed = want;
  };
  update();
  // The request the drop was aimed at, until its session is seen cut.
  let aimed: ExecRequestSeen | undefined;
  const stop = audit.onRecord((e) => {
    if (e.kind === 'exec-stdin') {
      const request: ExecRequestSeen = { index: requests.length + 1, pod: e.pod, rest: [], dropped: false, label: options.label?.() };
      if (armed && faults.dropExecRequest === 0) [armed, hit, aimed] = [false, true, request];
      requests.push(request);
      update();
    } else if (e.kind === 'exec-cut') {
      if (aimed?.pod === e.pod) [aimed.dropped, aimed] = [true, undefined];
    } else if (e.kind === 'rest') {
      const r = requests.filter((o) => o.pod === e.pod).pop();
      r?.rest.push(`${e.method} ${e.path}`);
    }
  });
  return {
    requests,
    labelChanged: update,
    stop: () => {
      stop();
      // A drop armed and never consumed must not hit a later run.
      if (armed) faults.dropExecRequest = 0;
      armed = false;
    },
  };
}
