// Passwords of other cluster and database users (seed 2). `user rotate` adds a password as the user
// itself (that works before and after RS 7.8.2, where the call acts on the authenticated user) and
// hands it over; `user finish` deletes the old one once clients have moved; `user reset` replaces
// all of them through PUT /v1/users/{uid} as the admin (the only route that works on every version
// without the user's current password). Each user has its own journal, so the admin is never blocked.
import { ExitCode, ReccredError, failed, refused, usageError } from '../errors/exit-codes.js';
import type { JournalRecord } from '../journal/journal.js';
import type { Progress } from '../output/progress.js';
import type { RecTarget } from '../rec/rec-target.js';
import type { Credentials, User } from '../rest/rest-client.js';
import { lockedRecovery } from '../rest/lockout-policy.js';
import { ForbiddenError } from '../rest/rest-errors.js';
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

/** What the admin's reads say of the user: its uid, and its management roles (undefined where they could not be told). */
export interface UserAccess {
  admin: Credentials;
  uid: number;
  email: string;
  roles: string[] | undefined;
}

/** Only `none` lacks view_cluster_info, the permission of GET /v1/cluster (rest-api/permissions.md). */
const lacksClusterView = (a: UserAccess) => a.roles !== undefined && a.roles.length > 0 && a.roles.every((r) => r === 'none');

const userReset = (target: RecTarget, email: string) => `kubectl reccred user reset ${target.name} -n ${target.namespace} --user ${email}`;

/**
 * The user's record, as the admin read it (GET /v1/users): a locked account or an expired password
 * (objects/user.md: "unable to sign in") would fail every call made as the user, so rotate and finish
 * refuse before anything changes, naming the documented way back (login-lockout.md). A reset sets the
 * password as the admin, which is that way back. Also tells the user's management roles, from `role`
 * or from the roles its role_uids name (GET /v1/roles).
 */
export async function userAccess(target: RecTarget, admin: Credentials, user: User, command: string, progress: Progress): Promise<UserAccess> {
  const email = user.email ?? user.name ?? String(user.uid);
  const status = user.status;
  if (status === 'locked' || status === 'password_expired') {
    const reset = `${userReset(target, email)} (it replaces every password at once)`;
    const journal = target.journal.forUser(user.uid).name;
    // An unfinished rotation holds the user's journal, which user reset would refuse: it goes first.
    const rotationBlocks =
      command === 'user finish'
        ? `; as the rotation of ${email} is unfinished, delete its journal first (kubectl delete secret ${journal} -n ${target.namespace}): the new password voids both of its passwords`
        : '';
    if (command === 'user reset') {
      progress.note(
        `${email} is ${status}: the reset sets a new password as the admin, which ${status === 'locked' ? 'unlocks the account' : 'ends the expiry'} (login-lockout.md).`,
      );
    } else if (status === 'locked') {
      throw refused(
        `${email} is locked on REC ${target.name} (status "locked"): every call as the user would fail; nothing was changed`,
        `${lockedRecovery(target.rest.lockout, reset + rotationBlocks)}; then run ${command} again`,
      );
    } else {
      throw refused(
        `the password of ${email} expired (status "password_expired"): the user cannot sign in; nothing was changed`,
        `an admin sets a new password: ${reset}${rotationBlocks}`,
      );
    }
  }
  let roles: string[] | undefined;
  if (user.role) roles = [user.role];
  else if (user.role_uids?.length) {
    const uids = user.role_uids;
    const all = await target.rest.roles(admin).catch(() => undefined);
    const named = uids.map((uid) => all?.find((r) => r.uid === uid)?.management);
    roles = named.every((m): m is string => m !== undefined) ? named : undefined;
  }
  return { admin, uid: user.uid, email, roles };
}

/**
 * "The new password authenticates", for any role: 200 accepted, 401 refused (never retried). A 403
 * counts as accepted only where the user's role lacks the permission of the check (role `none`) and the
 * admin's read of the user's record says it is active: some clusters may answer a locked account with
 * 403 too (undocumented).
 */
