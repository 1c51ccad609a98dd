// kubectl reccred user rotate|finish|reset: other users' passwords (seed 2), each user under its own journal.
import fs from 'node:fs';
import { confirmDestructive } from '../../cli/confirm.js';
import { ExitCode, ReccredError, refused, usageError } from '../../cli/exit-codes.js';
import type { GlobalFlags } from '../../cli/global-flags.js';
import { openSession, type Session } from '../../cli/session.js';
import { holderIdentity, holderIsAlive, newJournalRecord, type Journal, type JournalRecord } from '../../journal/journal.js';
import type { AccessCheck } from '../../kube/cluster.js';
import { redactor } from '../../output/redactor.js';
import { printResult, type Result } from '../../output/result.js';
import { newPassword, readStdinLine, validateSupplied, type PasswordFlags } from '../../password/password-source.js';
import { loadRecTarget, type RecTarget } from '../../rec/rec-target.js';
import type { Credentials } from '../../rest/rest-client.js';
import { AuthenticationFailedError, RestApiError } from '../../rest/rest-errors.js';
import { checkCurrentCredentials, checkPermissions, checkPodsReady, checkRecRunning } from '../../rotation/preflight.js';
import { baseResult, interruptSignal, procedureContext, report } from '../../rotation/procedure-run.js';
import type { ProcedureContext } from '../../rotation/procedure-steps.js';
import { SecretKeyTarget } from '../../user-password/to-secret.js';
import { DEFAULT_USER_REFUSAL, finishUserRotate, runUserReset, runUserRotate, type Delivery } from '../../user-password/user-rotation.js';

export interface UserFlags extends GlobalFlags, PasswordFlags {
  rec: string;
  user: string;
  toSecret?: string;
  currentPasswordFile?: string;
  currentPasswordStdin?: boolean;
}

const USER_PERMISSIONS: AccessCheck[] = [
  { verb: 'get', resource: 'redisenterpriseclusters', group: 'app.redislabs.com' },
  { verb: 'list', resource: 'pods' },
  { verb: 'create', resource: 'pods', subresource: 'exec' },
  { verb: 'get', resource: 'secrets' },
  { verb: 'patch', resource: 'secrets' },
  { verb: 'create', resource: 'secrets' },
  { verb: 'delete', resource: 'secrets' },
];

interface UserTarget {
  session: Session;
  target: RecTarget;
  admin: Credentials;
  user: { uid: number; email: string };
  journal: Journal;
  toSecret?: SecretKeyTarget;
  result: Result;
}

/** Everything before a user's journal: checks, the admin's credentials, the user and its journal. */
async function userTarget(flags: UserFlags, command: string): Promise<UserTarget> {
  if (flags.user === 'default') throw usageError(`cannot rotate the database default user: ${DEFAULT_USER_REFUSAL}`);
  const session = await openSession(flags);
  const target = await loadRecTarget(session, flags.rec);
  const result = baseResult(command, session, flags.rec, target);
  const { progress } = session;
  const toSecret = flags.toSecret ? SecretKeyTarget.parse(session.api, flags.toSecret, session.namespace) : undefined;
  await progress.step('REC is Running', async () => checkRecRunning(target));
  await progress.step('permissions (SelfSubjectAccessReview)', async () => {
    await checkPermissions(session.cluster, USER_PERMISSIONS);
    if (toSecret && toSecret.namespace !== session.namespace) {
      await checkPermissions(toSecret.cluster, [{ verb: 'get', resource: 'secrets' }, { verb: 'patch', resource: 'secrets' }, { verb: 'create', resource: 'secrets' }]);
    }
  });
  await progress.step('pods Ready', async () => checkPodsReady(target), () => `${target.pods.length} pods`);
  const admin = await progress.step(`read ${target.store.location}`, () => target.store.read(), (s) => `admin ${s.username}`);
  redactor.add(admin.password);
  await progress.step('admin credentials authenticate', () => checkCurrentCredentials(target, admin));
  const users = await progress.step('find the user (GET /v1/users)', () => target.rest.users(admin));
  const user = users.find((u) => u.email === flags.user) ?? users.find((u) => u.name === flags.user);
  if (!user) throw usageError(`REC ${target.name} has no user "${flags.user}"`, `users: ${users.map((u) => u.email ?? u.name).slice(0, 20).join(', ')}`);
  const email = user.email ?? user.name ?? flags.user;
  if (email === admin.username) throw usageError(`${email} is the REC admin, whose password the operator uses`, `rotate it with: kubectl reccred rotate ${target.name} -n ${target.namespace}`);
  result.username = email;
  return { session, target, admin, user: { uid: user.uid, email }, journal: target.journal.forUser(user.uid), toSecret, result };
}

