// Starting a journaled admin operation (change-user, reset): take the lock with the record, run the
// state machine, and turn whatever stops it into the exit code and message SPEC 2 asks for.
import { ReccredError, resumable } from '../errors/exit-codes.js';
import { explainError, interruptedBeforeChange } from './explain-error.js';
import type { Session } from '../rec/session.js';
import type { JournalRecord } from '../journal/journal.js';
import type { Outcome, Result } from '../output/result.js';
import type { RecTarget } from '../rec/rec-target.js';
import { AuthenticationFailedError, RestApiError } from '../rest/rest-errors.js';
import type { ProcedureContext, RotationOptions } from './procedure-steps.js';
import { procedureContext, outcome, resumeHint } from './procedure-run.js';
import { recordEnd, recordStarted } from './milestones.js';

export async function runJournaled(
  session: Session,
  target: RecTarget,
  result: Result,
  record: JournalRecord,
  options: RotationOptions,
  machine: (ctx: ProcedureContext) => Promise<string>,
  messageFor: (end: string, ctx: ProcedureContext) => string,
  /** The caller's Ctrl-C signal, installed before its preflight. */
  signal: AbortSignal,
): Promise<Outcome> {
  let ctx: ProcedureContext | undefined;
  try {
    // Ctrl-C during the preflight: nothing changed, and no journal is written.
    if (signal.aborted) return outcome(result, interruptedBeforeChange(`REC ${target.name}`));
    await session.progress.step(`record the journal ${target.journal.name}`, () => target.journal.create(record));
    await recordStarted(target, record, target.journal.name);
    ctx = procedureContext(session, target, record, options, signal);
    const end = await machine(ctx);
    result.phase = end;
    result.pods = (ctx.pods ?? []).map((p) => ({ name: p.pod, propagation: p.state }));
    result.message = messageFor(end, ctx);
    return outcome(result);
  } catch (err) {
    if (!ctx) return outcome(result, err);
    const current = (await target.journal.read().catch(() => undefined)) ?? ctx.record;
    result.phase = current.phase;
    // The cluster refused the very first call: nothing changed, so the lock goes too.
    const refusedOutright =
      current.phase === 'recorded' &&
      !current.replaceSentAt &&
      (err instanceof AuthenticationFailedError || (err instanceof RestApiError && err.status >= 400 && err.status < 500));
    const refusedPut =
      current.phase === 'recorded' && current.replaceSentAt && err instanceof RestApiError && err.status >= 400 && err.status < 500 && !(err instanceof AuthenticationFailedError);
    if (refusedOutright || refusedPut) {
      await target.journal.delete().catch(() => undefined);
      result.phase = 'not-started';
      return outcome(result, err);
    }
    const why = explainError(err);
    // After the PUT of a reset the store may hold a password that no longer works: every minute counts.
    const hint =
      current.operation === 'reset' && (current.phase === 'added' || current.replaceSentAt)
        ? `run "kubectl reccred finish ${target.name} -n ${target.namespace}" NOW: until it runs, components using the store fail to log in and count towards the lockout`
        : err instanceof ReccredError && why.hint
          ? why.hint
          : resumeHint(target);
    return outcome(
      result,
      resumable(
        `the ${current.operation} of REC ${target.name} stopped in phase "${current.phase}": ${why.message}; the journal ${target.journal.name} keeps every credential`,
        hint,
      ),
    );
  } finally {
    target.journal.release();
    await recordEnd(target, result, ctx?.record, target.journal.name);
  }
}