async function userSignsIn(ctx: ProcedureContext, access: UserAccess, creds: Credentials): Promise<'accepted' | 'forbidden'> {
  const answer = await ctx.target.rest.probeCredentials(creds);
  if (answer === 'accepted') return answer;
  const record = await ctx.target.rest.user(access.admin, access.uid);
  if (!record) throw failed(`the user ${access.email} no longer exists on REC ${ctx.target.name}`);
  if (record.status !== 'active' || !lacksClusterView(access)) {
    throw failed(
      `the cluster answered 403 Forbidden to the new password of ${access.email} (role ${access.roles?.join(', ') ?? 'unknown'}, status ${record.status ?? 'unknown'}): it was not taken as accepted; nothing was retried`,
      `check the user's status in the admin console (Access control > Users); if it is locked: ${lockedRecovery(ctx.target.rest.lockout, userReset(ctx.target, access.email))}`,
    );
  }
  return 'forbidden';
}

const signInDetail = (x: 'accepted' | 'forbidden') => (x === 'forbidden' ? "accepted: 403 is the user's role (none), and its record is active" : undefined);

/**
 * A 403 to the user's own POST /v1/users/password: nothing changed. Where the user is active it may not
 * manage its own passwords (role `none`: undocumented whether it may), so the rotation is refused and its
 * journal removed, naming what works instead. A locked user keeps the journal (a resumed run may have
 * added the password before).
 */
async function refuseSelfService(ctx: ProcedureContext, access: UserAccess, err: ForbiddenError): Promise<never> {
  const { target } = ctx;
  const record = await target.rest.user(access.admin, access.uid);
  if (record && record.status !== 'active') {
    throw refused(
      `${access.email} is ${record.status ?? 'not active'} on REC ${target.name}: the cluster refused its own call (403); nothing more was tried`,
      `${lockedRecovery(target.rest.lockout, userReset(target, access.email))}; then run user rotate again`,
    );
  }
  // The caller removes the journal if this run wrote it (a resumed one may hold a password an earlier POST added).
  throw new OwnPasswordsForbiddenError(
    `REC ${target.name} does not let ${access.email} (role ${access.roles?.join(', ') ?? 'unknown'}) manage its own passwords: POST /v1/users/password answered 403 (${err.errorCode ?? 'no error code'}); that call changed nothing`,
    ExitCode.Refused,
    `instead: as the admin, ${userReset(target, access.email)} (replaces every password at once, so clients move in one step); or manage the user with a RedisEnterpriseUser in Rotatable password mode (operator 8.2.0-12 or later), which rotates it with two password Secrets`,
  );
}

/** The cluster refused a user's call on its own passwords (403 with the user active): user rotate cannot work for it. */
export class OwnPasswordsForbiddenError extends ReccredError {}

