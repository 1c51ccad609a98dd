// kubectl reccred user rotate|finish|reset: other users' passwords (seed 2), each user under its own journal.
import { confirmDestructive } from './confirm.js';
import { ExitCode, ReccredError, refused, usageError } from '../errors/exit-codes.js';
import { openSession, type Session, type SessionOptions } from '../rec/session.js';
import { newJournalRecord, type Journal, type JournalRecord } from '../journal/journal.js';
import { takeOverLease } from '../journal/takeover.js';
import type { AccessCheck } from '../kube/cluster.js';
import { redactor } from '../output/redactor.js';
import type { Outcome, Result } from '../output/result.js';
import { newPassword, type PasswordChoice } from '../password/password-source.js';
import { loadRecTarget, type RecTarget } from '../rec/rec-target.js';
import type { Credentials } from '../rest/rest-client.js';
import { AuthenticationFailedError, RestApiError } from '../rest/rest-errors.js';
import { checkCurrentCredentials, checkPermissions, checkPodTools, checkPodsReady, checkRecRunning, type PermissionCheck } from '../procedures/preflight.js';
import { baseResult } from '../procedures/base-result.js';
import { interruptSignal, procedureContext, outcome } from '../procedures/procedure-run.js';
import type { ProcedureContext } from '../procedures/procedure-steps.js';
import { explainError, interruptedBeforeChange } from '../procedures/explain-error.js';
import { recordEnd, recordResumed, recordStarted } from '../procedures/milestones.js';
import { SecretKeyTarget } from '../store/to-secret.js';
import { describeWorkload, WORKLOAD_KINDS, WORKLOAD_RESOURCES } from '../kube/workloads.js';
import { checkRestartable, findConsumers, moveConsumers, parseConsumers, type Consumer } from '../procedures/consumer-rollout.js';
import { waitUntil } from '../procedures/waits.js';
import { formatDuration } from '../duration/duration.js';
import {
  DEFAULT_USER_REFUSAL,
  OwnPasswordsForbiddenError,
  abortUserRotate,
  finishUserRotate,
  runUserReset,
  runUserRotate,
  userAccess,
  type Delivery,
  type UserAccess,
} from '../procedures/user-rotation.js';
import { findManagedUser, finishManagedUser, resetManagedUser, rotateManagedUser, type ManagedUserFrame } from '../procedures/managed-user-rotation.js';

export interface UserRequest {
  session: SessionOptions;
  rec: string;
  /** The user's email or name. */
  user: string;
  /** NAMESPACE/NAME[:KEY] of the Secret clients read the password from. */
  toSecret?: string;
  /** Shows the result document with a password handed over on stdout (before the journal moves on). */
  present: (result: Result) => void;
  /** How long the consumers' rollouts may take, in all, before the run stops resumable. */
  rolloutTimeoutMs?: number;
}

/** The middle step of rotate-user-passwords.md: which workloads move to the new password, and whether the old one goes in the same run. */
export interface ConsumerOptions {
  /** --consumers TYPE/NAME,...: these instead of the workloads found reading --to-secret. */
  consumers?: string;
  /** false with --no-restart: nothing is restarted (today's behaviour: the user moves the clients). */
  restart: boolean;
  /** --finish: the old password is deleted in this run, after the rollouts and the settle. */
  finish: boolean;
  /** --settle: from the Secret's update, for clients that read it through a volume and never restart. */
  settleMs: number;
  /** --dry-run: the read-only checks and the plan (with the consumers found); nothing changes. */
  dryRun?: boolean;
}

export interface UserRotateRequest extends UserRequest, ConsumerOptions {
  password: PasswordChoice;
  /** The user's current password, given on stdin or in a file; else read from --to-secret. */
  currentPassword?: string;
}

export interface UserResetRequest extends UserRequest {
  password: PasswordChoice;
  yes: boolean;
}

