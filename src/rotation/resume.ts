// finish and abort: pick up the journal whatever state a crash left, take the lock over from a dead
// holder, and drive the operation forward or back.
import { parseDuration } from '../cli/duration.js';
import { ExitCode, ReccredError, refused, usageError } from '../cli/exit-codes.js';
import type { GlobalFlags } from '../cli/global-flags.js';
import { openSession } from '../cli/session.js';
import { JournalHeldError } from '../journal/journal.js';
import { takeOverLease } from '../journal/takeover.js';
import { redactor } from '../output/redactor.js';
import { loadRecTarget } from '../rec/rec-target.js';
import type { Operation } from '../journal/journal.js';
import { rollBackRotation, runRotation, type ProcedureContext } from './password-rotation.js';
import { abandonReset, runReset } from './password-reset.js';
import { rollBackUserChange, runUserChange } from './user-change.js';

/** How finish and abort drive each admin operation the REC journal can hold. */
const MACHINES: Partial<Record<Operation, { forward: (ctx: ProcedureContext) => Promise<string>; back: (ctx: ProcedureContext) => Promise<string> }>> = {
  rotate: { forward: runRotation, back: rollBackRotation },
  'change-user': { forward: runUserChange, back: rollBackUserChange },
  reset: { forward: runReset, back: abandonReset },
};
import { checkPermissions, ROTATION_PERMISSIONS } from './preflight.js';
import { baseResult, interruptSignal, procedureContext, report, resumeHint } from './procedure-run.js';
import { resumable } from '../cli/exit-codes.js';
import { explainError } from '../cli/explain-error.js';

export interface ResumeFlags extends GlobalFlags {
  rec: string;
  settle?: string;
  propagationTimeout: string;
  force?: boolean;
}

export async function resumeOperation(flags: ResumeFlags, direction: 'finish' | 'abort'): Promise<number> {
  const session = await openSession(flags);
  const { progress } = session;
  const target = await loadRecTarget(session, flags.rec);
  const result = baseResult(direction, session, flags.rec, target);
  const record = await target.journal.read();
  if (!record) {
    result.phase = 'none';
    result.message = `REC ${target.name} has no unfinished operation; nothing to ${direction}.`;
    return report(session, result);
  }
  redactor.add(record.oldPassword, record.newPassword);
  result.username = record.username;
  if (record.managedSecretAllowed) result.managedSecretAllowed = record.managedSecretAllowed;
  const machine = MACHINES[record.operation];
  if (!machine) throw usageError(`the journal holds a ${record.operation}, which ${direction} does not handle`, 'use the matching "kubectl reccred user ..." command');
  if (direction === 'finish' && record.phase === 'aborting') {
    throw usageError(`the operation was being aborted (from phase ${record.abortedFrom}); it can only be aborted now`, `run: kubectl reccred abort ${target.name} -n ${target.namespace}`);
  }
  const { signal, dispose } = interruptSignal(progress);
  const settleMs = flags.settle ? parseDuration(flags.settle, '--settle') : record.settleMs;
  const propagationTimeoutMs = parseDuration(flags.propagationTimeout, '--propagation-timeout');
  const ctx = procedureContext(session, target, record, { settleMs, propagationTimeoutMs, noWait: false }, signal);
  try {
    await progress.step('permissions (SelfSubjectAccessReview)', () => checkPermissions(session.cluster, ROTATION_PERMISSIONS, target));
    const held = await takeOverLease(target.journal, record, { note: (t) => progress.note(t), waiting: (t) => progress.waiting(t), signal, force: flags.force });
    if (!held) {
      result.phase = 'none';
      result.message = `The journal of REC ${target.name} disappeared while its lease was watched: its holder completed the ${record.operation}; nothing to ${direction}.`;
      return report(session, result);
    }
    ctx.record = held;
    const end = direction === 'finish' ? await machine.forward(ctx) : await machine.back(ctx);
    result.phase = end;
    result.pods = (ctx.pods ?? []).map((p) => ({ name: p.pod, propagation: p.state }));
    const what = record.operation === 'change-user' ? `the change of the admin user of REC ${target.name} to ${record.newUsername}` : `the ${record.operation} of REC ${target.name}`;
    result.message =
      end === 'rolled-back'
        ? `Rolled back ${what}: ${target.store.location} holds the previous credentials and the cluster accepts only them.`
        : `Completed ${what}: ${target.store.location} holds the new credentials and the cluster accepts only them.`;
    return report(session, result);
  } catch (err) {
    result.phase = ctx.record.phase;
    // A refusal to go in that direction (a reset cannot be rolled back) changed nothing: say it as it is.
    if (err instanceof ReccredError && err.exitCode === ExitCode.Usage) return report(session, result, err);
    // The holder is alive: nothing was taken over or changed.
    if (err instanceof JournalHeldError) return report(session, result, err);
    const why = explainError(err);
    return report(session, result, resumable(`${direction} of REC ${target.name} stopped in phase "${ctx.record.phase}": ${why.message}`, err instanceof ReccredError && err.hint ? why.hint : resumeHint(target)));
  } finally {
    target.journal.release();
    dispose();
  }
}