/** Hands the new password over (the Secret written unless it already holds it, or stdout); refuses a value someone else put there. */
export async function deliver(ctx: ProcedureContext, delivery: Delivery): Promise<'written' | 'already' | 'print'> {
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

export async function runUserRotate(ctx: ProcedureContext, delivery: Delivery, access: UserAccess): Promise<void> {
  const { target, progress } = ctx;
  const r = () => ctx.record;
  if (r().phase === 'recorded') {
    await progress.step(
      `add a password for ${r().username} (POST /v1/users/password, as the user)`,
      async () => {
        try {
          return await target.rest.addPassword(oldCreds(r()), r().newPassword);
        } catch (err) {
          if (err instanceof ForbiddenError) return refuseSelfService(ctx, access, err);
          throw err;
        }
      },
      (x) => (x === 'already-present' ? 'already added' : undefined),
    );
    await advance(ctx, { phase: 'added' });
  }
  // From "stored" too: a run resumed after a crash hands the password over again.
  if (r().phase === 'added' || r().phase === 'stored') {
    if (r().phase === 'added') await progress.step('the new password authenticates', () => userSignsIn(ctx, access, newCreds(r())), signInDetail);
    await progress.step(
      delivery.kind === 'secret' ? `write ${delivery.target.location}` : 'hand the new password over (stdout)',
      () => deliver(ctx, delivery),
      (x) => (x === 'already' ? 'already written' : undefined),
    );
    if (r().phase === 'added') await advance(ctx, { phase: 'stored', storeUpdatedAt: new Date().toISOString() });
  }
}

export async function finishUserRotate(ctx: ProcedureContext, delivery: Delivery | undefined, access: UserAccess): Promise<void> {
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
      // A 404 is "absent" only once the admin's read shows the user still exists.
      () =>
        target.rest.deletePassword(newCreds(r()), r().oldPassword, async () => {
          if (!(await target.rest.user(access.admin, access.uid))) throw failed(`the user ${access.email} no longer exists on REC ${target.name}`);
        }),
      (x) => (x === 'absent' ? 'already deleted' : undefined),
    );
    await advance(ctx, { phase: 'removed' });
  }
  await progress.step('the new password authenticates', () => userSignsIn(ctx, access, newCreds(r())), signInDetail);
  await progress.step('delete the journal', () => ctx.journal.delete());
}

/**
 * user abort: the rotation undone, the mirror of its steps. The Secret gets the old password back and the
 * consumers restart onto it (`moveBack`: their rollouts complete, then the settle for volume readers) before the
 * new password is deleted, so no client is left holding a password that no longer works. Past "removed" the
 * old password is gone: only finish remains.
 */
export async function abortUserRotate(ctx: ProcedureContext, delivery: Delivery | undefined, access: UserAccess, moveBack: () => Promise<void>): Promise<void> {
  const { target, progress } = ctx;
  const r = () => ctx.record;
  if (r().phase === 'removed' || r().abortedFrom === 'removed') {
    throw usageError(
      `the old password of ${r().username} was already deleted: the rotation can only be finished`,
      `run: kubectl reccred user finish ${target.name} -n ${target.namespace} --user ${r().username}`,
    );
  }
  if (r().phase !== 'aborting') await advance(ctx, { phase: 'aborting', abortedFrom: r().phase });
  if (r().abortedFrom === 'stored' || r().abortedFrom === 'propagated') {
    if (delivery?.kind === 'secret' && !r().restoredAt) {
      const secret = delivery.target;
      await progress.step(
        `write the old password back to ${secret.location}`,
        async () => {
          const { value, version } = await secret.read();
          if (value === r().oldPassword) return 'already';
          if (value !== r().newPassword)
            throw refused(`${secret.location} holds a password this operation did not write; someone else changed it`, 'inspect it; the journal keeps both passwords');
          await ctx.journal.fence();
          await secret.write(r().oldPassword, version);
          return 'written';
        },
        (x) => (x === 'already' ? 'already there' : undefined),
      );
      await advance(ctx, { restoredAt: new Date().toISOString() });
    }
    await moveBack();
  }
  await progress.step(
    `delete the new password of ${r().username} (DELETE /v1/users/password, as the user)`,
    () =>
      target.rest.deletePassword(oldCreds(r()), r().newPassword, async () => {
        if (!(await target.rest.user(access.admin, access.uid))) throw failed(`the user ${access.email} no longer exists on REC ${target.name}`);
      }),
    (x) => (x === 'absent' ? 'it was never added' : undefined),
  );
  await progress.step('the old password authenticates', () => userSignsIn(ctx, access, oldCreds(r())), signInDetail);
  await progress.step('delete the journal', () => ctx.journal.delete());
}

export async function runUserReset(ctx: ProcedureContext, admin: Credentials, delivery: Delivery, access: UserAccess): Promise<void> {
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
  await progress.step('the new password authenticates', () => userSignsIn(ctx, access, newCreds(r())), signInDetail);
  await progress.step('delete the journal', () => ctx.journal.delete());
}
