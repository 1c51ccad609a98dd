// The seam between the API server's exec endpoint and the pod sandboxes.
import type { Readable, Writable } from 'node:stream';

export interface ExecRequest {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  stdin: boolean;
}

export interface ExecProcess {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Resolves when the command ends: its exit code, or the signal that killed it. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
}

export interface PodExecutor {
  exec(request: ExecRequest): ExecProcess;
}
