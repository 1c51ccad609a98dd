// finish and abort: pick up the journal whatever state a crash left, take the lock over from a dead
// holder, and drive the operation forward or back.
import { ExitCode, ReccredError, resumable, usageError } from '../errors/exit-codes.js';
import type { Outcome, Result } from '../output/result.js';
import { openSession, type Session, type SessionOptions } from '../rec/session.js';
import { JournalHeldError } from '../journal/journal.js';
import { takeOverLease } from '../journal/takeover.js';
import { redactor } from '../output/redactor.js';
import { loadRecTarget, type RecTarget } from '../rec/rec-target.js';
import { reopenParticipants, type Participant } from '../rec/participants.js';
import { participantsToReach } from '../procedures/active-active.js';
import type { JournalRecord, Operation } from '../journal/journal.js';
import { formatDuration } from '../duration/duration.js';
import { podPropagation } from '../procedures/waits.js';
import { rollBackRotation, runRotation, type ProcedureContext } from '../procedures/password-rotation.js';
import { abandonReset, runReset } from '../procedures/password-reset.js';
import { rollBackUserChange, runUserChange } from '../procedures/user-change.js';
import { checkPermissions, RESUME_PERMISSIONS } from '../procedures/preflight.js';
import { baseResult } from '../procedures/base-result.js';
import { interruptSignal, procedureContext, outcome, resumeHint } from '../procedures/procedure-run.js';
import { recordEnd, recordOverlapExceeded, recordResumed } from '../procedures/milestones.js';

/** How finish and abort drive each admin operation the REC journal can hold. */
const MACHINES: Partial<Record<Operation, { forward: (ctx: ProcedureContext) => Promise<string>; back: (ctx: ProcedureContext) => Promise<string> }>> = {
  rotate: { forward: runRotation, back: rollBackRotation },
  'change-user': { forward: runUserChange, back: rollBackUserChange },
  reset: { forward: runReset, back: abandonReset },
};
import { explainError } from '../procedures/explain-error.js';

export interface ResumeOptions {
  direction: 'finish' | 'abort';
  /** Default: the settle the operation started with. */
  settleMs?: number;
  propagationTimeoutMs: number;
  /** Take the journal over without watching its lease. */
  force: boolean;
  /**
   * The janitor (finish or abort of several RECs): only operations whose holder is gone, never a live one nor
   * one paused on purpose (rotate --no-wait) until its overlap limit has passed.
   */
  janitor?: { maxOverlapMs?: number };
}

export interface ResumeRequest extends ResumeOptions {
  session: SessionOptions;
  rec: string;
}

export async function resumeOperation(request: ResumeRequest): Promise<Outcome> {
  const session = await openSession(request.session);
  const { signal, dispose } = interruptSignal(session.progress);
  try {
    return await resumeRec(session, request.rec, request, signal);
  } finally {
    dispose();
  }
}

