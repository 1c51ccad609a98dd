// SPEC section 2: the exit codes are a contract scripts rely on.
export const ExitCode = {
  Ok: 0,
  /** Failed; nothing is left changed, or it was rolled back (the message says which). */
  Failed: 1,
  Usage: 2,
  /** Stopped in a resumable state: both passwords valid; finish or abort. */
  Resumable: 3,
  /** Preflight refused before anything changed. */
  Refused: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error meant for the user: a message that says what happened and what to do, and its exit code. */
export class ReccredError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ReccredError';
  }
}

export const usageError = (message: string, hint?: string) => new ReccredError(message, ExitCode.Usage, hint);
export const refused = (message: string, hint?: string) => new ReccredError(message, ExitCode.Refused, hint);
export const failed = (message: string, hint?: string) => new ReccredError(message, ExitCode.Failed, hint);
export const resumable = (message: string, hint?: string) => new ReccredError(message, ExitCode.Resumable, hint);