async function currentPassword(flags: UserFlags, toSecret: SecretKeyTarget | undefined): Promise<string> {
  if (flags.currentPasswordStdin && flags.passwordStdin) throw usageError('--current-password-stdin and --password-stdin both want stdin; give one of them as a file');
  if (flags.currentPasswordFile) return validateSupplied(fs.readFileSync(flags.currentPasswordFile, 'utf8').split(/\r?\n/)[0] ?? '', '--current-password-file');
  if (flags.currentPasswordStdin) return validateSupplied(await readStdinLine(), '--current-password-stdin');
  const fromSecret = toSecret ? (await toSecret.read()).value : undefined;
  if (fromSecret) return fromSecret;
  throw usageError(
    "the user's current password is needed: the cluster adds a password only for a caller who knows one",
    toSecret ? `${toSecret.location} does not hold it; pass --current-password-file or --current-password-stdin` : 'pass --to-secret (where clients read it), --current-password-file or --current-password-stdin',
  );
}

/** A user's journal is taken over only from a holder that is gone. */
function refuseLiveHolder(record: JournalRecord): void {
  if (holderIsAlive(record)) throw refused(`the ${record.operation} of ${record.username} is held by ${record.holder}, still running (heartbeat ${record.heartbeatAt})`, 'wait for it');
}

function printedDelivery(u: UserTarget, printed: { password?: string }): Delivery {
  return u.toSecret ? { kind: 'secret', target: u.toSecret } : { kind: 'print', print: (p) => (printed.password = p) };
}

async function runUser(u: UserTarget, record: JournalRecord, create: boolean, body: (ctx: ProcedureContext) => Promise<void>, message: string, printed: { password?: string }): Promise<number> {
  const { signal, dispose } = interruptSignal(u.session.progress);
  try {
    if (create) await u.session.progress.step(`record the journal ${u.journal.name}`, () => u.journal.create(record));
    else refuseLiveHolder(record);
    const ctx = procedureContext(u.session, u.target, record, { settleMs: 0, propagationTimeoutMs: 0, noWait: true }, signal);
    ctx.journal = u.journal;
    if (!create) await u.journal.update({ ...record, ...holderIdentity(), heartbeatAt: new Date().toISOString() });
    await body(ctx);
    u.result.phase = ctx.record.phase === 'stored' ? 'stored' : 'completed';
    u.result.message = message;
    if (printed.password !== undefined) {
      // Printed once, on stdout only, like get --reveal; the message goes to stderr.
      u.result.password = printed.password;
      u.session.progress.note(message);
      printResult(u.result, u.session.flags.output, () => `${printed.password}\n`, true);
      return 0;
    }
    return report(u.session, u.result);
  } catch (err) {
    const current = await u.journal.read().catch(() => undefined);
    // The cluster refused the first call outright: nothing changed, so the lock goes too.
    if (current?.phase === 'recorded' && !current.replaceSentAt && (err instanceof AuthenticationFailedError || (err instanceof RestApiError && err.status < 500))) {
      await u.journal.delete().catch(() => undefined);
    }
    u.result.phase = current?.phase ?? 'not-started';
    return report(u.session, u.result, err);
  } finally {
    dispose();
  }
}

