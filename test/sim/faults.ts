// Faults tests switch on. Components consult this object on every request; tests mutate it.
export interface RouteFault {
  /** Matched against "METHOD /path" (path without query). */
  match: RegExp;
  status: 500 | 429 | 503;
  /** How many more requests fail; Infinity for "until cleared". */
  remaining: number;
}

export class Faults {
  /** Added before every Kubernetes API response and before every exec session starts. */
  apiLatencyMs = 0;
  execLatencyMs = 0;
  apiErrors: RouteFault[] = [];
  restErrors: RouteFault[] = [];
  /** The next N writes (update/patch) of any Secret answer 409 Conflict. */
  secretWriteConflicts = 0;
  /** The next N exec sessions run their command to the end, then the socket is closed without the status frame. */
  dropExecBeforeStatus = 0;
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
