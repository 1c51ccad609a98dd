// The rotate state machine (SPEC 4): each step is idempotent and recorded in the journal before the
// next one starts, so `finish` can resume from whatever a crash left and `abort` can roll back.
import { failed } from '../errors/exit-codes.js';
import type { JournalRecord } from '../journal/journal.js';
import { advance, awaitEveryPod, restoreStore, settleMs, storeNewCredentials, type ProcedureContext } from './procedure-steps.js';
import { waitForPropagation, waitUntil } from './waits.js';
import { lastMomentCheck, settleThenLastLook } from './last-moment-check.js';
import { participantsHold, updateParticipants } from './active-active.js';

export { advance, phaseAtLeast, settleMs, storeSwap, type ProcedureContext, type RotationOptions } from './procedure-steps.js';

const oldCreds = (r: JournalRecord) => ({ username: r.username, password: r.oldPassword });
const newCreds = (r: JournalRecord) => ({ username: r.username, password: r.newPassword });

/** Runs the remaining steps of a rotation from the journal's phase to the end. Returns the final phase. */
export async function runRotation(ctx: ProcedureContext): Promise<'completed' | 'stored'> {
  const { target, progress } = ctx;
  const r = () => ctx.record;

  if (r().phase === 'recorded') {
    await progress.step(
      'add the new password (POST /v1/users/password)',
      () => target.rest.addPassword(oldCreds(r()), r().newPassword),
      (x) => (x === 'already-present' ? 'already added' : undefined),
    );
    await advance(ctx, { phase: 'added' });
  }
  if (r().phase === 'added') {
    await progress.step('new password authenticates', () => target.rest.authenticate(newCreds(r())));
    await storeNewCredentials(ctx, `update ${target.store.location}`, oldCreds(r()), newCreds(r()));
  }
  if (ctx.options.noWait && r().phase === 'stored') return 'stored';
  if (r().phase === 'stored') await awaitEveryPod(ctx, 'every pod mounts the new password', newCreds(r()));
  if (r().phase === 'propagated') {
    await settleThenLastLook(ctx);
    const { participants } = ctx;
    if (participants?.length) {
      // Both passwords are valid: the other clusters move to the new one, then everything is looked at again.
      await updateParticipants(ctx, participants, oldCreds(r()), newCreds(r()), 'update');
      // The other clusters first: the REC's own Secret and pods stay the last thing read before the removal.
      await progress.step("last look: every cluster's RERC Secret holds the new credentials", () => participantsHold(participants, newCreds(r())));
      await lastMomentCheck(ctx, 'new');
    }
    await progress.step(
      'remove the old password (DELETE /v1/users/password)',
      () => target.rest.deletePassword(newCreds(r()), r().oldPassword),
      (x) => (x === 'absent' ? 'already removed' : undefined),
    );
    await advance(ctx, { phase: 'removed' });
  }
  if (r().phase === 'removed') {
    await progress.step('new password authenticates', () => target.rest.authenticate(newCreds(r())));
    await progress.step('delete the journal', () => ctx.journal.delete());
    return 'completed';
  }
  throw failed(`the journal is in phase ${r().phase}, which a rotation cannot continue from`, 'run abort to finish rolling back');
}

/** Rolls a rotation back from any phase before the old password was removed. */
export async function rollBackRotation(ctx: ProcedureContext): Promise<'rolled-back' | 'completed'> {
  const { target, progress } = ctx;
  const r = () => ctx.record;
  if (r().phase === 'removed' || r().abortedFrom === 'removed') {
    progress.note('The old password was already removed: the rotation cannot be rolled back, so it is completed instead.');
    await runRotation(ctx);
    return 'completed';
  }
  if (r().phase !== 'aborting') await advance(ctx, { phase: 'aborting', abortedFrom: r().phase });

  // From "propagated" the DELETE of the old password may have reached the cluster before the crash.
  // Adding it back, authenticated with the new password (valid in this phase), tells which without a
  // failed login; it must happen before the new password is removed, hence the journal flag.
  if (r().abortedFrom === 'propagated' && !r().oldPasswordEnsured) {
    await progress.step(
      'make sure the old password is valid (POST /v1/users/password)',
      () => target.rest.addPassword(newCreds(r()), r().oldPassword),
      (x) => (x === 'already-present' ? 'still valid' : 're-added: the removal had reached the cluster'),
    );
    await advance(ctx, { oldPasswordEnsured: true });
  }

  const { participants } = ctx;
  // The other clusters go back to the old password first (reverse order); it is valid in every phase an abort starts from.
  // Their Secrets are written only in phase "propagated": from an earlier phase there is nothing to put back.
  if (participants?.length && r().abortedFrom === 'propagated') await updateParticipants(ctx, participants, newCreds(r()), oldCreds(r()), 'restore');
  await progress.step(`restore ${target.store.location}`, () => restoreStore(ctx, newCreds(r()), oldCreds(r())));

  const { restoredAt } = r();
  if (restoredAt) {
    // Components may have moved to the new password: they must come back before it is removed.
    ctx.pods = await progress.step('every pod mounts the old password again', () => waitForPropagation(ctx, oldCreds(r()), ctx.options.propagationTimeoutMs));
    await progress.step('settle (components re-read the secret)', () => waitUntil(ctx, Date.parse(restoredAt) + settleMs(ctx), 'settle'));
  } else {
    progress.skip('wait for the pods', 'the store never held the new password');
  }
  await lastMomentCheck(ctx, 'old');
  if (participants?.length) await progress.step("last look: every cluster's RERC Secret holds the previous credentials", () => participantsHold(participants, oldCreds(r())));
  await progress.step(
    'remove the new password from the cluster',
    () => target.rest.deletePassword(oldCreds(r()), r().newPassword),
    (x) => (x === 'absent' ? 'it was never added' : undefined),
  );
  await progress.step('old password authenticates', () => target.rest.authenticate(oldCreds(r())));
  await progress.step('delete the journal', () => ctx.journal.delete());
  return 'rolled-back';
}
