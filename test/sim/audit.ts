// What a real cluster's audit trail would show, so tests can prove no secret leaks.
export type AuditEvent =
  | { kind: 'api'; time: number; user: string; method: string; uri: string; status: number }
  | { kind: 'exec'; time: number; user: string; namespace: string; pod: string; container: string; command: string[]; protocols?: string[] }
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
