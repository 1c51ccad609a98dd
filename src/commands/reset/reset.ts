// kubectl reccred reset: the emergency replace-all (seed 2, PUT), journaled like rotate.
import { confirmDestructive } from '../../cli/confirm.js';
import { parseDuration } from '../../cli/duration.js';
import { ExitCode, ReccredError } from '../../cli/exit-codes.js';
import type { GlobalFlags } from '../../cli/global-flags.js';
import { openSession } from '../../cli/session.js';
import { newJournalRecord } from '../../journal/journal.js';
import { redactor } from '../../output/redactor.js';
import { newPassword, suppliedPassword, type PasswordFlags } from '../../password/password-source.js';
import { loadRecTarget } from '../../rec/rec-target.js';
import { runJournaled } from '../../rotation/journaled-run.js';
import { runReset } from '../../rotation/password-reset.js';
import { rotationPreflight } from '../../rotation/preflight.js';
import { baseResult, interruptSignal, report } from '../../rotation/procedure-run.js';
import { interruptedBeforeChange } from '../../cli/explain-error.js';

export interface ResetFlags extends GlobalFlags, PasswordFlags {
  rec: string;
  propagationTimeout: string;
  /** Proceed although a controller writes the credential Secret (noted in the journal and the result). */
  allowManagedSecret?: boolean;
}

export async function reset(flags: ResetFlags): Promise<number> {
  const propagationTimeoutMs = parseDuration(flags.propagationTimeout, '--propagation-timeout');
  // Read before the first login: input that is not a password is refused with nothing sent.
  const supplied = await suppliedPassword(flags);
  const session = await openSession(flags);
  const target = await loadRecTarget(session, flags.rec);
  const result = baseResult('reset', session, flags.rec, target);
  // Installed before the preflight, so a Ctrl-C there ends with "nothing changed" instead of a killed process.
  const { signal, dispose } = interruptSignal(session.progress);
  try {
    const { stored, managedSecretAllowed } = await rotationPreflight(session.cluster, target, session.progress, flags.allowManagedSecret === true);
    if (managedSecretAllowed) result.managedSecretAllowed = managedSecretAllowed;
    redactor.add(stored.password);
    result.username = stored.username;
    const { password } = newPassword(flags, supplied, stored.username);
    redactor.add(password);
    if (password === stored.password) throw new ReccredError('the new password equals the current one', ExitCode.Usage);
    await confirmDestructive(`Replace EVERY password of ${stored.username} on REC ${target.name} with one new password`, target.name, flags.yes, flags.passwordStdin === true);
    session.progress.note(
      `Warning: from the PUT until they reload ${target.store.location}, the operator and the REC pods authenticate with a password that no longer works (kubelet syncs in 60-90 s); their failures count towards the lockout (5 in 15 minutes).`,
    );
    const record = newJournalRecord({
      operation: 'reset',
      rec: target.name,
      username: stored.username,
      oldPassword: stored.password,
      newPassword: password,
      settleMs: 0,
      ...(managedSecretAllowed ? { managedSecretAllowed } : {}),
    });
    return await runJournaled(session, target, result, record, { settleMs: 0, propagationTimeoutMs, noWait: false }, runReset, () =>
      `Every password of ${stored.username} on REC ${target.name} was replaced by one; ${target.store.location} holds it and every pod mounts it.`,
      signal,
    );
  } catch (err) {
    return report(session, result, signal.aborted ? interruptedBeforeChange(`REC ${target.name}`) : err);
  } finally {
    dispose();
  }
}
