// kubectl reccred reset: the emergency replace-all (seed 2, PUT), journaled like rotate.
import { confirmDestructive } from './confirm.js';
import { ExitCode, ReccredError } from '../errors/exit-codes.js';
import type { Outcome } from '../output/result.js';
import { openSession, type SessionOptions } from '../rec/session.js';
import { newJournalRecord } from '../journal/journal.js';
import { redactor } from '../output/redactor.js';
import { newPassword, type PasswordChoice } from '../password/password-source.js';
import { loadRecTarget } from '../rec/rec-target.js';
import { runJournaled } from '../procedures/journaled-run.js';
import { runReset } from '../procedures/password-reset.js';
import { rotationPreflight } from '../procedures/preflight.js';
import { refuseIfActiveActive } from '../procedures/active-active.js';
import { baseResult } from '../procedures/base-result.js';
import { interruptSignal, outcome } from '../procedures/procedure-run.js';
import { interruptedBeforeChange } from '../procedures/explain-error.js';
import { describeLockout } from '../rest/lockout-policy.js';

export interface ResetRequest {
  session: SessionOptions;
  rec: string;
  password: PasswordChoice;
  propagationTimeoutMs: number;
  /** The confirmation was given (--yes); otherwise it is asked on a terminal. */
  yes: boolean;
  /** Proceed although a controller writes the credential Secret (noted in the journal and the result). */
  allowManagedSecret: boolean;
}

export async function reset(request: ResetRequest): Promise<Outcome> {
  const { propagationTimeoutMs } = request;
  const session = await openSession(request.session);
  const target = await loadRecTarget(session, request.rec);
  const result = baseResult('reset', session, request.rec, target);
  // Installed before the preflight, so a Ctrl-C there ends with "nothing changed" instead of a killed process.
  const { signal, dispose } = interruptSignal(session.progress);
  try {
    const { stored, managedSecretAllowed } = await rotationPreflight(session.cluster, target, session.progress, request.allowManagedSecret);
    await session.progress.step('not part of Active-Active (no RERC points at the REC)', () => refuseIfActiveActive(target, 'reset'));
    if (managedSecretAllowed) result.managedSecretAllowed = managedSecretAllowed;
    redactor.add(stored.password);
    result.username = stored.username;
    const { password } = newPassword(request.password, stored.username);
    redactor.add(password);
    if (password === stored.password) throw new ReccredError('the new password equals the current one', ExitCode.Usage);
    await confirmDestructive(
      `Replace EVERY password of ${stored.username} on REC ${target.name} with one new password`,
      target.name,
      request.yes,
      request.password.fromStdin === true,
    );
    session.progress.note(
      `Warning: from the PUT until they reload ${target.store.location}, the operator and the REC pods authenticate with a password that no longer works (kubelet syncs in 60-90 s); their failures count towards the lockout: ${describeLockout(target.rest.lockout)}.`,
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
    return await runJournaled(
      session,
      target,
      result,
      record,
      { settleMs: 0, propagationTimeoutMs, noWait: false },
      runReset,
      () => `Every password of ${stored.username} on REC ${target.name} was replaced by one; ${target.store.location} holds it and every pod mounts it.`,
      signal,
    );
  } catch (err) {
    return outcome(result, signal.aborted ? interruptedBeforeChange(`REC ${target.name}`) : err);
  } finally {
    dispose();
  }
}
