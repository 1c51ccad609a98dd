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

/**
 * Several RECs in one run exit with the worst of their codes, in this order: 3 (something is left in
 * flight and needs finish or abort) > 1 (failed) > 4 (refused, nothing changed) > 2 (bad input) > 0.
 */
export const EXIT_SEVERITY: readonly ExitCode[] = [ExitCode.Ok, ExitCode.Usage, ExitCode.Refused, ExitCode.Failed, ExitCode.Resumable];

export function worstExitCode(codes: Iterable<number>): ExitCode {
  let worst: ExitCode = ExitCode.Ok;
  for (const c of codes) {
    const code = (EXIT_SEVERITY.includes(c as ExitCode) ? c : ExitCode.Failed) as ExitCode;
    if (EXIT_SEVERITY.indexOf(code) > EXIT_SEVERITY.indexOf(worst)) worst = code;
  }
  return worst;
}
