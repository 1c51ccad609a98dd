// What a real cluster's audit trail would show, so tests can prove no secret leaks.

/**
 * Who an API request came from and as whom it acted, as a real audit event records them
 * (staging/src/k8s.io/apiserver/pkg/apis/audit/types.go: user, impersonatedUser).
 */
export interface ApiAuditIdentity {
  /** The authenticated user (system:anonymous when none); with impersonation, still the caller. */
  user: string;
  /** The Host header: the address the client targeted (a proxy in between does not change it). */
  host?: string;
  /** How the user was authenticated; absent when authentication failed (status 401). */
  authn?: 'x509' | 'token' | 'anonymous';
  /** The Impersonate-* headers as sent, whether or not impersonation was allowed. */
  impersonation?: { user?: string; groups: string[]; uid?: string; extra: Record<string, string[]> };
  /** Whom the request acted as, once impersonation was allowed: the name, the groups (system:authenticated added as the filter adds it), the uid. */
  impersonatedUser?: string;
  impersonatedGroups?: string[];
  impersonatedUid?: string;
}

export type AuditEvent =
  | ({ kind: 'api'; time: number; method: string; uri: string; status: number } & ApiAuditIdentity)
  | { kind: 'exec'; time: number; user: string; namespace: string; pod: string; container: string; command: string[]; protocols?: string[] }
  /** A request of an exec session: a stdin frame after the session's first (the simulator's own record, for faults). */
  | { kind: 'exec-stdin'; time: number; namespace: string; pod: string; frame: number }
  /** A fault cut an exec session off (the simulator's own record). */
  | { kind: 'exec-cut'; time: number; namespace: string; pod: string }
  /** What an exec session's command wrote, as the API server streamed it to the client. */
  | { kind: 'exec-output'; time: number; namespace: string; pod: string; stdout: string; stderr: string }
  /**
   * A program exec'd in a pod: with `path` when the exec was traced (every execve, `failed` when it did not load,
   * as a shell's PATH lookup tries several folders), else a wrapper's record (curl, sh and bash only).
   */
  | { kind: 'argv'; time: number; namespace: string; pod: string; argv: string[]; path?: string; failed?: true }
  | {
      kind: 'rest';
      time: number;
      rec: string;
      pod: string;
      method: string;
      path: string;
      user: string | null;
      auth: 'ok' | 'failed' | 'locked' | 'none';
      status: number;
    }
  | { kind: 'vault'; time: number; method: string; uri: string; status: number };

export class AuditLog {
  private readonly list: AuditEvent[] = [];
  private readonly listeners = new Set<(e: AuditEvent) => void>();

  record(event: AuditEvent): void {
    this.list.push(event);
    for (const l of this.listeners) l(event);
  }

  /** Called synchronously as each event is recorded (before the request is answered). */
  onRecord(listener: (e: AuditEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  events(): readonly AuditEvent[] {
    return this.list;
  }

  /** Every string a secret could hide in: URIs, argv, REST paths. */
  texts(): string[] {
    return this.list.map((e) => JSON.stringify(e));
  }

  failedRestAuths(rec?: string): number {
    return this.list.filter((e) => e.kind === 'rest' && (e.auth === 'failed' || e.auth === 'locked') && (rec === undefined || e.rec === rec)).length;
  }

  mark(): number {
    return this.list.length;
  }

  since(mark: number): readonly AuditEvent[] {
    return this.list.slice(mark);
  }
}
