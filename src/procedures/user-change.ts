// The change-user state machine (SPEC 4, seed "Change both the REC username and password"): a new
// admin user is created and verified, the REC and the store move to it, and the old user is deleted
// last, authenticated as the new one. Same journal phases as rotate, so finish and abort resume it.
import { formatDuration } from '../duration/duration.js';
import { failed, resumable, usageError } from '../errors/exit-codes.js';
import type { JournalRecord } from '../journal/journal.js';
import type { RestClient } from '../rest/rest-client.js';
import { advance, awaitEveryPod, restoreStore, settleMs, storeNewCredentials, type ProcedureContext } from './procedure-steps.js';
import { sleep, waitForPropagation, waitUntil } from './waits.js';
import { lastMomentCheck, settleThenLastLook } from './last-moment-check.js';

/** A field every change-user journal holds from its creation on; without it the journal was altered, and the run stops there. */
function recorded<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw failed(`the journal of this change-user has no ${field}, which it records from the start: it was altered`);
  return value;
}

const newUsername = (r: JournalRecord) => recorded(r.newUsername, 'newUsername');
const oldAdmin = (r: JournalRecord) => ({ username: r.username, password: r.oldPassword });
const newAdmin = (r: JournalRecord) => ({ username: newUsername(r), password: r.newPassword });

/** The admin role as the cluster spells it: RBAC role_uids where roles exist, else the legacy role. */
export async function adminRoleFields(rest: RestClient, auth: { username: string; password: string }): Promise<Record<string, unknown>> {
  const roles = await rest.roles(auth);
  if (!roles) return { role: 'admin' };
  const admin = roles.find((r) => r.management === 'admin');
  if (!admin) throw failed('the cluster has no role whose management is "admin", so the new user could not be an admin', 'check GET /v1/roles in the admin console');
  return { role_uids: [admin.uid] };
}

/** Refuses a new username that is taken, the same as the old, or not an email-like login. */
export async function checkNewUsername(rest: RestClient, auth: { username: string; password: string }, newUsername: string): Promise<number> {
  if (newUsername === auth.username) throw usageError(`${newUsername} is already the admin username; to change only the password, run rotate`);
  if (!/^[^\s@"\\]+@[^\s@"\\]+$/.test(newUsername) || newUsername.length > 254)
    throw usageError(`"${newUsername.slice(0, 80)}" is not a valid username: the operator expects an email address`);
  const users = await rest.users(auth);
  if (users.some((u) => u.email === newUsername)) {
    throw usageError(`a user ${newUsername} already exists on the cluster; choose a new username (this command creates the user, so its password is known only to it)`);
  }
  const old = users.find((u) => u.email === auth.username);
  if (!old) throw failed(`the cluster has no user ${auth.username}, yet it authenticated it`);
  return old.uid;
}

async function findUserUid(ctx: ProcedureContext, auth: { username: string; password: string }, email: string): Promise<number | undefined> {
  return (await ctx.target.rest.users(auth)).find((u) => u.email === email)?.uid;
}

/**
 * DELETE /v1/users/{uid} answers 200 with an action_uid (openapi.json) and may finish later (undocumented
 * how much later): the user is gone once GET /v1/users/{uid} answers the API's own 404. Polled with
 * progress up to the propagation timeout; past it the run stops resumable, the journal kept.
 */
async function waitUserGone(ctx: ProcedureContext, auth: { username: string; password: string }, uid: number, name: string, again: string): Promise<void> {
  const timeoutMs = ctx.options.propagationTimeoutMs;
  const poll = async () => {
    const started = Date.now();
    for (;;) {
      ctx.stillHeld();
      if (!(await ctx.target.rest.user(auth, uid))) return;
      const elapsed = Date.now() - started;
      if (elapsed >= timeoutMs) {
        throw resumable(
          `the cluster accepted the deletion of ${name} (uid ${uid}), but ${formatDuration(elapsed)} later the user is still there; the journal is kept`,
          `the deletion may still be running (the admin console, or GET /v1/actions); ${again}`,
        );
      }
      ctx.progress.waiting(`${name} is still listed (its deletion runs), ${formatDuration(elapsed)} of up to ${formatDuration(timeoutMs)}`);
      await sleep(ctx.pollMs, ctx.signal);
    }
  };
  await (ctx.idle ? ctx.idle(poll) : poll());
}

