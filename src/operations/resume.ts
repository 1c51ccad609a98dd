// finish and abort: pick up the journal whatever state a crash left, take the lock over from a dead
// holder, and drive the operation forward or back.
import { ExitCode, ReccredError, resumable, usageError } from '../errors/exit-codes.js';
import type { Outcome } from '../output/result.js';
import { openSession, type SessionOptions } from '../rec/session.js';
import { JournalHeldError } from '../journal/journal.js';
import { takeOverLease } from '../journal/takeover.js';
import { redactor } from '../output/redactor.js';
import { loadRecTarget } from '../rec/rec-target.js';
import { reopenParticipants } from '../rec/participants.js';
import type { Operation } from '../journal/journal.js';
import { rollBackRotation, runRotation, type ProcedureContext } from '../procedures/password-rotation.js';
import { abandonReset, runReset } from '../procedures/password-reset.js';
import { rollBackUserChange, runUserChange } from '../procedures/user-change.js';
import { checkPermissions, RESUME_PERMISSIONS } from '../procedures/preflight.js';
import { baseResult, interruptSignal, procedureContext, outcome, resumeHint } from '../procedures/procedure-run.js';

/** How finish and abort drive each admin operation the REC journal can hold. */
const MACHINES: Partial<Record<Operation, { forward: (ctx: ProcedureContext) => Promise<string>; back: (ctx: ProcedureContext) => Promise<string> }>> = {
  rotate: { forward: runRotation, back: rollBackRotation },
  'change-user': { forward: runUserChange, back: rollBackUserChange },
  reset: { forward: runReset, back: abandonReset },
};
import { explainError } from '../procedures/explain-error.js';

export interface ResumeRequest {
  session: SessionOptions;
  rec: string;
  direction: 'finish' | 'abort';
  /** Default: the settle the operation started with. */
  settleMs?: number;
  propagationTimeoutMs: number;
  /** Take the journal over without watching its lease. */
  force: boolean;
}

export async function resumeOperation(request: ResumeRequest): Promise<Outcome> {
  const { direction } = request;
  const session = await openSession(request.session);
  const { progress } = session;
  const target = await loadRecTarget(session, request.rec);
  const result = baseResult(direction, session, request.rec, target);
  const record = await target.journal.read();
  if (!record) {
    result.phase = 'none';
    result.message = `REC ${target.name} has no unfinished operation; nothing to ${direction}.`;
    return outcome(result);
  }
  redactor.add(record.oldPassword, record.newPassword);
  result.username = record.username;
  if (record.managedSecretAllowed) result.managedSecretAllowed = record.managedSecretAllowed;
  const machine = MACHINES[record.operation];
  if (!machine) throw usageError(`the journal holds a ${record.operation}, which ${direction} does not handle`, 'use the matching "kubectl reccred user ..." command');
  if (direction === 'finish' && record.phase === 'aborting') {
    throw usageError(
      `the operation was being aborted (from phase ${String(record.abortedFrom)}); it can only be aborted now`,
      `run: kubectl reccred abort ${target.name} -n ${target.namespace}`,
    );
  }
  const { signal, dispose } = interruptSignal(progress);
  const settleMs = request.settleMs ?? record.settleMs;
  const { propagationTimeoutMs } = request;
  const ctx = procedureContext(session, target, record, { settleMs, propagationTimeoutMs, noWait: false }, signal);
  try {
    await progress.step('permissions (SelfSubjectAccessReview)', () => checkPermissions(session.cluster, RESUME_PERMISSIONS, target));
    const recorded = record.participants;
    if (recorded?.length) {
      ctx.participants = await progress.step(`connect to the ${recorded.length} cluster(s) holding the REC's credentials (Active-Active, from the journal)`, () =>
        reopenParticipants(session, recorded),
      );
    }
    const held = await takeOverLease(target.journal, record, { note: (t) => progress.note(t), waiting: (t) => progress.waiting(t), signal, force: request.force });
    if (!held) {
      result.phase = 'none';
      result.message = `The journal of REC ${target.name} disappeared while its lease was watched: its holder completed the ${record.operation}; nothing to ${direction}.`;
      return outcome(result);
    }
    ctx.record = held;
    const end = direction === 'finish' ? await machine.forward(ctx) : await machine.back(ctx);
    result.phase = end;
    result.pods = (ctx.pods ?? []).map((p) => ({ name: p.pod, propagation: p.state }));
    const what =
      record.operation === 'change-user' ? `the change of the admin user of REC ${target.name} to ${String(record.newUsername)}` : `the ${record.operation} of REC ${target.name}`;
    result.message =
      end === 'rolled-back'
        ? `Rolled back ${what}: ${target.store.location} holds the previous credentials and the cluster accepts only them.`
        : `Completed ${what}: ${target.store.location} holds the new credentials and the cluster accepts only them.`;
    return outcome(result);
  } catch (err) {
    result.phase = ctx.record.phase;
    // A refusal to go in that direction (a reset cannot be rolled back) changed nothing: say it as it is.
    if (err instanceof ReccredError && err.exitCode === ExitCode.Usage) return outcome(result, err);
    // The holder is alive: nothing was taken over or changed.
    if (err instanceof JournalHeldError) return outcome(result, err);
    const why = explainError(err);
    return outcome(
      result,
      resumable(
        `${direction} of REC ${target.name} stopped in phase "${ctx.record.phase}": ${why.message}`,
        err instanceof ReccredError && err.hint ? why.hint : resumeHint(target),
      ),
    );
  } finally {
    target.journal.release();
    dispose();
  }
}