// Asked by name wherever a request names the object, so that a Role may grant them by resourceNames
// (deploy/cronjob/user-rbac.yaml): the REC, its pods, the admin's Secret (read only), the user's journal.
const USER_PERMISSIONS: PermissionCheck[] = [
  { verb: 'get', resource: 'redisenterpriseclusters', group: 'app.redislabs.com', of: 'rec' },
  { verb: 'list', resource: 'pods' },
  { verb: 'create', resource: 'pods', subresource: 'exec', of: 'pods' },
  { verb: 'get', resource: 'pods', subresource: 'exec', of: 'pods' },
  { verb: 'get', resource: 'secrets', of: 'credentials' },
];
/** The user's journal, checked once the user (whose uid names it) is known; still before anything changes. */
const USER_JOURNAL_PERMISSIONS: PermissionCheck[] = [
  { verb: 'get', resource: 'secrets', of: 'journal' },
  { verb: 'patch', resource: 'secrets', of: 'journal' },
  { verb: 'delete', resource: 'secrets', of: 'journal' },
  { verb: 'create', resource: 'secrets' },
];

interface UserTarget {
  session: Session;
  target: RecTarget;
  admin: Credentials;
  user: { uid: number; email: string };
  /**
   * The user's role and uid as the admin reads them, its status checked there. Asked only on the REST path:
   * a user the operator manages has its own recovery advice when locked.
   */
  access: () => Promise<UserAccess>;
  journal: Journal;
  toSecret?: SecretKeyTarget;
  result: Result;
  /** Ctrl-C, watched from the start of the preflight: before the journal it ends the run unchanged (exit 1). */
  interrupt: { signal: AbortSignal; dispose: () => void };
  present: (result: Result) => void;
}

/**
 * Whether two logins name the same account. Redis documents no case rule for emails or names
 * (content/operate/rs/references/rest-api/objects/user.md), and a cluster that matches them
 * case-insensitively would let "OPS@EXAMPLE.COM" reach ops@example.com: compare as that cluster would.
 */
const sameLogin = (a: string | undefined, b: string | undefined) => b !== undefined && a?.toLowerCase() === b.toLowerCase();

