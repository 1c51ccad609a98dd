// kubectl reccred rotate: preflight, journal, then the rotation state machine (SPEC 4).
import { ExitCode, ReccredError, resumable, usageError } from '../errors/exit-codes.js';
import { explainError, interruptedBeforeChange } from '../procedures/explain-error.js';
import { formatDuration } from '../duration/duration.js';
import { openSession, type Session, type SessionOptions } from '../rec/session.js';
import { newJournalRecord, type JournalRecord } from '../journal/journal.js';
import { redactor } from '../output/redactor.js';
import { newPassword, type PasswordChoice } from '../password/password-source.js';
import type { Outcome, Result } from '../output/result.js';
import { loadRecTarget, type RecTarget } from '../rec/rec-target.js';
import { ExecRefusedError } from '../pod/exec-session.js';
import { AuthenticationFailedError, RestApiError } from '../rest/rest-errors.js';
import { runRotation } from '../procedures/password-rotation.js';
import { rotationPreflight } from '../procedures/preflight.js';
import { baseResult } from '../procedures/base-result.js';
import { interruptSignal, procedureContext, outcome, resumeHint, settleResult } from '../procedures/procedure-run.js';
import { recordEnd, recordStarted } from '../procedures/milestones.js';
import type { RotationOptions } from '../procedures/procedure-steps.js';
import { InterruptedError, type Idle } from '../procedures/waits.js';
import { checkParticipants, recordParticipants, refuseUnmanagedActiveActive, refuseWithoutParticipants } from '../procedures/active-active.js';
import { openParticipants, participationIn, type Participant } from '../rec/participants.js';
import type { StoredCredentials } from '../store/credential-store.js';

/** What rotate does to each REC: the same for one REC and for a fleet. */
export interface RotateOptions {
  timing: RotationOptions;
  password: PasswordChoice;
  dryRun: boolean;
  /** Proceed although a controller writes the credential Secret (noted in the journal and the result). */
  allowManagedSecret: boolean;
  /** Active-Active: the kubeconfig contexts of the other participating clusters (--participant-context). */
  participantContexts?: string[];
  /** --max-overlap: recorded in the journal; past it the janitor (finish -l/-A) completes a paused rotation. */
  maxOverlapMs?: number;
}

export interface RotateRequest extends RotateOptions {
  session: SessionOptions;
  rec: string;
}

/** How a run is driven from outside: Ctrl-C, and (in a fleet) the concurrency slot its waits give back. */
export interface RunControl {
  signal: AbortSignal;
  idle?: Idle;
}

/** The outcome of one REC's rotation, not yet printed. */
export interface RecOutcome {
  result: Result;
  error?: unknown;
}

export async function rotate(request: RotateRequest): Promise<Outcome> {
  const session = await openSession(request.session);
  const target = await loadRecTarget(session, request.rec);
  const { signal, dispose } = interruptSignal(session.progress);
  try {
    return await rotateLoaded(session, target, request, { signal });
  } finally {
    dispose();
  }
}

/** One REC of a fleet: a load failure becomes its result too. Never prints. */
export async function rotateRec(session: Session, name: string, options: RotateOptions, control: RunControl): Promise<Result> {
  let target: RecTarget;
  try {
    target = await loadRecTarget(session, name);
  } catch (err) {
    const result = baseResult('rotate', session, name);
    settleResult(result, err);
    return result;
  }
  return (await rotateLoaded(session, target, options, control)).result;
}

/** The one exit of a rotation, for one REC and for a fleet: the result settled, the lease let go, the pod sessions stopped, the end recorded as an Event. */
async function rotateLoaded(session: Session, target: RecTarget, options: RotateOptions, control: RunControl): Promise<Outcome> {
  let ended: Outcome | undefined;
  try {
    const { result, error } = await rotateTarget(session, target, options, control);
    ended = outcome(result, error);
    return ended;
  } finally {
    target.journal.release();
    await target.transport.release();
    if (ended) await recordEnd(target, ended.result, undefined, target.journal.name);
  }
}

