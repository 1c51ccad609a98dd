// Faults tests switch on. Components consult this object on every request; tests mutate it.
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

  /** Returns the status to fail with, consuming one occurrence, or null. */
  take(list: RouteFault[], method: string, path: string): number | null {
    const key = `${method.toUpperCase()} ${path}`;
    for (const f of list) {
      if (f.remaining > 0 && f.match.test(key)) {
        f.remaining -= 1;
        return f.status;
      }
    }
    return null;
  }

  reset(): void {
    Object.assign(this, new Faults());
  }
}