/** Everything before a user's journal: checks, the admin's credentials, the user and its journal. */
async function userTarget(request: UserRequest, command: string): Promise<UserTarget> {
  if (request.user === 'default') throw usageError(`cannot rotate the database default user: ${DEFAULT_USER_REFUSAL}`);
  const session = await openSession(request.session);
  const interrupt = interruptSignal(session.progress);
  const target = await loadRecTarget(session, request.rec);
  const result = baseResult(command, session, request.rec, target);
  const { progress } = session;
  const toSecret = request.toSecret ? SecretKeyTarget.parse(session.api, request.toSecret, session.namespace) : undefined;
  if (toSecret?.namespace === target.namespace && (toSecret.name === target.secretName || toSecret.name.startsWith(`${target.name}-reccred-journal`))) {
    // Writing a user's password there would replace the admin credentials the operator reads (or a journal).
    throw usageError(
      `--to-secret ${toSecret.toString()} is ${toSecret.name === target.secretName ? "the REC's own credential Secret" : 'a journal of this plugin'}`,
      "name the Secret your application reads the user's password from",
    );
  }
  await progress.step('REC is Running', () => checkRecRunning(target));
  await progress.step('permissions (SelfSubjectAccessReview)', async () => {
    await checkPermissions(session.cluster, USER_PERMISSIONS, target);
    if (toSecret) await checkToSecretPermissions(toSecret);
  });
  await progress.step(
    'pods Ready',
    () => checkPodsReady(target),
    () => `${target.pods.length} pods`,
  );
  await progress.step('pods have the commands the plugin runs in them', () => checkPodTools(target, 'user'));
  const admin = await progress.step(
    `read ${target.store.location}`,
    () => target.store.read(),
    (s) => `admin ${s.username}`,
  );
  redactor.add(admin.password);
  await progress.step('admin credentials authenticate', () => checkCurrentCredentials(target, admin));
  const users = await progress.step('find the user (GET /v1/users)', () => target.rest.users(admin));
  // The admin account under any spelling the cluster may accept: never the target of a user operation.
  const adminUids = new Set(users.filter((u) => sameLogin(u.email, admin.username) || sameLogin(u.name, admin.username)).map((u) => u.uid));
  const refuseAdmin = (name: string) =>
    usageError(`${name} is the REC admin (${admin.username}), whose password the operator uses`, `rotate it with: kubectl reccred rotate ${target.name} -n ${target.namespace}`);
  if (sameLogin(request.user, admin.username)) throw refuseAdmin(request.user);
  const user = users.find((u) => u.email === request.user) ?? users.find((u) => u.name === request.user);
  if (!user) {
    // Only another spelling matches: on a case-sensitive cluster that is someone else, so ask for the exact one.
    const other = users.find((u) => sameLogin(u.email, request.user) || sameLogin(u.name, request.user));
    if (other && adminUids.has(other.uid)) throw refuseAdmin(request.user);
    throw usageError(
      `REC ${target.name} has no user "${request.user}"`,
      other
        ? `did you mean ${String(other.email ?? other.name)}? (names are matched exactly)`
        : `users: ${users
            .map((u) => u.email ?? u.name)
            .slice(0, 20)
            .join(', ')}`,
    );
  }
  // Users sign in to the REST API with their email (rest-api/_index.md); an account without one (Redis
  // accepts an empty email) gives the plugin no documented login to act as.
  if (!user.email)
    throw refused(
      `${user.name ?? request.user} has no email on REC ${target.name}, and the REST API signs users in by email; nothing was changed`,
      `give the user an email (admin console, Access control > Users), then run this again`,
    );
  const email = user.email;
  if (adminUids.has(user.uid) || sameLogin(email, admin.username) || sameLogin(user.name, admin.username)) throw refuseAdmin(email);
  result.username = email;
  const journal = target.journal.forUser(user.uid);
  await progress.step(`permissions on the journal ${journal.name} (SelfSubjectAccessReview)`, () =>
    checkPermissions(session.cluster, USER_JOURNAL_PERMISSIONS, { ...target, journal }),
  );
  let checked: Promise<UserAccess> | undefined;
  const access = () => (checked ??= progress.step(`${email} can sign in (its status, as the admin reads it)`, () => userAccess(target, admin, user, command, progress)));
  return { session, target, admin, user: { uid: user.uid, email }, access, journal, toSecret, result, interrupt, present: request.present };
}

/** The application's Secret by name; creating it only when it does not exist yet (a create cannot be granted by name). */
async function checkToSecretPermissions(toSecret: SecretKeyTarget): Promise<void> {
  const named = (verb: string): AccessCheck => ({ verb, resource: 'secrets', name: toSecret.name });
  await checkPermissions(toSecret.cluster, [named('get'), named('patch')]);
  if ((await toSecret.read()).version === undefined) await checkPermissions(toSecret.cluster, [{ verb: 'create', resource: 'secrets' }]);
}

/** The current password given on stdin or in a file (read before any login), else the one in --to-secret. */
async function currentPassword(given: string | undefined, toSecret: SecretKeyTarget | undefined): Promise<string> {
  if (given !== undefined) return given;
  const fromSecret = toSecret ? (await toSecret.read()).value : undefined;
  if (fromSecret) return fromSecret;
  throw usageError(
    "the user's current password is needed: the cluster adds a password only for a caller who knows one",
    toSecret
      ? `${toSecret.location} does not hold it; pass --current-password-file or --current-password-stdin`
      : 'pass --to-secret (where clients read it), --current-password-file or --current-password-stdin',
  );
}