async function rotateTarget(session: Session, target: RecTarget, options: RotateOptions, control: RunControl): Promise<RecOutcome> {
  const { settleMs, propagationTimeoutMs, noWait } = options.timing;
  const { progress } = session;
  const result = baseResult('rotate', session, target.name, target);
  const { signal } = control;
  let record: JournalRecord | undefined;
  // The last state the procedure journaled, for the message when the journal cannot be read back.
  let ctxRef: { record: JournalRecord } | undefined;
  let journalCreated = false;
  try {
    const { stored, managedSecretAllowed } = await rotationPreflight(session.cluster, target, progress, options.allowManagedSecret);
    if (managedSecretAllowed) result.managedSecretAllowed = managedSecretAllowed;
    redactor.add(stored.password);
    result.username = stored.username;
    const { password, generated } = newPassword(options.password, stored.username);
    redactor.add(password);
    if (password === stored.password) throw new ReccredError('the new password equals the current one', ExitCode.Usage);
    const participants = await activeActiveParticipants(session, target, stored, options.participantContexts ?? []);
    // Ctrl-C during the read-only preflight: stop before the journal, the first change.
    if (signal.aborted) throw new InterruptedError();

    if (options.dryRun) {
      result.phase = 'dry-run';
      result.message = [
        `Dry run: every preflight check passed. The rotation of REC ${target.name} would:`,
        `  1. record the journal secret ${target.journal.name} (the lock, and the durable copy of both passwords)`,
        `  2. add a ${generated ? `generated ${password.length}-character` : 'supplied'} password for ${stored.username} (POST /v1/users/password, via pod exec)`,
        `  3. verify it authenticates, then update ${target.store.location} (merge patch, resourceVersion precondition)`,
        `  4. wait until all ${target.pods.length} pods mount it (up to ${formatDuration(propagationTimeoutMs)})`,
        ...(participants.length
          ? [
              `  5. settle ${formatDuration(settleMs)} from the store update, then update the RERC Secret in each participating cluster in turn (${participants.map((p) => `${p.context || 'this cluster'}: ${p.store.location}`).join('; ')}), each followed by its RERC Active and REAADBs active`,
              '     then remove the old password (DELETE /v1/users/password)',
            ]
          : [`  5. settle ${formatDuration(settleMs)} from the store update, then remove the old password (DELETE /v1/users/password)`]),
        `  6. verify the new password and delete the journal`,
        'Nothing was changed.',
      ].join('\n');
      return { result };
    }

    record = newJournalRecord({
      operation: 'rotate',
      rec: target.name,
      username: stored.username,
      oldPassword: stored.password,
      newPassword: password,
      settleMs,
      ...(options.maxOverlapMs !== undefined ? { maxOverlapMs: options.maxOverlapMs } : {}),
      ...(managedSecretAllowed ? { managedSecretAllowed } : {}),
      ...(participants.length ? { participants: recordParticipants(participants) } : {}),
    });
    const created = record;
    await progress.step(`record the journal ${target.journal.name}`, () => target.journal.create(created));
    journalCreated = true;
    await recordStarted(target, created, target.journal.name);
    const ctx = procedureContext(session, target, record, { settleMs, propagationTimeoutMs, noWait }, signal);
    ctx.idle = control.idle;
    if (participants.length) ctx.participants = participants;
    ctxRef = ctx;
    const end = await runRotation(ctx);
    record = ctx.record;
    result.phase = end;
    result.pods = (ctx.pods ?? []).map((p) => ({ name: p.pod, propagation: p.state }));
    result.message =
      end === 'completed'
        ? `Rotated the password of ${stored.username} on REC ${target.name}: ${target.store.location} holds the new password and the cluster accepts only it.`
        : `The store holds the new password and both passwords are valid (--no-wait). After components have moved to it, ${resumeHint(target)}.`;
    return { result };
  } catch (err) {
    if (!journalCreated || !record) return { result, error: err instanceof InterruptedError ? interruptedBeforeChange(`REC ${target.name}`) : err };
    const current = (await target.journal.read().catch(() => undefined)) ?? ctxRef?.record ?? record;
    result.phase = current.phase;
    // Nothing reached the cluster when its first call was refused outright: drop the journal, exit as the error says.
    const refusedOutright = current.phase === 'recorded' && (err instanceof AuthenticationFailedError || (err instanceof RestApiError && err.status >= 400 && err.status < 500));
    if (refusedOutright) {
      await target.journal.delete().catch(() => undefined);
      result.phase = 'not-started';
      return { result, error: err };
    }
    const why = explainError(err);
    return {
      result,
      error: resumable(
        `the rotation of REC ${target.name} stopped in phase "${current.phase}": ${why.message}. ${whatRemains(current.phase, target.journal.name)}`,
        nextStep(err, why.hint, current.phase, target),
      ),
    };
  }
}