/** One REC's finish or abort; in a fleet, the janitor's. */
export async function resumeRec(session: Session, rec: string, request: ResumeOptions, signal: AbortSignal): Promise<Outcome> {
  let { direction } = request;
  const { progress } = session;
  const target = await loadRecTarget(session, rec);
  const result = baseResult(direction, session, rec, target);
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
  if (direction === 'finish' && record.phase === 'aborting' && request.janitor) {
    // An abandoned rollback is completed the only way it can be.
    progress.note(`the ${record.operation} was being aborted (from phase ${String(record.abortedFrom)}): completing the abort`);
    direction = 'abort';
  }
  if (direction === 'finish' && record.phase === 'aborting') {
    throw usageError(
      `the operation was being aborted (from phase ${String(record.abortedFrom)}); it can only be aborted now`,
      `run: kubectl reccred abort ${target.name} -n ${target.namespace}`,
    );
  }
  if (request.janitor) {
    const leftAlone = await leftByJanitor(target, record, request.janitor, direction, result);
    if (leftAlone) return leftAlone;
  }
  const settleMs = request.settleMs ?? record.settleMs;
  const { propagationTimeoutMs } = request;
  const ctx = procedureContext(session, target, record, { settleMs, propagationTimeoutMs, noWait: false }, signal);
  try {
    await progress.step('permissions (SelfSubjectAccessReview)', () => checkPermissions(session.cluster, RESUME_PERMISSIONS, target));
    // Active-Active: finish reaches every cluster the journal names, abort only those whose RERC Secret it may have to put back.
    const opened = new Map<string, Participant>();
    const reach = async (from: JournalRecord) => {
      const recorded = from.participants ?? [];
      const wanted = participantsToReach(from, direction);
      const more = wanted.filter((p) => !opened.has(p.context));
      if (more.length) {
        const which = wanted.length === recorded.length ? `the ${more.length}` : `${more.length} of the ${recorded.length}`;
        const reopened = await progress.step(`connect to ${which} cluster(s) holding the REC's credentials (Active-Active, from the journal)`, () =>
          reopenParticipants(session, more),
        );
        for (const p of reopened) opened.set(p.context, p);
      }
      if (wanted.length) ctx.participants = wanted.flatMap((p) => opened.get(p.context) ?? []);
    };
    await reach(record);
    const held = await takeOverLease(target.journal, record, { note: (t) => progress.note(t), waiting: (t) => progress.waiting(t), signal, force: request.force });
    if (!held) {
      result.phase = 'none';
      result.message = `The journal of REC ${target.name} disappeared while its lease was watched: its holder completed the ${record.operation}; nothing to ${direction}.`;
      return outcome(result);
    }
    ctx.record = held;
    // A holder alive while the lease was watched may have marked more clusters updated since the first read.
    await reach(held);
    await recordResumed(target, held, target.journal.name, direction);
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
    // The holder is alive: nothing was taken over or changed (the janitor's normal case, not an error).
    if (err instanceof JournalHeldError) {
      // Interrupted while watching the lease says nothing about the holder.
      if (!request.janitor || signal.aborted) return outcome(result, err);
      result.phase = 'held';
      result.message = `Left alone: ${record.operation} in phase ${record.phase} is held by ${record.holder}, which is alive (it renewed its lease).`;
      return outcome(result);
    }
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
    await recordEnd(target, result, ctx.record, target.journal.name);
  }
}

/**
 * The janitor leaves a paused operation (rotate --no-wait) alone until its overlap limit has passed; past it,
 * finish goes ahead only if every pod already mounts the new credentials, and otherwise reports it (exit 3,
 * a Warning Event). Returns the outcome when it leaves the REC alone.
 */
async function leftByJanitor(
  target: RecTarget,
  record: JournalRecord,
  janitor: { maxOverlapMs?: number },
  direction: 'finish' | 'abort',
  result: Result,
): Promise<Outcome | undefined> {
  if (!record.pausedAt) return undefined;
  const limit = overlapLimit(record.maxOverlapMs, janitor.maxOverlapMs);
  const overlapMs = Date.now() - Date.parse(record.startedAt);
  const since = `both passwords valid since ${record.startedAt} (${formatDuration(overlapMs)})`;
  if (limit === undefined || overlapMs <= limit) {
    result.phase = 'paused';
    result.message = `Left alone: ${record.operation} stopped on purpose in phase ${record.phase} (--no-wait), ${since}${limit === undefined ? '; no --max-overlap bounds it' : `, within --max-overlap ${formatDuration(limit)}`}. Complete it with: kubectl reccred finish ${target.name} -n ${target.namespace}`;
    return outcome(result);
  }
  if (direction === 'abort') return undefined;
  const creds = { username: record.newUsername ?? record.username, password: record.newPassword };
  const behind = (await podPropagation(target, creds)).filter((p) => p.state !== 'current').map((p) => `${p.pod} ${p.state}`);
  if (!behind.length) return undefined;
  result.phase = record.phase;
  const err = resumable(
    `${since}, beyond --max-overlap ${formatDuration(limit)}, and not every pod mounts the new credentials (${behind.join(', ')}): the janitor did not finish it`,
    `find out why the pods lag (kubectl describe pod), then: kubectl reccred finish ${target.name} -n ${target.namespace}, or abort`,
  );
  await recordOverlapExceeded(target, record, target.journal.name, err.message);
  return outcome(result, err);
}

/** The tighter of the limit the rotation recorded and the janitor's own. */
const overlapLimit = (recorded?: number, given?: number): number | undefined => (recorded === undefined ? given : given === undefined ? recorded : Math.min(recorded, given));