/** Where a journaled operation hands the password over: the Secret it recorded (a different --to-secret is refused), else stdout. */
function recordedSecret(u: UserTarget, existing: JournalRecord): SecretKeyTarget | undefined {
  if (!existing.toSecret) {
    if (u.toSecret)
      throw usageError(
        `the unfinished ${existing.operation} of ${existing.username} hands its password over on stdout, not to ${u.toSecret.location}`,
        'run it again without --to-secret',
      );
    return undefined;
  }
  const recorded = SecretKeyTarget.parse(u.session.api, existing.toSecret, u.session.namespace);
  if (u.toSecret && u.toSecret.toString() !== recorded.toString()) {
    throw usageError(
      `the unfinished ${existing.operation} of ${existing.username} writes ${recorded.location}, not ${u.toSecret.location}`,
      `run it again with --to-secret ${recorded.toString()}, or without --to-secret`,
    );
  }
  return recorded;
}

/** Hands the password over on stdout at once (the whole result document), before the journal moves on. */
function printedDelivery(u: UserTarget, printed: { password?: string }, message: string): Delivery {
  if (u.toSecret) return { kind: 'secret', target: u.toSecret };
  return {
    kind: 'print',
    print: (password) => {
      printed.password = password;
      u.result.phase = 'stored';
      u.result.message = message;
      u.result.password = password;
      // On stdout only, like get --reveal; the message goes to stderr.
      u.present(u.result);
    },
  };
}

async function runUser(
  u: UserTarget,
  record: JournalRecord,
  create: boolean,
  body: (ctx: ProcedureContext) => Promise<void>,
  message: string,
  printed: { password?: string },
): Promise<Outcome> {
  const { signal, dispose } = u.interrupt;
  let holding = false;
  let last: JournalRecord | undefined;
  try {
    let held = record;
    // Ctrl-C during the read-only preflight: stop before the journal, the first change (exit 1, not 3).
    if (create && signal.aborted) throw interruptedBeforeChange(`${u.user.email} on REC ${u.target.name}`);
    if (create) {
      await u.session.progress.step(`record the journal ${u.journal.name}`, () => u.journal.create(record));
      await recordStarted(u.target, record, u.journal.name);
    } else {
      const taken = await takeOverLease(u.journal, record, { note: (t) => u.session.progress.note(t), waiting: (t) => u.session.progress.waiting(t), signal });
      if (!taken) throw refused(`the ${record.operation} of ${record.username} was completed by its holder while this run watched its lease`, 'nothing left to do');
      held = taken;
      await recordResumed(u.target, held, u.journal.name, u.result.command);
    }
    holding = true;
    const ctx = procedureContext(u.session, u.target, held, { settleMs: 0, propagationTimeoutMs: 0, noWait: true }, signal, u.journal);
    try {
      await body(ctx);
    } finally {
      last = ctx.record;
    }
    u.result.phase = ctx.record.phase === 'stored' ? 'stored' : 'completed';
    u.result.message = message;
    if (printed.password !== undefined) {
      u.session.progress.note(message);
      return { result: u.result, printed: true };
    }
    return outcome(u.result);
  } catch (err) {
    const current = await u.journal.read().catch(() => undefined);
    // The cluster refused the first call of this run's own journal outright: nothing changed, so the lock goes
    // too. A resumed journal stays: the run that wrote it may have had its call applied, its reply lost.
    const refusedOutright = err instanceof AuthenticationFailedError || (err instanceof RestApiError && err.status < 500) || err instanceof OwnPasswordsForbiddenError;
    let left = holding ? current : undefined;
    if (create && current?.phase === 'recorded' && !current.replaceSentAt && refusedOutright) {
      const deleted = await u.journal.delete().then(
        () => true,
        () => false,
      );
      if (deleted) left = undefined;
    }
    u.result.phase = current?.phase ?? 'not-started';
    // A journal this run held and left behind is a state to resume, whatever stopped the run: exit 3 (resumable), not 1 or 4.
    const why = explainError(err);
    if (left && (why.exitCode === ExitCode.Failed || why.exitCode === ExitCode.Refused)) {
      const resumableError = new ReccredError(
        `the ${left.operation} of ${left.username} stopped in phase "${left.phase}": ${why.message}; the journal ${u.journal.name} keeps its passwords`,
        ExitCode.Resumable,
        why.hint ?? 'run the same command again to resume it',
      );
      return { ...outcome(u.result, resumableError), printed: printed.password !== undefined };
    }
    // Once the document is on stdout with the password, only the error follows, on stderr.
    return { ...outcome(u.result, err), printed: printed.password !== undefined };
  } finally {
    u.journal.release();
    dispose();
    await recordEnd(u.target, u.result, last, u.journal.name);
  }
}