/**
 * Active-Active participation, read-only: none, or every participating cluster checked and connected. A
 * participating REC without the other clusters is refused (edit-rerc.md: their RERC Secrets must follow).
 */
async function activeActiveParticipants(session: Session, target: RecTarget, stored: StoredCredentials, contexts: string[]): Promise<Participant[]> {
  const { progress } = session;
  const own = await progress.step(
    'Active-Active participation (RERCs pointing at the REC)',
    () => participationIn(target.cluster, target),
    (p) => (p.rercs.length ? `${p.rercs.length} RERC, ${p.reaadbs.length} REAADB` : 'none'),
  );
  await progress.step('no Active-Active database outside the operator (GET /v1/crdbs)', () => refuseUnmanagedActiveActive(target, stored, own.reaadbs));
  if (!own.rercs.length) {
    if (contexts.length) throw usageError(`--participant-context was given, but REC ${target.name} takes part in no Active-Active database (no RERC points at it)`);
    return [];
  }
  if (!contexts.length) refuseWithoutParticipants(target, own);
  const participants = await progress.step(`connect to ${contexts.length} participating cluster(s)`, () => openParticipants(session, target, own, contexts));
  await progress.step("every cluster's RERC Active, its Secret writable and current, its REAADBs active", () => checkParticipants(participants, stored));
  return participants;
}

/** What to run next: a step that knows (the last look found another writer) says it; else what the phase leaves open. */
function nextStep(err: unknown, hint: string | undefined, phase: string, target: RecTarget): string {
  const ns = `-n ${target.namespace}`;
  if (err instanceof ReccredError && hint) return hint;
  // Past "removed" the old password is gone: only finish is left (abort would complete it too).
  const then =
    phase === 'removed'
      ? `run "kubectl reccred finish ${target.name} ${ns}" to complete it`
      : phase === 'aborting'
        ? `if that run stopped, run "kubectl reccred abort ${target.name} ${ns}" to complete the rollback`
        : resumeHint(target);
  // A refusal that will not pass with time (RBAC on pods/exec) comes first: finish and abort need the same access.
  return err instanceof ExecRefusedError && hint ? `${hint}; then ${then}` : then;
}

/** Which passwords the cluster accepts when a rotation stops in `phase`, as far as the phase alone tells, and what the journal keeps. */
function whatRemains(phase: string, journal: string): string {
  switch (phase) {
    case 'recorded':
      return `The old password still works; the journal ${journal} keeps both`;
    case 'propagated':
      // The removal is this phase's step: a run stopped in it may have removed the old password already.
      return `The new password works, and so does the old one unless the run stopped while removing it; the journal ${journal} keeps both`;
    case 'removed':
      return `The old password was removed and the new one works; only the journal ${journal} is left`;
    case 'aborting':
      // Another run (abort) took the journal over: the new password may already be gone.
      return `Another run (abort) took the journal over: it rolls the rotation back, or completes it if the old password was already removed; the journal ${journal} keeps both`;
    default:
      return `The old password still works, and so does the new one; the journal ${journal} keeps both`;
  }
}