export async function userRotate(flags: UserFlags): Promise<number> {
  const u = await userTarget(flags, 'user rotate');
  try {
    const existing = await u.journal.read();
    const printed: { password?: string } = {};
    if (existing) {
      if (existing.operation !== 'user-rotate') throw refused(`a ${existing.operation} of ${u.user.email} is in progress`, `run: kubectl reccred user reset ${u.target.name} --user ${u.user.email} to complete it`);
      redactor.add(existing.oldPassword, existing.newPassword);
      if (existing.phase === 'stored') throw refused(`${u.user.email} already has a new password waiting for clients (since ${existing.storeUpdatedAt})`, `once clients use it: kubectl reccred user finish ${u.target.name} --user ${u.user.email}`);
      u.session.progress.note(`Resuming the rotation of ${u.user.email} left in phase ${existing.phase}.`);
      return await runUser(u, existing, false, (ctx) => runUserRotate(ctx, printedDelivery(u, printed)), rotatedMessage(u), printed);
    }
    const current = await currentPassword(flags, u.toSecret);
    redactor.add(current);
    const { password } = await newPassword(flags, u.user.email);
    redactor.add(password);
    if (password === current) throw new ReccredError('the new password equals the current one', ExitCode.Usage);
    return await runUser(u, record(u, 'user-rotate', current, password), true, (ctx) => runUserRotate(ctx, printedDelivery(u, printed)), rotatedMessage(u), printed);
  } catch (err) {
    return report(u.session, u.result, err);
  }
}

export async function userFinish(flags: UserFlags): Promise<number> {
  const u = await userTarget(flags, 'user finish');
  try {
    const existing = await u.journal.read();
    if (!existing) {
      u.result.phase = 'none';
      u.result.message = `${u.user.email} has no rotation waiting to be finished.`;
      return report(u.session, u.result);
    }
    redactor.add(existing.oldPassword, existing.newPassword);
    if (existing.operation !== 'user-rotate') throw usageError(`the journal of ${u.user.email} holds a ${existing.operation}`, `run: kubectl reccred user reset ${u.target.name} --user ${u.user.email} --yes to complete it`);
    // The Secret the rotation wrote must still hold the new password before the old one goes.
    const secret = u.toSecret ?? (existing.toSecret ? SecretKeyTarget.parse(u.session.api, existing.toSecret, u.session.namespace) : undefined);
    const delivery: Delivery | undefined = secret ? { kind: 'secret', target: secret } : undefined;
    return await runUser(u, existing, false, (ctx) => finishUserRotate(ctx, delivery), `The old password of ${u.user.email} is deleted; only the new one works.`, {});
  } catch (err) {
    return report(u.session, u.result, err);
  }
}

export async function userReset(flags: UserFlags): Promise<number> {
  const u = await userTarget(flags, 'user reset');
  try {
    const printed: { password?: string } = {};
    const message = `Every password of ${u.user.email} was replaced by one${u.toSecret ? `, now in ${u.toSecret.location}` : ' (printed once on stdout)'}.`;
    const existing = await u.journal.read();
    if (existing) {
      redactor.add(existing.oldPassword, existing.newPassword);
      if (existing.operation !== 'user-reset') throw refused(`a ${existing.operation} of ${u.user.email} is in progress (phase ${existing.phase})`, `finish it first: kubectl reccred user finish ${u.target.name} --user ${u.user.email}`);
      u.session.progress.note(`Resuming the reset of ${u.user.email} left in phase ${existing.phase}.`);
      return await runUser(u, existing, false, (ctx) => runUserReset(ctx, u.admin, printedDelivery(u, printed)), message, printed);
    }
    const { password } = await newPassword(flags, u.user.email);
    redactor.add(password);
    await confirmDestructive(`Replace EVERY password of ${u.user.email} on REC ${u.target.name}; clients using any of them lose access now`, u.target.name, flags.yes, flags.passwordStdin === true);
    return await runUser(u, record(u, 'user-reset', '', password), true, (ctx) => runUserReset(ctx, u.admin, printedDelivery(u, printed)), message, printed);
  } catch (err) {
    return report(u.session, u.result, err);
  }
}

function record(u: UserTarget, operation: 'user-rotate' | 'user-reset', oldPassword: string, newPassword: string): JournalRecord {
  return newJournalRecord({
    operation,
    rec: u.target.name,
    username: u.user.email,
    userUid: u.user.uid,
    oldPassword,
    newPassword,
    ...(u.toSecret ? { toSecret: u.toSecret.toString() } : {}),
    settleMs: 0,
  });
}

function rotatedMessage(u: UserTarget): string {
  const where = u.toSecret ? `${u.toSecret.location} holds it` : 'it is printed once on stdout';
  return `${u.user.email} has a new password (${where}); the old one still works. Once every client uses the new one: kubectl reccred user finish ${u.target.name} -n ${u.target.namespace} --user ${u.user.email}`;
}
