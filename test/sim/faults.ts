// Faults tests switch on. Components consult this object on every request; tests mutate it.
// A test that arms a fault also proves it fired: counted faults say how many occurrences are left,
// route faults log each request they hit (`fired`), and watchExecSessions names the session a drop hit.
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
  /** The next sessions that made a matching REST call end with this status frame instead of the real one. */
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

/** One exec session as the sim saw it, numbered in the order the sessions opened. */
export interface ExecSessionSeen {
  index: number;
  pod: string;
  /** "METHOD /path" of each REST call its command made through the pod's REST API. */
  rest: string[];
  /** Its status frame was withheld by dropExecBeforeStatus. */
  dropped: boolean;
  /** What the caller's `label` said when it opened (e.g. the journal phase). */
  label: string | undefined;
}

/** Which session to drop: the n-th of the run, or the n-th that opens while `label` says `label`. */
export type ExecDropPoint = number | { label: string; ordinal: number };

/**
 * Numbers the exec sessions that open from now on (1, 2, ...) and, with `dropAt`, drops the status of
 * exactly that session. The sim consumes dropExecBeforeStatus as the next session opens (it decrements it
 * just before recording that session), so the drop is armed whenever the next session to open is the
 * chosen one: after the session before it opened, or when the label changes (call labelChanged then;
 * a change away from the chosen label disarms it). Each session says whether the drop hit it, so a test
 * asserts which one did rather than assume.
 */
export function watchExecSessions(
  audit: AuditLog,
  faults: Faults,
  options: { dropAt?: ExecDropPoint; label?: () => string | undefined } = {},
): { sessions: ExecSessionSeen[]; labelChanged: () => void; stop: () => void } {
  const sessions: ExecSessionSeen[] = [];
  const open: ExecSessionSeen[] = [];
  const target = options.dropAt;
  let armed = false;
  let hit = false;
  const nextIsTarget = () => {
    if (target === undefined || hit) return false;
    if (typeof target === 'number') return sessions.length + 1 === target;
    return options.label?.() === target.label && sessions.filter((x) => x.label === target.label).length + 1 === target.ordinal;
  };
  const update = () => {
    const want = nextIsTarget();
    if (want !== armed) faults.dropExecBeforeStatus = want ? 1 : 0;
    armed = want;
  };
  update();
  const stop = audit.onRecord((e) => {
    if (e.kind === 'exec') {
      const dropped = armed && faults.dropExecBeforeStatus === 0;
      if (dropped) [armed, hit] = [false, true];
      const s: ExecSessionSeen = { index: sessions.length + 1, pod: e.pod, rest: [], dropped, label: options.label?.() };
      sessions.push(s);
      open.push(s);
      update();
    } else if (e.kind === 'rest') {
      // The pod's REST API records a call while the session that made it is open (the sim's own attribution).
      const s = open.filter((o) => o.pod === e.pod).pop();
      s?.rest.push(`${e.method} ${e.path}`);
    } else if (e.kind === 'exec-output') {
      const i = open.findIndex((o) => o.pod === e.pod);
      if (i >= 0) open.splice(i, 1);
    }
  });
  return {
    sessions,
    labelChanged: update,
    stop: () => {
      stop();
      // A drop armed and never consumed must not hit a later run.
      if (armed) faults.dropExecBeforeStatus = 0;
      armed = false;
    },
  };
}