/** A user the operator manages through a RedisEnterpriseUser changes passwords only through it: handed over with this frame. */
function managedFrame(u: UserTarget, asked: string): ManagedUserFrame {
  return {
    ...u,
    asked,
    recordedSecret: (existing) => recordedSecret(u, existing),
    delivery: (secret, printed, message) => {
      u.toSecret = secret;
      return printedDelivery(u, printed, message);
    },
    run: (record, create, body, message, printed) => runUser(u, record, create, body, message, printed),
    confirm: (what, yes, stdinBusy) => confirmDestructive(what, u.target.name, yes, stdinBusy),
  };
}

export async function userRotate(request: UserRotateRequest): Promise<Outcome> {
  const u = await userTarget(request, 'user rotate');
  try {
    const frame = managedFrame(u, request.user);
    const managed = await findManagedUser(frame);
    if (managed && (request.dryRun || request.finish || request.consumers !== undefined)) {
      throw usageError(
        `${request.user} is managed by a RedisEnterpriseUser: --dry-run, --finish and --consumers are not available for it`,
        'run user rotate without them; the operator rotates it through its password Secrets',
      );
    }
    if (managed) return await rotateManagedUser(frame, managed, request.password);
    const access = await u.access();
    const existing = await u.journal.read();
    const printed: { password?: string } = {};
    if (existing) {
      if (existing.operation !== 'user-rotate')
        throw refused(`a ${existing.operation} of ${u.user.email} is in progress`, `run: kubectl reccred user reset ${u.target.name} --user ${u.user.email} to complete it`);
      redactor.add(existing.oldPassword, existing.newPassword);
      if (existing.phase === 'aborting') throw abortOnly(u);
      // The journal says where the password went; a resumed run delivers it there again.
      u.toSecret = recordedSecret(u, existing);
      const consumersLeft = (existing.consumers?.length ?? 0) > 0 && !existing.consumersRolledOutAt;
      if (existing.phase === 'stored' && !consumersLeft && !request.finish) {
        const waiting = `${u.user.email} already has a new password waiting for clients (since ${String(existing.storeUpdatedAt)})`;
        if (u.toSecret) throw refused(`${waiting}, in ${u.toSecret.location}`, `once clients use it: kubectl reccred user finish ${u.target.name} --user ${u.user.email}`);
        // Printed before the journal moved on, but stdout may have been lost with the run: the same password again.
        u.session.progress.note(`${waiting}; handing that same password over again.`);
      }
      u.session.progress.note(`Resuming the rotation of ${u.user.email} left in phase ${existing.phase}.`);
      const delivery = printedDelivery(u, printed, rotatedMessage(u));
      return await runUser(
        u,
        existing,
        false,
        async (ctx) => {
          await runUserRotate(ctx, delivery, access);
          await afterHandover(ctx, u, request, delivery, access);
        },
        rotatedMessage(u, request.finish),
        printed,
      );
    }
    const current = await currentPassword(request.currentPassword, u.toSecret);
    redactor.add(current);
    const { password } = newPassword(request.password, u.user.email);
    redactor.add(password);
    if (password === current) throw new ReccredError('the new password equals the current one', ExitCode.Usage);
    const consumers = await consumerPlan(u, request);
    if (request.dryRun) return outcome(plannedRotation(u, request, consumers ?? []));
    const delivery = printedDelivery(u, printed, rotatedMessage(u));
    return await runUser(
      u,
      record(u, 'user-rotate', current, password, consumers),
      true,
      async (ctx) => {
        await runUserRotate(ctx, delivery, access);
        await afterHandover(ctx, u, request, delivery, access);
      },
      rotatedMessage(u, request.finish),
      printed,
    );
  } catch (err) {
    return outcome(u.result, err);
  }
}

