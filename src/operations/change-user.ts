// kubectl reccred change-user: preflight, journal, then the change-user state machine (SPEC 4).
import { formatDuration } from '../duration/duration.js';
import { ExitCode, ReccredError } from '../errors/exit-codes.js';
import type { Outcome } from '../output/result.js';
import { openSession, type SessionOptions } from '../rec/session.js';
import { newJournalRecord } from '../journal/journal.js';
import { redactor } from '../output/redactor.js';
import { newPassword, type PasswordChoice } from '../password/password-source.js';
import { loadRecTarget } from '../rec/rec-target.js';
import { runJournaled } from '../procedures/journaled-run.js';
import { rotationPreflight } from '../procedures/preflight.js';
import { refuseIfActiveActive } from '../procedures/active-active.js';
import { baseResult } from '../procedures/base-result.js';
import { interruptSignal, outcome, resumeHint } from '../procedures/procedure-run.js';
import { interruptedBeforeChange } from '../procedures/explain-error.js';
import type { RotationOptions } from '../procedures/procedure-steps.js';
import { checkNewUsername, runUserChange } from '../procedures/user-change.js';

export interface ChangeUserRequest {
  session: SessionOptions;
  rec: string;
  /** The new admin username. */
  username: string;
  password: PasswordChoice;
  timing: RotationOptions;
  dryRun: boolean;
  /** Proceed although a controller writes the credential Secret (noted in the journal and the result). */
  allowManagedSecret: boolean;
}

export async function changeUser(request: ChangeUserRequest): Promise<Outcome> {
  const { settleMs, propagationTimeoutMs, noWait } = request.timing;
  const session = await openSession(request.session);
  const target = await loadRecTarget(session, request.rec);
  const result = baseResult('change-user', session, request.rec, target);
  // Installed before the preflight, so a Ctrl-C there ends with "nothing changed" instead of a killed process.
  const { signal, dispose } = interruptSignal(session.progress);
  try {
    const { stored, managedSecretAllowed } = await rotationPreflight(session.cluster, target, session.progress, request.allowManagedSecret);
    await session.progress.step('not part of Active-Active (no RERC points at the REC)', () => refuseIfActiveActive(target, 'change-user'));
    if (managedSecretAllowed) result.managedSecretAllowed = managedSecretAllowed;
    redactor.add(stored.password);
    result.username = stored.username;
    const oldUserUid = await session.progress.step(
      `${request.username} is free, ${stored.username} found`,
      () => checkNewUsername(target.rest, stored, request.username),
      (uid) => `old user uid ${uid}`,
    );
    const { password, generated } = newPassword(request.password, request.username);
    redactor.add(password);
    if (password === stored.password) throw new ReccredError('the new password equals the current one', ExitCode.Usage);
    if (request.dryRun) {
      result.phase = 'dry-run';
      result.message = [
        `Dry run: every preflight check passed. The change of the admin user of REC ${target.name} would:`,
        `  1. record the journal secret ${target.journal.name}`,
        `  2. create the admin user ${request.username} with a ${generated ? `generated ${password.length}-character` : 'supplied'} password (POST /v1/users), and verify it`,
        `  3. set the REC's spec.username and update both keys of ${target.store.location}`,
        `  4. wait until all ${target.pods.length} pods mount them (up to ${formatDuration(propagationTimeoutMs)}), settle ${formatDuration(Math.max(settleMs, target.store.minimumSettleMs))}`,
        `  5. delete the user ${stored.username} (DELETE /v1/users/${oldUserUid}) as ${request.username}, verify, delete the journal`,
        'Nothing was changed.',
      ].join('\n');
      return outcome(result);
    }
    const record = newJournalRecord({
      operation: 'change-user',
      rec: target.name,
      username: stored.username,
      oldPassword: stored.password,
      newUsername: request.username,
      newPassword: password,
      oldUserUid,
      settleMs,
      ...(managedSecretAllowed ? { managedSecretAllowed } : {}),
    });
    return await runJournaled(
      session,
      target,
      result,
      record,
      { settleMs, propagationTimeoutMs, noWait },
      runUserChange,
      (end) =>
        end === 'completed'
          ? `REC ${target.name} now uses the admin user ${request.username}: ${target.store.location} and spec.username hold it, and ${stored.username} is deleted.`
          : `${target.store.location} and spec.username hold ${request.username}; both users are valid (--no-wait). After components have moved, ${resumeHint(target)}.`,
      signal,
    );
  } catch (err) {
    return outcome(result, signal.aborted ? interruptedBeforeChange(`REC ${target.name}`) : err);
  } finally {
    dispose();
  }
}