export async function runUserChange(ctx: ProcedureContext): Promise<'completed' | 'stored'> {
  const { target, progress } = ctx;
  const r = () => ctx.record;

  if (r().phase === 'recorded') {
    const uid = await progress.step(
      `create the admin user ${newUsername(r())} (POST /v1/users)`,
      async () => {
        // A crash may have left the user created: the journal existed first, and the preflight refused a taken name.
        const existing = await findUserUid(ctx, oldAdmin(r()), newUsername(r()));
        if (existing !== undefined) return { uid: existing, already: true };
        const role = await adminRoleFields(target.rest, oldAdmin(r()));
        const created = await target.rest.createUser(oldAdmin(r()), { email: r().newUsername, name: r().newUsername, password: r().newPassword, ...role });
        return { uid: created.uid, already: false };
      },
      (x) => (x.already ? 'already created' : `uid ${x.uid}`),
    );
    await advance(ctx, { phase: 'added', newUserUid: uid.uid });
  }
  if (r().phase === 'added') {
    await progress.step('the new admin user authenticates', () => target.rest.authenticate(newAdmin(r())));
    await progress.step(`REC ${target.name}: spec.username`, async () => {
      await ctx.journal.fence();
      await target.cluster.patchRec(target.name, { spec: { username: r().newUsername } });
    });
    await storeNewCredentials(ctx, `update ${target.store.location} (username and password)`, oldAdmin(r()), newAdmin(r()));
  }
  if (ctx.options.noWait && r().phase === 'stored') return 'stored';
  if (r().phase === 'stored') await awaitEveryPod(ctx, 'every pod mounts the new credentials', newAdmin(r()));
  if (r().phase === 'propagated') {
    await settleThenLastLook(ctx);
    const oldUserUid = recorded(r().oldUserUid, 'oldUserUid');
    // Recorded before it goes: a deletion the cluster finishes later cannot be told from a live user, so
    // once it may have been sent, an abort goes forward instead of deleting the new admin too.
    if (!r().oldUserDeleteSentAt) await advance(ctx, { oldUserDeleteSentAt: new Date().toISOString() });
    await progress.step(
      `delete the old admin user ${r().username} (DELETE /v1/users/${oldUserUid}) as the new one`,
      () => target.rest.deleteUser(newAdmin(r()), oldUserUid),
      (x) => (x === 'absent' ? 'already deleted' : undefined),
    );
    await progress.step(`${r().username} is gone (GET /v1/users/${oldUserUid})`, () =>
      waitUserGone(ctx, newAdmin(r()), oldUserUid, r().username, `run "kubectl reccred finish ${target.name} -n ${target.namespace}" again`),
    );
    await advance(ctx, { phase: 'removed' });
  }
  if (r().phase === 'removed') {
    await progress.step('the new admin user authenticates', () => target.rest.authenticate(newAdmin(r())));
    await progress.step('delete the journal', () => ctx.journal.delete());
    return 'completed';
  }
  throw failed(`the journal is in phase ${r().phase}, which a change-user cannot continue from`, 'run abort to finish rolling back');
}