export async function userFinish(request: UserRequest): Promise<Outcome> {
  const u = await userTarget(request, 'user finish');
  try {
    const frame = managedFrame(u, request.user);
    const managed = await findManagedUser(frame);
    if (managed) return await finishManagedUser(frame, managed);
    const access = await u.access();
    const existing = await u.journal.read();
    if (!existing) {
      u.result.phase = 'none';
      u.result.message = `${u.user.email} has no rotation waiting to be finished.`;
      return outcome(u.result);
    }
    redactor.add(existing.oldPassword, existing.newPassword);
    if (existing.operation !== 'user-rotate')
      throw usageError(
        `the journal of ${u.user.email} holds a ${existing.operation}`,
        `run: kubectl reccred user reset ${u.target.name} --user ${u.user.email} --yes to complete it`,
      );
    if (existing.phase === 'aborting') throw abortOnly(u);
    // The Secret the rotation wrote must still hold the new password before the old one goes.
    const secret = recordedSecret(u, existing);
    const delivery: Delivery | undefined = secret ? { kind: 'secret', target: secret } : undefined;
    return await runUser(
      u,
      existing,
      false,
      async (ctx) => {
        // A rotation stopped during its restarts: the old password goes only once every consumer runs with the new one.
        if (secret && (ctx.record.phase === 'stored' || ctx.record.phase === 'propagated')) {
          await moveConsumers(ctx, secret.cluster, request.rolloutTimeoutMs ?? DEFAULT_ROLLOUT_TIMEOUT_MS);
        }
        await finishUserRotate(ctx, delivery, access);
      },
      `The old password of ${u.user.email} is deleted; only the new one works.`,
      {},
    );
  } catch (err) {
    return outcome(u.result, err);
  }
}

/** Undoes an unfinished user rotate: the old password back in the Secret, the consumers back on it, the new password deleted. */
export async function userAbort(request: UserRequest & { settleMs: number }): Promise<Outcome> {
  const u = await userTarget(request, 'user abort');
  try {
    const access = await u.access();
    const existing = await u.journal.read();
    if (!existing) {
      u.result.phase = 'none';
      u.result.message = `${u.user.email} has no rotation to abort.`;
      return outcome(u.result);
    }
    redactor.add(existing.oldPassword, existing.newPassword);
    if (existing.operation !== 'user-rotate') throw usageError(`the journal of ${u.user.email} holds a ${existing.operation}, which cannot be aborted`, 'complete it instead');
    const secret = recordedSecret(u, existing);
    const delivery: Delivery | undefined = secret ? { kind: 'secret', target: secret } : undefined;
    return await runUser(
      u,
      existing,
      false,
      (ctx) =>
        abortUserRotate(ctx, delivery, access, async () => {
          if (!secret) return;
          await moveConsumers(ctx, secret.cluster, request.rolloutTimeoutMs ?? DEFAULT_ROLLOUT_TIMEOUT_MS, 'back');
          const from = Date.parse(ctx.record.restoredAt ?? new Date().toISOString());
          await waitUntil(ctx, from + request.settleMs, 'settle (clients reading the Secret through a volume, which no restart moves)');
        }),
      `The rotation of ${u.user.email} is undone: only the old password works${secret ? `, and ${secret.location} holds it` : ''}.`,
      {},
    );
  } catch (err) {
    return outcome(u.result, err);
  }
}

