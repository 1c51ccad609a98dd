// Shared frame of rotate, finish and abort: Ctrl-C handling, the journal's context, and turning the
// outcome into the exit code, the message and the result document.
import { ExitCode, ReccredError } from '../errors/exit-codes.js';
import { explainError } from './explain-error.js';
import type { Session } from '../rec/session.js';
import type { JournalRecord } from '../journal/journal.js';
import type { Outcome, Result } from '../output/result.js';
import type { RecTarget } from '../rec/rec-target.js';
import type { ProcedureContext, RotationOptions } from './password-rotation.js';

export function interruptSignal(progress: { note(t: string): void }): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  let count = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    count += 1;
    if (count === 1) {
      progress.note(`\n${sig}: stopping at the next safe point (press again to quit now; the journal keeps the state either way)`);
      controller.abort();
    } else process.exit(ExitCode.Resumable);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export function procedureContext(
  session: Session,
  target: RecTarget,
  record: JournalRecord,
  options: RotationOptions,
  signal: AbortSignal,
  journal = target.journal,
): ProcedureContext {
  const ctx: ProcedureContext = {
    target,
    journal,
    record,
    options,
    progress: session.progress,
    signal,
    pollMs: Number(process.env.RECCRED_POLL_MS) || 2000,
    // The journal renews its lease on its own; a wait checks it at every tick, so a run that lost it stops waiting.
    stillHeld: () => ctx.journal.assertHeld(),
  };
  target.rest.beforeChange = () => ctx.journal.fence();
  return ctx;
}

export function resumeHint(target: { name: string; namespace: string }): string {
  const ns = `-n ${target.namespace}`;
  return `run "kubectl reccred finish ${target.name} ${ns}" to complete it, or "kubectl reccred abort ${target.name} ${ns}" to roll it back`;
}

/** Records an error's exit code and message in the result; returns the explained error. */
export function settleResult(result: Result, error: unknown): ReccredError {
  const explained = explainError(error instanceof ReccredError ? error : explainError(error));
  result.exitCode = explained.exitCode;
  result.message = explained.message + (explained.hint ? ` (${explained.hint})` : '');
  return explained;
}

/** The outcome of an operation: its result, with the error that stopped it explained and recorded. */
export function outcome(result: Result, error?: unknown): Outcome {
  return error === undefined ? { result } : { result, error: settleResult(result, error) };
}