/** Rolls a change-user back; once the old user is gone it completes instead (there is nothing to go back to). */
export async function rollBackUserChange(ctx: ProcedureContext): Promise<'rolled-back' | 'completed'> {
  const { target, progress } = ctx;
  const r = () => ctx.record;
  const completeInstead = async () => {
    progress.note(`The old admin user ${r().username} was already deleted: the change cannot be rolled back, so it is completed instead.`);
    await advance(ctx, { phase: 'removed' });
    await runUserChange(ctx);
    return 'completed' as const;
  };
  if (r().phase === 'removed' || r().abortedFrom === 'removed') return completeInstead();
  if (r().phase === 'propagated' && r().oldUserDeleteSentAt) {
    progress.note(`The deletion of the old admin user ${r().username} may already be under way: the change cannot be rolled back, so it is completed instead.`);
    await runUserChange(ctx);
    return 'completed';
  }
  // From "propagated" the DELETE of the old user may have gone out: ask as the new user (valid in this phase).
  if ((r().phase === 'propagated' || r().abortedFrom === 'propagated') && !r().oldPasswordEnsured) {
    const oldUid = await progress.step(`the old admin user ${r().username} still exists`, () => findUserUid(ctx, newAdmin(r()), r().username));
    if (oldUid === undefined) return completeInstead();
    await advance(ctx, { oldPasswordEnsured: true });
  }
  if (r().phase !== 'aborting') await advance(ctx, { phase: 'aborting', abortedFrom: r().phase });

  await progress.step(`restore ${target.store.location}`, () => restoreStore(ctx, newAdmin(r()), oldAdmin(r())));
  await progress.step(`REC ${target.name}: spec.username back to ${r().username}`, async () => {
    await ctx.journal.fence();
    await target.cluster.patchRec(target.name, { spec: { username: r().username } });
  });

  const { restoredAt } = r();
  if (restoredAt) {
    ctx.pods = await progress.step('every pod mounts the old credentials again', () => waitForPropagation(ctx, oldAdmin(r()), ctx.options.propagationTimeoutMs));
    await progress.step('settle (components re-read the secret)', () => waitUntil(ctx, Date.parse(restoredAt) + settleMs(ctx), 'settle'));
  } else {
    progress.skip('wait for the pods', 'the store never held the new credentials');
  }
  await lastMomentCheck(ctx, 'old');
  // From "propagated" a deletion of the old user sent before the crash may complete late (DELETE
  // /v1/users/{uid} answers an action_uid): the new admin is deleted only while the old one is still
  // there, read as the new one (valid in this phase). Before it, no DELETE of the old user was sent.
  const oldUid = recorded(r().oldUserUid, 'oldUserUid');
  if (r().abortedFrom === 'propagated')
    await progress.step(`the old admin user ${r().username} is still there (no late deletion)`, async () => {
      if (await target.rest.user(newAdmin(r()), oldUid)) return;
      throw resumable(
        `the old admin user ${r().username} disappeared during the rollback (a deletion sent before the crash completed): ${newUsername(r())} is the admin that works, so it is kept; nothing more was done`,
        `put ${newUsername(r())} back: set spec.username of REC ${target.name} and both keys of ${target.store.location} to it (its password is in the journal ${ctx.journal.name}), then delete that journal`,
      );
    });
  const newUid = await progress.step(
    `delete the new user ${newUsername(r())}`,
    async () => {
      const uid = r().newUserUid ?? (await findUserUid(ctx, oldAdmin(r()), newUsername(r())));
      return uid === undefined ? undefined : { uid, deleted: await target.rest.deleteUser(oldAdmin(r()), uid) };
    },
    (x) => (x === undefined ? 'it was never created' : x.deleted === 'absent' ? 'already deleted' : undefined),
  );
  if (newUid) {
    await progress.step(`${newUsername(r())} is gone (GET /v1/users/${newUid.uid})`, () =>
      waitUserGone(ctx, oldAdmin(r()), newUid.uid, newUsername(r()), `run "kubectl reccred abort ${target.name} -n ${target.namespace}" again`),
    );
  }
  await progress.step('the old admin user authenticates', () => target.rest.authenticate(oldAdmin(r())));
  await progress.step('delete the journal', () => ctx.journal.delete());
  return 'rolled-back';
}