export async function userReset(request: UserResetRequest): Promise<Outcome> {
  const u = await userTarget(request, 'user reset');
  try {
    const frame = managedFrame(u, request.user);
    const managed = await findManagedUser(frame);
    if (managed) return await resetManagedUser(frame, managed, request.password, request.yes);
    const access = await u.access();
    const printed: { password?: string } = {};
    const message = `Every password of ${u.user.email} was replaced by one${u.toSecret ? `, now in ${u.toSecret.location}` : ' (printed once on stdout)'}.`;
    const existing = await u.journal.read();
    if (existing) {
      redactor.add(existing.oldPassword, existing.newPassword);
      if (existing.operation !== 'user-reset')
        throw refused(
          `a ${existing.operation} of ${u.user.email} is in progress (phase ${existing.phase})`,
          `finish it first: kubectl reccred user finish ${u.target.name} --user ${u.user.email}`,
        );
      u.toSecret = recordedSecret(u, existing);
      u.session.progress.note(`Resuming the reset of ${u.user.email} left in phase ${existing.phase}.`);
      return await runUser(u, existing, false, (ctx) => runUserReset(ctx, u.admin, printedDelivery(u, printed, message), access), message, printed);
    }
    const { password } = newPassword(request.password, u.user.email);
    redactor.add(password);
    await confirmDestructive(
      `Replace EVERY password of ${u.user.email} on REC ${u.target.name}; clients using any of them lose access now`,
      u.target.name,
      request.yes,
      request.password.fromStdin === true,
    );
    return await runUser(u, record(u, 'user-reset', '', password), true, (ctx) => runUserReset(ctx, u.admin, printedDelivery(u, printed, message), access), message, printed);
  } catch (err) {
    return outcome(u.result, err);
  }
}

