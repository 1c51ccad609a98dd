// kubectl reccred change-user: preflight, journal, then the change-user state machine (SPEC 4).
import { parseDuration, formatDuration } from '../../cli/duration.js';
import { ExitCode, ReccredError } from '../../cli/exit-codes.js';
import type { GlobalFlags } from '../../cli/global-flags.js';
import { openSession } from '../../cli/session.js';
import { newJournalRecord } from '../../journal/journal.js';
import { redactor } from '../../output/redactor.js';
import { newPassword, suppliedPassword, type PasswordFlags } from '../../password/password-source.js';
import { loadRecTarget } from '../../rec/rec-target.js';
import { runJournaled } from '../../rotation/journaled-run.js';
import { rotationPreflight } from '../../rotation/preflight.js';
import { baseResult, interruptSignal, report, resumeHint } from '../../rotation/procedure-run.js';
import { interruptedBeforeChange } from '../../cli/explain-error.js';
import { checkNewUsername, runUserChange } from '../../rotation/user-change.js';

export interface ChangeUserFlags extends GlobalFlags, PasswordFlags {
  rec: string;
  username: string;
  settle: string;
  propagationTimeout: string;
  wait?: boolean;
  dryRun?: boolean;
  /** Proceed although a controller writes the credential Secret (noted in the journal and the result). */
  allowManagedSecret?: boolean;
}

export async function changeUser(flags: ChangeUserFlags): Promise<number> {
  const settleMs = parseDuration(flags.settle, '--settle');
  const propagationTimeoutMs = parseDuration(flags.propagationTimeout, '--propagation-timeout');
  const noWait = flags.wait === false;
  // Read before the first login: input that is not a password is refused with nothing sent.
  const supplied = await suppliedPassword(flags);
  const session = await openSession(flags);
  const target = await loadRecTarget(session, flags.rec);
  const result = baseResult('change-user', session, flags.rec, target);
  // Installed before the preflight, so a Ctrl-C there ends with "nothing changed" instead of a killed process.
  const { signal, dispose } = interruptSignal(session.progress);
  try {
    const { stored, managedSecretAllowed } = await rotationPreflight(session.cluster, target, session.progress, flags.allowManagedSecret === true);
    if (managedSecretAllowed) result.managedSecretAllowed = managedSecretAllowed;
    redactor.add(stored.password);
    result.username = stored.username;
    const oldUserUid = await session.progress.step(`${flags.username} is free, ${stored.username} found`, () => checkNewUsername(target.rest, stored, flags.username), (uid) => `old user uid ${uid}`);
    const { password, generated } = newPassword(flags, supplied, flags.username);
    redactor.add(password);
    if (password === stored.password) throw new ReccredError('the new password equals the current one', ExitCode.Usage);
    if (flags.dryRun) {
      result.phase = 'dry-run';
      result.message = [
        `Dry run: every preflight check passed. The change of the admin user of REC ${target.name} would:`,
        `  1. record the journal secret ${target.journal.name}`,
        `  2. create the admin user ${flags.username} with a ${generated ? `generated ${password.length}-character` : 'supplied'} password (POST /v1/users), and verify it`,
        `  3. set the REC's spec.username and update both keys of ${target.store.location}`,
        `  4. wait until all ${target.pods.length} pods mount them (up to ${formatDuration(propagationTimeoutMs)}), settle ${formatDuration(Math.max(settleMs, target.store.minimumSettleMs))}`,
        `  5. delete the user ${stored.username} (DELETE /v1/users/${oldUserUid}) as ${flags.username}, verify, delete the journal`,
        'Nothing was changed.',
      ].join('\n');
      return report(session, result);
    }
    const record = newJournalRecord({
      operation: 'change-user',
      rec: target.name,
      username: stored.username,
      oldPassword: stored.password,
      newUsername: flags.username,
      newPassword: password,
      oldUserUid,
      settleMs,
      ...(managedSecretAllowed ? { managedSecretAllowed } : {}),
    });
    return await runJournaled(session, target, result, record, { settleMs, propagationTimeoutMs, noWait }, runUserChange, (end) =>
      end === 'completed'
        ? `REC ${target.name} now uses the admin user ${flags.username}: ${target.store.location} and spec.username hold it, and ${stored.username} is deleted.`
        : `${target.store.location} and spec.username hold ${flags.username}; both users are valid (--no-wait). After components have moved, ${resumeHint(target)}.`,
      signal,
    );
  } catch (err) {
    return report(session, result, signal.aborted ? interruptedBeforeChange(`REC ${target.name}`) : err);
  } finally {
    dispose();
  }
}
