// An operation's milestones as Events on its REC, as a controller records its steps: one when it starts, one
// per journaled phase, one when it ends. Reasons are stable (alerts match them); the note names the user,
// the phase and the journal, never a password.
import type { JournalRecord, Phase } from '../journal/journal.js';
import type { Result } from '../output/result.js';
import type { RecTarget } from '../rec/rec-target.js';

/** The `action` of each operation's Events. */
const ACTIONS: Record<string, string> = {
  rotate: 'RotatePassword',
  'change-user': 'ChangeAdminUser',
  reset: 'ResetPasswords',
  'user-rotate': 'RotateUserPassword',
  'user-reset': 'ResetUserPasswords',
};
const actionOf = (operation: string) => ACTIONS[operation] ?? 'RotatePassword';

/** The reason of each milestone: documented in the README (Events), kept stable. */
export const REASONS = {
  started: 'RotationStarted',
  resumed: 'RotationResumed',
  added: 'PasswordAdded',
  stored: 'StoreUpdated',
  propagated: 'PodsUpdated',
  removed: 'OldPasswordRemoved',
  aborting: 'RollingBack',
  completed: 'RotationCompleted',
  rolledBack: 'RotationRolledBack',
  waiting: 'WaitingForFinish',
  stopped: 'RotationStopped',
  failed: 'RotationFailed',
  refused: 'RotationRefused',
  overlapExceeded: 'MaxOverlapExceeded',
} as const;

const where = (target: RecTarget, r: JournalRecord) =>
  r.toSecret ? `secret ${r.toSecret}` : r.operation.startsWith('user-') ? 'its recipient (printed once)' : target.store.location;

const PHASE_NOTES: Partial<Record<Phase, (target: RecTarget, r: JournalRecord) => string>> = {
  added: (_, r) =>
    r.operation === 'change-user'
      ? `the new admin user ${String(r.newUsername)} exists; ${r.username} still works`
      : r.operation.endsWith('reset')
        ? `every password of ${r.username} is replaced by the new one`
        : `a new password of ${r.username} authenticates; the old one still works`,
  stored: (t, r) => `${where(t, r)} holds the new password`,
  propagated: () => 'every pod mounts the new credentials',
  removed: (_, r) => (r.operation === 'change-user' ? `the old admin user ${r.username} is deleted` : `the old password of ${r.username} is removed`),
  aborting: (_, r) => `rolling back from phase ${String(r.abortedFrom)}`,
};

const about = (r: JournalRecord, journal: string) => `${r.operation} of ${r.username} (journal ${journal})`;

export async function recordStarted(target: RecTarget, r: JournalRecord, journal: string): Promise<void> {
  target.events.started = true;
  await target.events.record({ type: 'Normal', reason: REASONS.started, action: actionOf(r.operation), note: `${about(r, journal)} started by ${r.holder}` });
}

/** finish or abort took the journal over. */
export async function recordResumed(target: RecTarget, r: JournalRecord, journal: string, command: string): Promise<void> {
  target.events.started = true;
  await target.events.record({
    type: 'Normal',
    reason: REASONS.resumed,
    action: actionOf(r.operation),
    note: `${about(r, journal)}: ${command} took it over in phase ${r.phase}, by ${r.holder}`,
  });
}

/** A journaled phase change (called after the journal holds it). */
export async function recordPhase(target: RecTarget, before: Phase, r: JournalRecord, journal: string): Promise<void> {
  const says = PHASE_NOTES[r.phase];
  if (r.phase === before || !says) return;
  const reason = r.phase === 'aborting' ? REASONS.aborting : REASONS[r.phase as 'added' | 'stored' | 'propagated' | 'removed'];
  await target.events.record({ type: 'Normal', reason, action: actionOf(r.operation), note: `${about(r, journal)}: ${says(target, r)}; phase ${r.phase}` });
}

/** How the run ended, from its result: completed, rolled back, waiting for finish, stopped (resumable), failed or refused. */
export async function recordEnd(target: RecTarget, result: Result, r: JournalRecord | undefined, journal: string): Promise<void> {
  const action = actionOf(r?.operation ?? result.command.replace(/^user /, 'user-'));
  const subject = r ? about(r, journal) : `${result.command}${result.username ? ` of ${result.username}` : ''}${target.events.started ? ` (journal ${journal})` : ''}`;
  if (result.exitCode === 0) {
    if (!target.events.started) return;
    if (result.phase === 'stored') {
      await target.events.record({ type: 'Normal', reason: REASONS.waiting, action, note: `${subject}: both passwords work until finish; phase stored` });
      return;
    }
    const rolledBack = result.phase === 'rolled-back' || r?.phase === 'aborting';
    await target.events.record({
      type: 'Normal',
      reason: rolledBack ? REASONS.rolledBack : REASONS.completed,
      action,
      note: `${subject}: ${rolledBack ? 'rolled back; only the old password works' : 'completed; only the new password works'}`,
    });
    return;
  }
  // A refused rotate (pods not Ready, a run in progress) is what a scheduled run's owner needs to see; finish and abort refused leave no trace.
  const reason =
    result.exitCode === 3 ? REASONS.stopped : target.events.started ? REASONS.failed : result.exitCode === 4 && result.command === 'rotate' ? REASONS.refused : undefined;
  if (!reason) return;
  await target.events.record({ type: 'Warning', reason, action, note: `${subject}: phase ${result.phase}: ${result.message}` });
}

/** The janitor found both passwords valid past --max-overlap and could not finish: loud, for alerts. */
export async function recordOverlapExceeded(target: RecTarget, r: JournalRecord, journal: string, why: string): Promise<void> {
  await target.events.record({ type: 'Warning', reason: REASONS.overlapExceeded, action: actionOf(r.operation), note: `${about(r, journal)}: ${why}` });
}