function record(u: UserTarget, operation: 'user-rotate' | 'user-reset', oldPassword: string, newPassword: string, consumers?: Consumer[]): JournalRecord {
  return newJournalRecord({
    ...(consumers?.length ? { consumers: consumers.map((c) => ({ kind: c.kind, name: c.name })) } : {}),
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

function rotatedMessage(u: UserTarget, finished = false): string {
  if (finished) return `The old password of ${u.user.email} is deleted; only the new one works${u.toSecret ? ` (in ${u.toSecret.location})` : ''}.`;
  const where = u.toSecret ? `${u.toSecret.location} holds it` : 'it is printed once on stdout';
  return `${u.user.email} has a new password (${where}); the old one still works. Once every client uses the new one: kubectl reccred user finish ${u.target.name} -n ${u.target.namespace} --user ${u.user.email}`;
}

export const DEFAULT_ROLLOUT_TIMEOUT_MS = 10 * 60_000;

const abortOnly = (u: UserTarget) =>
  usageError(
    `the rotation of ${u.user.email} is being aborted; it can only be aborted now`,
    `run: kubectl reccred user abort ${u.target.name} -n ${u.target.namespace} --user ${u.user.email}`,
  );

/**
 * The workloads to move to the new password: those named, or those found reading --to-secret; each checked to
 * be restartable onto it (a paused Deployment, OnDelete, a partition would leave pods on the old one). Read-only.
 */
async function consumerPlan(u: UserTarget, request: UserRotateRequest): Promise<Consumer[] | undefined> {
  const { progress } = u.session;
  if (!u.toSecret) {
    if (request.consumers !== undefined || request.finish) {
      throw usageError(
        '--consumers and --finish need --to-secret: the consumers are the workloads that read that Secret',
        'name the Secret your application reads with --to-secret',
      );
    }
    return undefined;
  }
  if (!request.restart) {
    if (request.consumers !== undefined) throw usageError('--consumers and --no-restart contradict each other');
    return undefined;
  }
  const { cluster, name } = u.toSecret;
  const named = request.consumers !== undefined ? parseConsumers(request.consumers) : undefined;
  if (!named) {
    await progress.step(`permission to find the workloads in namespace ${cluster.namespace} (SelfSubjectAccessReview)`, () =>
      checkPermissions(
        cluster,
        WORKLOAD_KINDS.map((k) => ({ verb: 'list', resource: WORKLOAD_RESOURCES[k], group: 'apps' })),
      ),
    );
  }
  const found = named ?? (await progress.step(`find the workloads that read ${u.toSecret.location}`, () => findConsumers(cluster, name), describeConsumers));
  // Read and restarted by name: a Role may grant get and patch on exactly these (resourceNames).
  if (found.length) {
    await progress.step(`permissions to restart ${found.map(describeWorkload).join(', ')} (SelfSubjectAccessReview)`, () =>
      checkPermissions(
        cluster,
        found.flatMap((c) => ['get', 'patch'].map((verb) => ({ verb, resource: WORKLOAD_RESOURCES[c.kind], group: 'apps', name: c.name }))),
      ),
    );
  }
  const checked = await progress.step('each restarts every pod onto the new password', () => checkRestartable(cluster, found, name));
  u.result.consumers = checked.map((c) => ({ workload: describeWorkload(c), reads: c.reads, state: 'pending' as const }));
  return checked;
}

/** --dry-run: what the rotation would do, in order, with the consumers it would restart. */
function plannedRotation(u: UserTarget, request: UserRotateRequest, consumers: Consumer[]): Result {
  const timeout = formatDuration(request.rolloutTimeoutMs ?? DEFAULT_ROLLOUT_TIMEOUT_MS);
  const where = u.toSecret ? `write it to ${u.toSecret.location}` : 'print it once on stdout';
  const steps = [
    `record the journal secret ${u.journal.name} (the lock, and the durable copy of both passwords)`,
    `add a password for ${u.user.email} (POST /v1/users/password, as the user), check it authenticates, and ${where}`,
    ...(consumers.length
      ? [`restart ${consumers.map((c) => `${describeWorkload(c)} (reads it by ${c.reads.join(', ') || 'name given'})`).join(', ')} and wait for every rollout (up to ${timeout})`]
      : u.toSecret && request.restart
        ? [`restart nothing: no Deployment, StatefulSet or DaemonSet in namespace ${u.toSecret.namespace} reads ${u.toSecret.name}`]
        : []),
    request.finish
      ? `settle ${formatDuration(request.settleMs)} from the Secret update, then delete the old password (DELETE /v1/users/password) and the journal`
      : `leave the old password valid until: kubectl reccred user finish ${u.target.name} -n ${u.target.namespace} --user ${u.user.email}`,
  ];
  u.result.phase = 'dry-run';
  u.result.message = [`Dry run: every preflight check passed. The rotation of ${u.user.email} would:`, ...steps.map((x, i) => `  ${i + 1}. ${x}`), 'Nothing was changed.'].join(
    '\n',
  );
  return u.result;
}

const describeConsumers = (c: Consumer[]) => (c.length ? c.map((x) => `${describeWorkload(x)} (${x.reads.join(', ')})`).join(', ') : 'none');

/** After the Secret holds the new password: the consumers restarted and rolled out, then with --finish the settle and the removal. */
async function afterHandover(ctx: ProcedureContext, u: UserTarget, request: UserRotateRequest, delivery: Delivery, access: UserAccess): Promise<void> {
  if (u.toSecret) await moveConsumers(ctx, u.toSecret.cluster, request.rolloutTimeoutMs ?? DEFAULT_ROLLOUT_TIMEOUT_MS);
  showConsumers(u, ctx.record);
  if (!request.finish) return;
  const from = Date.parse(ctx.record.storeUpdatedAt ?? new Date().toISOString());
  await waitUntil(ctx, from + request.settleMs, 'settle (clients reading the Secret through a volume, which no restart moves)');
  await finishUserRotate(ctx, delivery, access);
}

function showConsumers(u: UserTarget, r: JournalRecord): void {
  if (!r.consumers?.length) return;
  const state = r.consumersRolledOutAt ? ('rolled-out' as const) : r.consumersRestartedAt ? ('restarted' as const) : ('pending' as const);
  const reads = new Map((u.result.consumers ?? []).map((c) => [c.workload, c.reads]));
  u.result.consumers = r.consumers.map((c) => ({ workload: describeWorkload(c), reads: reads.get(describeWorkload(c)) ?? [], state }));
}
