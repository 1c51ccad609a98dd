// Passwords of other cluster and database users (seed 2). `user rotate` adds a password as the user
// itself (that works before and after RS 7.8.2, where the call acts on the authenticated user) and
// hands it over; `user finish` deletes the old one once clients have moved; `user reset` replaces
// all of them through PUT /v1/users/{uid} as the admin (the only route that works on every version
// without the user's current password). Each user has its own journal, so the admin is never blocked.
import { failed, refused, usageError } from '../errors/exit-codes.js';
import type { JournalRecord } from '../journal/journal.js';
import type { Credentials } from '../rest/rest-client.js';
import { advance, replaceAllPasswords, type ProcedureContext } from './procedure-steps.js';
import type { SecretKeyTarget } from '../store/to-secret.js';
import { lastMomentCheckSecretKey } from './last-moment-check.js';

const oldCreds = (r: JournalRecord): Credentials => ({ username: r.username, password: r.oldPassword });
const newCreds = (r: JournalRecord): Credentials => ({ username: r.username, password: r.newPassword });

/**
 * Where the new password goes: a Secret's key, or stdout. Either happens before the journal moves on,
 * and a resumed run hands it over again, so a crash between the two cannot lose the only copy.
 */
export type Delivery = { kind: 'secret'; target: SecretKeyTarget } | { kind: 'print'; print: (password: string) => void };

/** The documented reason the database default user is out of reach. */
export const DEFAULT_USER_REFUSAL =
  'the database "default user" authenticates with a password alone (AUTH <password>) and has no user account, so it cannot hold two passwords: Redis documents that password rotation does not work for it. Add a user with a role instead, move clients to it, and rotate that user';

async function deliver(ctx: ProcedureContext, delivery: Delivery): Promise<'written' | 'already' | 'print'> {
  const r = ctx.record;
  if (delivery.kind === 'print') {
    delivery.print(r.newPassword);
    return 'print';
  }
  const { value, version } = await delivery.target.read();
  if (value === r.newPassword) return 'already';
  // A reset does not know the old password; any value there is replaced by the one the cluster now accepts.
  if (value !== undefined && r.operation === 'user-rotate' && value !== r.oldPassword) {
    throw refused(`${delivery.target.location} holds a password this operation did not write; someone else changed it`, 'inspect it; the journal keeps both passwords');
  }
  await ctx.journal.fence();
  await delivery.target.write(r.newPassword, version);
  return 'written';
}

export async function runUserRotate(ctx: ProcedureContext, delivery: Delivery): Promise<void> {
  const { target, progress } = ctx;
  const r = () => ctx.record;
  if (r().phase === 'recorded') {
    await progress.step(
      `add a password for ${r().username} (POST /v1/users/password, as the user)`,
      () => target.rest.addPassword(oldCreds(r()), r().newPassword),
      (x) => (x === 'already-present' ? 'already added' : undefined),
    );
    await advance(ctx, { phase: 'added' });
  }
  // From "stored" too: a run resumed after a crash hands the password over again.
  if (r().phase === 'added' || r().phase === 'stored') {
    if (r().phase === 'added') await progress.step('the new password authenticates', () => target.rest.authenticate(newCreds(r())));
    await progress.step(
      delivery.kind === 'secret' ? `write ${delivery.target.location}` : 'hand the new password over (stdout)',
      () => deliver(ctx, delivery),
      (x) => (x === 'already' ? 'already written' : undefined),
    );
    if (r().phase === 'added') await advance(ctx, { phase: 'stored', storeUpdatedAt: new Date().toISOString() });
  }
}

export async function finishUserRotate(ctx: ProcedureContext, delivery: Delivery | undefined): Promise<void> {
  const { target, progress } = ctx;
  const r = () => ctx.record;
  if (r().phase === 'recorded' || r().phase === 'added') {
    throw usageError(
      `the rotation of ${r().username} stopped before the new password was handed over (phase ${r().phase})`,
      `run "kubectl reccred user rotate ${target.name} --user ${r().username}" again to complete that first`,
    );
  }
  if (r().phase === 'stored' || r().phase === 'propagated') {
    if (delivery?.kind === 'secret') await lastMomentCheckSecretKey(ctx, delivery.target);
    await progress.step(
      `delete the old password of ${r().username} (DELETE /v1/users/password, as the user)`,
      () => target.rest.deletePassword(newCreds(r()), r().oldPassword),
      (x) => (x === 'absent' ? 'already deleted' : undefined),
    );
    await advance(ctx, { phase: 'removed' });
  }
  await progress.step('the new password authenticates', () => target.rest.authenticate(newCreds(r())));
  await progress.step('delete the journal', () => ctx.journal.delete());
}

export async function runUserReset(ctx: ProcedureContext, admin: Credentials, delivery: Delivery): Promise<void> {
  const { target, progress } = ctx;
  const r = () => ctx.record;
  const { userUid } = r();
  // Every user-* journal records the user's uid when it is created.
  if (userUid === undefined) throw failed('the journal of this user reset has no userUid, which it records from the start: it was altered');
  await replaceAllPasswords(
    ctx,
    `replace every password of ${r().username} (PUT /v1/users/${userUid}, as the admin)`,
    () => target.rest.setUserPassword(admin, userUid, r().newPassword),
    true,
  );
  if (r().phase === 'added' || r().phase === 'stored') {
    await progress.step(delivery.kind === 'secret' ? `write ${delivery.target.location}` : 'hand the new password over (stdout)', () => deliver(ctx, delivery));
    if (r().phase === 'added') await advance(ctx, { phase: 'stored' });
  }
  await progress.step('the new password authenticates', () => target.rest.authenticate(newCreds(r())));
  await progress.step('delete the journal', () => ctx.journal.delete());
}
