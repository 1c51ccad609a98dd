// The reset state machine (seed 2, "Replacing all existing passwords"): the emergency PUT that leaves
// exactly one valid password, then the store updated at once. It cannot be rolled back once the PUT
// may have reached the cluster: the old passwords are gone.
import { failed, resumable, usageError } from '../errors/exit-codes.js';
import { AuthenticationFailedError } from '../rest/rest-errors.js';
import { describeLockout } from '../rest/lockout-policy.js';
import type { JournalRecord } from '../journal/journal.js';
import { awaitEveryPod, replaceAllPasswords, storeNewCredentials, type ProcedureContext } from './procedure-steps.js';

const oldCreds = (r: JournalRecord) => ({ username: r.username, password: r.oldPassword });
const newCreds = (r: JournalRecord) => ({ username: r.username, password: r.newPassword });

export async function runReset(ctx: ProcedureContext): Promise<'completed'> {
  const { target, progress } = ctx;
  const r = () => ctx.record;

  await replaceAllPasswords(ctx, 'replace every password with the new one (PUT /v1/users/password)', () => target.rest.replacePasswords(oldCreds(r()), r().newPassword));
  if (r().phase === 'added') await storeNewCredentials(ctx, `update ${target.store.location} at once`, oldCreds(r()), newCreds(r()));
  if (r().phase === 'stored') await awaitEveryPod(ctx, 'every pod mounts the new password', newCreds(r()));
  if (r().phase === 'propagated' || r().phase === 'removed') {
    await progress.step('the new password authenticates', () => target.rest.authenticate(newCreds(r())));
    await progress.step('delete the journal', () => ctx.journal.delete());
    return 'completed';
  }
  throw failed(`the journal is in phase ${r().phase}, which a reset cannot continue from`);
}

/**
 * Only a reset whose PUT was never sent can be abandoned, or one whose new password was refused once
 * after a crash inside the PUT: then one login with the previous password tells whether the PUT applied.
 */
export async function abandonReset(ctx: ProcedureContext): Promise<'rolled-back'> {
  const r = ctx.record;
  if (r.phase === 'recorded' && r.replaceSentAt && r.replaceRefusedAt) {
    await ctx.progress.step('the previous password still authenticates (the replacement never applied)', async () => {
      try {
        await ctx.target.rest.authenticate(oldCreds(r));
      } catch (err) {
        if (!(err instanceof AuthenticationFailedError)) throw err;
        throw resumable(
          `the cluster refused the previous password of ${r.username} too: the account is most likely locked. Nothing more was tried`,
          `an admin unlocks it (Access control > Users, or by setting its password), or wait for the lock to end (${describeLockout(ctx.target.rest.lockout)}); then run "kubectl reccred finish ${ctx.target.name} -n ${ctx.target.namespace}" (it checks the new password once) or abort again`,
        );
      }
    });
    await ctx.progress.step('delete the journal (the store still holds the previous password)', () => ctx.journal.delete());
    return 'rolled-back';
  }
  if (r.phase !== 'recorded' || r.replaceSentAt) {
    throw usageError(
      `the reset of REC ${ctx.target.name} cannot be rolled back: the PUT that replaced every password ${r.phase === 'recorded' ? 'may have reached' : 'reached'} the cluster, and the old passwords are gone`,
      `run: kubectl reccred finish ${ctx.target.name} -n ${ctx.target.namespace}`,
    );
  }
  await ctx.progress.step('delete the journal (nothing was sent to the cluster)', () => ctx.journal.delete());
  return 'rolled-back';
}
