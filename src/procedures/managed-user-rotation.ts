// Users the operator manages through a RedisEnterpriseUser (operator 8.2.0-12; redis/docs
// content/operate/kubernetes/security/access-control/manage-users.md, "manage-users" below). The
// operator keeps such a user's passwords equal to the Secrets the resource names and puts them back
// when they are changed any other way ("the operator can later reconcile the old desired password back
// onto the user"; access-control/_index.md: the REST API is "no longer the source of truth"), so the
// REST API is never used to change them here. In `Rotatable` mode `user rotate|finish|reset` follow the
// documented rotation through the resource; in `Single` mode they refuse and name the documented steps.
import { randomBytes } from 'node:crypto';
import { failed, refused, resumable, usageError } from '../errors/exit-codes.js';
import { newJournalRecord, type Journal, type JournalRecord } from '../journal/journal.js';
import { KubeApiError } from '../kube/api-client.js';
import {
  createPasswordSecret,
  getRedisEnterpriseUser,
  listRedisEnterpriseUsers,
  passwordModeOf,
  passwordSecretsOf,
  patchPasswordSecrets,
  REU_GROUP,
  REU_RESOURCE,
  type RedisEnterpriseUser,
} from '../kube/redis-enterprise-user.js';
import { decodeSecretKey } from '../kube/resources.js';
import { redactor } from '../output/redactor.js';
import type { Outcome, Result } from '../output/result.js';
import { newPassword, type PasswordChoice } from '../password/password-source.js';
import type { RecTarget } from '../rec/rec-target.js';
import type { Session } from '../rec/session.js';
import type { Credentials } from '../rest/rest-client.js';
import { AuthenticationFailedError } from '../rest/rest-errors.js';
import type { SecretKeyTarget } from '../store/to-secret.js';
import { lastMomentCheckSecretKey } from './last-moment-check.js';
import { checkPermissions } from './preflight.js';
import { outcome } from './procedure-run.js';
import { advance, type ProcedureContext } from './procedure-steps.js';
import { deliver, type Delivery } from './user-rotation.js';
import { sleep } from './waits.js';

const DOC = 'content/operate/kubernetes/security/access-control/manage-users.md';
/** How long the operator may take to show a change in the resource's status before the run stops (resumable). */
const RECONCILE_TIMEOUT_MS = 3 * 60_000;

/** What `user rotate|finish|reset` hand over to this module: the user, its journal, and the operation's own frame. */
export interface ManagedUserFrame {
  session: Session;
  target: RecTarget;
  user: { uid: number; email: string };
  /** The REC admin's credentials: they read the user's record when a login of the user is answered 403. */
  admin: Credentials;
  /** The user as --user named it. */
  asked: string;
  journal: Journal;
  result: Result;
  toSecret?: SecretKeyTarget;
  /** The Secret a journal hands its password to (a different --to-secret is refused), or undefined for stdout. */
  recordedSecret(existing: JournalRecord): SecretKeyTarget | undefined;
  /** Where the password goes: that Secret, or stdout at once (the whole result document). */
  delivery(secret: SecretKeyTarget | undefined, printed: { password?: string }, message: string): Delivery;
  /** Creates (or takes over) the journal, runs `body` under it, and turns the end into an Outcome. */
  run(record: JournalRecord, create: boolean, body: (ctx: ProcedureContext) => Promise<void>, message: string, printed: { password?: string }): Promise<Outcome>;
  /** --yes, or the REC name typed on a terminal. */
  confirm(what: string, yes: boolean, stdinBusy: boolean): Promise<void>;
}

/** The resource that manages the user (undefined `resource`: a journal names it, and it can no longer be read). */
export interface ManagedUser {
  name: string;
  resource: RedisEnterpriseUser | undefined;
}

const kubectlRef = (name: string, namespace: string) => `redisenterpriseuser ${name} -n ${namespace}`;
const newCreds = (r: JournalRecord) => ({ username: r.username, password: r.newPassword });
const managed = (r: JournalRecord) => {
  // Every journal these procedures run under is written with it.
  if (!r.managedUser) throw failed('the journal of this managed user has no managedUser, which it records from the start: it was altered');
  return r.managedUser;
};

/**
 * Whether the resource manages this user: its status.uid is the user's id; before the operator has
 * reconciled it, a login it names (status.username, spec.username, spec.email) is the user's. Redis
 * documents no case rule for logins, so they are compared without case, as user.ts compares the admin:
 * a resource that may manage the user is never missed.
 */
function manages(r: RedisEnterpriseUser, user: { uid: number; email: string }, asked: string): boolean {
  const uid = r.status?.uid;
  if (uid !== undefined && String(uid) !== '') return String(uid) === String(user.uid);
  const logins = [user.email, asked].map((l) => l.toLowerCase());
  return [r.status?.username, r.spec.username, r.spec.email].some((l) => l !== undefined && l !== '' && logins.includes(l.toLowerCase()));
}

/**
 * The RedisEnterpriseUser that manages the user, if any. Where the CRD is absent (an operator before
 * 8.2.0-12) or this account may not list the resources, it says so in the step and goes on as before.
 * A journal of a managed operation names its resource, which decides even if the list no longer shows it.
 */
export async function findManagedUser(f: ManagedUserFrame): Promise<ManagedUser | undefined> {
  const { target, session } = f;
  const found = await session.progress.step(
    'is the user managed by a RedisEnterpriseUser (list redisenterpriseusers)',
    async () => {
      const listed = await listRedisEnterpriseUsers(target.cluster);
      const journaled = (await f.journal.read())?.managedUser?.resource;
      if (journaled) {
        const resource = Array.isArray(listed) ? listed.find((r) => r.metadata.name === journaled) : await getRedisEnterpriseUser(target.cluster, journaled).catch(() => undefined);
        return { name: journaled, resource };
      }
      if (!Array.isArray(listed)) return listed;
      const matches = listed.filter((r) => manages(r, f.user, f.asked));
      if (matches.length > 1) {
        throw refused(
          `RedisEnterpriseUsers ${matches.map((r) => r.metadata.name).join(', ')} all name ${f.user.email}; which one the operator follows is unclear, so nothing was changed`,
          `keep one of them: kubectl get redisenterpriseusers -n ${target.namespace}`,
        );
      }
      return matches[0] ? { name: matches[0].metadata.name, resource: matches[0] } : undefined;
    },
    (x) =>
      x === 'absent'
        ? 'no: the RedisEnterpriseUser CRD is not installed'
        : x === 'forbidden'
          ? 'cannot tell: listing redisenterpriseusers is forbidden; if one manages this user, the operator will undo this change'
          : x
            ? `yes: ${x.name}${x.resource ? ` (passwordMode ${passwordModeOf(x.resource)})` : ''}`
            : 'no',
  );
  return typeof found === 'object' ? found : undefined;
}

/** The documented ways to change a Single-mode user's password (manage-users, "Change a password"). */
function singleModeRefusal(f: ManagedUserFrame, r: RedisEnterpriseUser): never {
  const [secret = '?'] = passwordSecretsOf(r);
  const { name } = r.metadata;
  throw refused(
    `${f.user.email} is managed by RedisEnterpriseUser ${name} in passwordMode Single: the operator keeps its one password equal to Secret ${secret} and undoes a change made through the REST API, so this plugin cannot rotate it. Nothing was changed. The documented steps (${DOC}): create a new Secret with the next password (key "password"), then either update the value in the existing Secret ${secret} or point spec.passwordSecrets[0].name at the new Secret; clients still using the old password lose access at once. For a rotation without an outage, switch the resource to passwordMode: Rotatable and run this command again`,
    `kubectl patch ${kubectlRef(name, f.target.namespace)} --type merge -p '{"spec":{"passwordMode":"Rotatable"}}'`,
  );
}

/** Read-only checks before a managed rotate or reset; returns the resource and, for rotate, its current password. */
async function checkManaged(f: ManagedUserFrame, m: ManagedUser, command: 'rotate' | 'reset'): Promise<{ resource: RedisEnterpriseUser; current?: string }> {
  const { target, session } = f;
  const r = m.resource;
  if (!r) throw refused(`RedisEnterpriseUser ${m.name} cannot be read`, `check it: kubectl get ${kubectlRef(m.name, target.namespace)}`);
  const mode = passwordModeOf(r);
  const secrets = passwordSecretsOf(r);
  const describe = kubectlRef(m.name, target.namespace);
  if (r.spec.authMethod === 'Certificate') throw refused(`RedisEnterpriseUser ${m.name} authenticates ${f.user.email} with a client certificate: it has no password to rotate`);
  if (mode === 'Single') singleModeRefusal(f, r);
  if (mode !== 'Rotatable') throw refused(`RedisEnterpriseUser ${m.name} has passwordMode "${mode}", which is neither Single nor Rotatable`, `see: kubectl describe ${describe}`);
  if (r.status?.uid === undefined || String(r.status.uid) === '') {
    throw refused(`the operator has not reconciled RedisEnterpriseUser ${m.name} yet (status.uid is empty); nothing was changed`, `see its events: kubectl describe ${describe}`);
  }
  // manage-users, "Recover a locked user": "The operator skips password changes while the user is locked".
  if (r.status.signinStatus === 'Locked') {
    throw refused(
      `${f.user.email} is locked (status.signinStatus Locked on RedisEnterpriseUser ${m.name}); the operator skips password changes while it is, so nothing was changed`,
      `as ${DOC} ("Recover a locked user") says: first add a new Secret reference to spec.passwordSecrets, then follow the Redis Software unlock procedure (content/operate/rs/security/access-control/manage-users/login-lockout.md); run this command once the user is unlocked`,
    );
  }
  if (command === 'rotate' && secrets.length !== 1) {
    throw refused(
      `RedisEnterpriseUser ${m.name} lists ${secrets.length} password Secrets (${secrets.join(', ') || 'none'}): a rotation is in progress outside this plugin; nothing was changed`,
      `finish it first by removing the old Secret from spec.passwordSecrets (kubectl edit ${describe}), then run this command again`,
    );
  }
  if (f.toSecret?.namespace === target.namespace && secrets.includes(f.toSecret.name)) {
    throw usageError(
      `--to-secret ${f.toSecret.toString()} is a password Secret of RedisEnterpriseUser ${m.name}; the operator marks those immutable in Rotatable mode`,
      'name the Secret your clients read the password from (the new password also goes into a new Secret the resource lists)',
    );
  }
  await session.progress.step('permissions on the RedisEnterpriseUser (SelfSubjectAccessReview)', () =>
    checkPermissions(target.cluster, [
      { verb: 'get', resource: REU_RESOURCE, group: REU_GROUP, name: m.name },
      { verb: 'patch', resource: REU_RESOURCE, group: REU_GROUP, name: m.name },
    ]),
  );
  if (command === 'reset') return { resource: r };
  const [secretName = ''] = secrets;
  const current = await session.progress.step(`read the current password (Secret ${secretName})`, async () => {
    const secret = await target.cluster.getSecret(secretName);
    const value = secret && decodeSecretKey(secret, 'password');
    if (!value) {
      throw refused(
        `Secret ${secretName}, which RedisEnterpriseUser ${m.name} names, ${secret ? 'has no "password" key' : `does not exist as a Kubernetes Secret in namespace ${target.namespace}`}; nothing was changed`,
        `for a Vault-backed password, follow the documented steps yourself (${DOC}, "Rotatable mode"); otherwise see: kubectl describe ${describe}`,
      );
    }
    redactor.add(value);
    return value;
  });
  if (f.toSecret) {
    const { value } = await f.toSecret.read();
    if (value !== undefined && value !== current) {
      throw refused(
        `${f.toSecret.location} holds a password that is not the current one of ${f.user.email} (the one in Secret ${secretName}); nothing was changed`,
        'name the Secret your clients read the current password from, or a Secret that does not exist yet',
      );
    }
  }
  return { resource: r, current };
}

/** A new password Secret's name, beside the resource's: `<resource>-reccred-<6 hex>`, within the 253 characters of a name. */
const newSecretName = (resource: string) => `${resource.slice(0, 253 - 15)}-reccred-${randomBytes(3).toString('hex')}`;

function plan(f: ManagedUserFrame, resource: RedisEnterpriseUser, operation: 'user-rotate' | 'user-reset', oldPassword: string, password: string): JournalRecord {
  const { name } = resource.metadata;
  return newJournalRecord({
    operation,
    rec: f.target.name,
    username: f.user.email,
    userUid: f.user.uid,
    oldPassword,
    newPassword: password,
    ...(f.toSecret ? { toSecret: f.toSecret.toString() } : {}),
    settleMs: 0,
    managedUser: { resource: name, newSecret: newSecretName(name), oldSecrets: passwordSecretsOf(resource) },
  });
}

/** A journal left by a rotation through the REST API (before the operator managed the user) is not continued here. */
function restJournalRefusal(f: ManagedUserFrame, m: ManagedUser, existing: JournalRecord): never {
  throw refused(
    `an unfinished ${existing.operation} of ${f.user.email} through the REST API (journal ${f.journal.name}) predates RedisEnterpriseUser ${m.name}, which now manages the user and undoes password changes made through the REST API`,
    `inspect the user's passwords and the resource (kubectl describe ${kubectlRef(m.name, f.target.namespace)}); once they agree, delete the journal Secret ${f.journal.name}`,
  );
}

function where(secret: SecretKeyTarget | undefined): string {
  return secret ? `, and ${secret.location} holds it` : '; it is printed once on stdout';
}

export async function rotateManagedUser(f: ManagedUserFrame, m: ManagedUser, choice: PasswordChoice): Promise<Outcome> {
  const { target, session } = f;
  const printed: { password?: string } = {};
  const message = (r: JournalRecord, secret: SecretKeyTarget | undefined) =>
    `${f.user.email} has a new password in Secret ${managed(r).newSecret}, which RedisEnterpriseUser ${m.name} now lists beside the old one${where(secret)}; the old password still works. Once every client uses the new one: kubectl reccred user finish ${target.name} -n ${target.namespace} --user ${f.user.email}`;
  const existing = await f.journal.read();
  if (existing) {
    if (!existing.managedUser) restJournalRefusal(f, m, existing);
    if (existing.operation !== 'user-rotate')
      throw refused(`a ${existing.operation} of ${f.user.email} is in progress`, `run: kubectl reccred user reset ${target.name} --user ${f.user.email} --yes to complete it`);
    redactor.add(existing.oldPassword, existing.newPassword);
    const secret = f.recordedSecret(existing);
    if (existing.phase === 'stored') {
      const waiting = `${f.user.email} already has a new password waiting for clients (since ${String(existing.storeUpdatedAt)})`;
      if (secret) throw refused(`${waiting}, in ${secret.location}`, `once clients use it: kubectl reccred user finish ${target.name} --user ${f.user.email}`);
      session.progress.note(`${waiting}; handing that same password over again.`);
    }
    session.progress.note(`Resuming the rotation of ${f.user.email} through RedisEnterpriseUser ${m.name}, left in phase ${existing.phase}.`);
    const text = message(existing, secret);
    return f.run(existing, false, (ctx) => runManagedUserRotate(ctx, f.admin, f.delivery(secret, printed, text)), text, printed);
  }
  const { resource, current } = await checkManaged(f, m, 'rotate');
  const { password } = newPassword(choice, f.user.email);
  redactor.add(password);
  if (password === current) throw usageError('the new password equals the current one');
  const record = plan(f, resource, 'user-rotate', current ?? '', password);
  const text = message(record, f.toSecret);
  return f.run(record, true, (ctx) => runManagedUserRotate(ctx, f.admin, f.delivery(f.toSecret, printed, text)), text, printed);
}

export async function finishManagedUser(f: ManagedUserFrame, m: ManagedUser): Promise<Outcome> {
  const { target } = f;
  const existing = await f.journal.read();
  if (!existing) {
    f.result.phase = 'none';
    f.result.message = `${f.user.email} has no rotation waiting to be finished.`;
    return outcome(f.result);
  }
  if (!existing.managedUser) restJournalRefusal(f, m, existing);
  redactor.add(existing.oldPassword, existing.newPassword);
  if (existing.operation !== 'user-rotate')
    throw usageError(`the journal of ${f.user.email} holds a ${existing.operation}`, `run: kubectl reccred user reset ${target.name} --user ${f.user.email} --yes to complete it`);
  const secret = f.recordedSecret(existing);
  const { newSecret, oldSecrets } = existing.managedUser;
  const text = `The old password of ${f.user.email} is gone: RedisEnterpriseUser ${m.name} lists only Secret ${newSecret}, and only its password works. ${leftInPlace(oldSecrets)}`;
  return f.run(existing, false, (ctx) => finishManagedUserRotate(ctx, f.admin, secret), text, {});
}

export async function resetManagedUser(f: ManagedUserFrame, m: ManagedUser, choice: PasswordChoice, yes: boolean): Promise<Outcome> {
  const { target, session } = f;
  const printed: { password?: string } = {};
  const message = (r: JournalRecord, secret: SecretKeyTarget | undefined) =>
    `Every password of ${f.user.email} was replaced by one: RedisEnterpriseUser ${m.name} lists only Secret ${managed(r).newSecret}${where(secret)}. ${leftInPlace(managed(r).oldSecrets)}`;
  const existing = await f.journal.read();
  if (existing) {
    if (!existing.managedUser) restJournalRefusal(f, m, existing);
    redactor.add(existing.oldPassword, existing.newPassword);
    if (existing.operation !== 'user-reset')
      throw refused(
        `a ${existing.operation} of ${f.user.email} is in progress (phase ${existing.phase})`,
        `finish it first: kubectl reccred user finish ${target.name} --user ${f.user.email}`,
      );
    const secret = f.recordedSecret(existing);
    session.progress.note(`Resuming the reset of ${f.user.email} through RedisEnterpriseUser ${m.name}, left in phase ${existing.phase}.`);
    const text = message(existing, secret);
    return f.run(existing, false, (ctx) => runManagedUserReset(ctx, f.admin, f.delivery(secret, printed, text)), text, printed);
  }
  const { resource } = await checkManaged(f, m, 'reset');
  const { password } = newPassword(choice, f.user.email);
  redactor.add(password);
  await f.confirm(
    `Replace EVERY password of ${f.user.email} on REC ${target.name}: RedisEnterpriseUser ${m.name} will list only a new Secret, and clients using any other password lose access as soon as the operator applies it`,
    yes,
    choice.fromStdin === true,
  );
  const record = plan(f, resource, 'user-reset', '', password);
  const text = message(record, f.toSecret);
  return f.run(record, true, (ctx) => runManagedUserReset(ctx, f.admin, f.delivery(f.toSecret, printed, text)), text, printed);
}

const leftInPlace = (secrets: string[]) =>
  secrets.length
    ? `Secret${secrets.length === 1 ? '' : 's'} ${secrets.join(', ')} ${secrets.length === 1 ? 'was' : 'were'} left in place: ${secrets.length === 1 ? 'it' : 'they'} may be referenced elsewhere; delete ${secrets.length === 1 ? 'it' : 'them'} once nothing uses ${secrets.length === 1 ? 'it' : 'them'} (${DOC}, step 5).`
    : '';

// ---- the state machines (journaled; every step idempotent, so a run resumed after a crash goes on) ----

/** rotate: recorded -> (new Secret, listed by the resource) added -> (reconciled, verified, handed over) stored. */
export async function runManagedUserRotate(ctx: ProcedureContext, admin: Credentials, delivery: Delivery): Promise<void> {
  const r = () => ctx.record;
  const { resource, newSecret } = managed(r());
  if (r().phase === 'recorded') {
    await ensurePasswordSecret(ctx);
    // manage-users, "Rotatable mode" step 2: "Add it to spec.passwordSecrets. Both passwords now authenticate."
    await ctx.progress.step(
      `add Secret ${newSecret} to spec.passwordSecrets of RedisEnterpriseUser ${resource}`,
      () => setPasswordSecrets(ctx, (names) => (names.includes(newSecret) ? names : names.length >= 2 ? undefined : [...names, newSecret])),
      (x) => (x === 'already' ? 'already listed' : undefined),
    );
    await advance(ctx, { phase: 'added' });
  }
  if (r().phase === 'added' || r().phase === 'stored') {
    if (r().phase === 'added') {
      await awaitReconciled(ctx, 'both');
      await verify(ctx, admin);
    }
    await handOver(ctx, delivery);
    if (r().phase === 'added') await advance(ctx, { phase: 'stored', storeUpdatedAt: new Date().toISOString() });
  }
}

/** finish: stored -> (the old Secrets off the resource) removed -> reconciled, verified, journal deleted. */
export async function finishManagedUserRotate(ctx: ProcedureContext, admin: Credentials, secret: SecretKeyTarget | undefined): Promise<void> {
  const r = () => ctx.record;
  const { target } = ctx;
  const { resource, newSecret } = managed(r());
  if (r().phase === 'recorded' || r().phase === 'added') {
    throw usageError(
      `the rotation of ${r().username} stopped before the new password was handed over (phase ${r().phase})`,
      `run "kubectl reccred user rotate ${target.name} -n ${target.namespace} --user ${r().username}" again to complete that first`,
    );
  }
  if (r().phase === 'stored' || r().phase === 'propagated') {
    if (secret) await lastMomentCheckSecretKey(ctx, secret);
    // manage-users, "Rotatable mode" step 4: "Remove the old Secret from spec.passwordSecrets. Only the new password authenticates."
    await ctx.progress.step(
      `remove the old Secret from spec.passwordSecrets of RedisEnterpriseUser ${resource}`,
      // Only the Secrets this rotation recorded go; one someone else put there stops the run (its clients would lose access).
      () => setPasswordSecrets(ctx, (names) => (names.every((n) => n === newSecret || managed(r()).oldSecrets.includes(n)) ? [newSecret] : undefined)),
      (x) => (x === 'already' ? 'already removed' : undefined),
    );
    await advance(ctx, { phase: 'removed' });
  }
  await awaitReconciled(ctx, 'only-new');
  await verify(ctx, admin);
  await ctx.progress.step('delete the journal', () => ctx.journal.delete());
}

/** reset: recorded -> (new Secret, the only one the resource lists) added -> (reconciled, handed over) stored -> verified, journal deleted. */
export async function runManagedUserReset(ctx: ProcedureContext, admin: Credentials, delivery: Delivery): Promise<void> {
  const r = () => ctx.record;
  const { resource, newSecret } = managed(r());
  if (r().phase === 'recorded') {
    await ensurePasswordSecret(ctx);
    await ctx.progress.step(
      `make Secret ${newSecret} the only one in spec.passwordSecrets of RedisEnterpriseUser ${resource}`,
      () => setPasswordSecrets(ctx, () => [newSecret]),
      (x) => (x === 'already' ? 'already the only one' : undefined),
    );
    await advance(ctx, { phase: 'added' });
  }
  if (r().phase === 'added' || r().phase === 'stored') {
    if (r().phase === 'added') await awaitReconciled(ctx, 'only-new');
    await handOver(ctx, delivery);
    if (r().phase === 'added') await advance(ctx, { phase: 'stored', storeUpdatedAt: new Date().toISOString() });
  }
  await verify(ctx, admin);
  await ctx.progress.step('delete the journal', () => ctx.journal.delete());
}

// ---- the steps ----

/**
 * manage-users, "Rotatable mode" step 1: "Create a new Secret with the next password." Its name and the
 * password are in the journal already; a Secret of that name holding them is this run's (a resumed run).
 */
async function ensurePasswordSecret(ctx: ProcedureContext): Promise<void> {
  const { cluster } = ctx.target;
  const { resource, newSecret } = managed(ctx.record);
  const holdsOurs = async () => {
    const s = await cluster.getSecret(newSecret);
    if (!s) return false;
    if (decodeSecretKey(s, 'password') === ctx.record.newPassword) return true;
    throw failed(`Secret ${newSecret} exists but does not hold the password this operation recorded; someone else wrote it`, 'inspect it; the journal keeps the password');
  };
  await ctx.progress.step(
    `create Secret ${newSecret} (key "password", immutable)`,
    async () => {
      if (await holdsOurs()) return 'already';
      await ctx.journal.fence();
      try {
        // Labelled as this plugin's, and for which resource; label values stop at 63 characters.
        await createPasswordSecret(cluster, newSecret, ctx.record.newPassword, {
          'app.kubernetes.io/managed-by': 'kubectl-reccred',
          ...(resource.length <= 63 ? { 'reccred.redis.io/redisenterpriseuser': resource } : {}),
        });
        return 'created';
      } catch (err) {
        // A create whose reply was lost: the Secret is there, and it must be ours.
        if (err instanceof KubeApiError && err.status === 409 && (await holdsOurs())) return 'already';
        throw err;
      }
    },
    (x) => (x === 'already' ? 'already created' : undefined),
  );
}

/**
 * Sets spec.passwordSecrets to `next(current)` with a resourceVersion precondition (re-read and decided
 * again on a conflict). `next` returns undefined when the resource no longer allows the change; then
 * nothing of this operation is in the resource yet, so the Secret it created and the journal are removed
 * and the run fails with nothing changed.
 */
async function setPasswordSecrets(ctx: ProcedureContext, next: (names: string[]) => string[] | undefined): Promise<'set' | 'already'> {
  const { cluster, namespace } = ctx.target;
  const { resource, newSecret } = managed(ctx.record);
  const describe = `kubectl describe ${kubectlRef(resource, namespace)}`;
  for (let attempt = 0; attempt < 3; attempt++) {
    const r = await getRedisEnterpriseUser(cluster, resource);
    if (!r) return abandonOrStop(ctx, `RedisEnterpriseUser ${resource} no longer exists`, describe);
    const names = passwordSecretsOf(r);
    const want = next(names);
    if (want?.length === names.length && want.every((n, i) => names[i] === n)) return 'already';
    if (ctx.record.phase === 'recorded' && (!want || passwordModeOf(r) !== 'Rotatable')) {
      return abandonOrStop(
        ctx,
        `RedisEnterpriseUser ${resource} changed while this run prepared the rotation (passwordMode ${passwordModeOf(r)}, passwordSecrets ${names.join(', ') || 'none'})`,
        describe,
      );
    }
    if (!want) throw resumable(`RedisEnterpriseUser ${resource} no longer allows this change (passwordSecrets ${names.join(', ')})`, describe);
    if (!names.includes(newSecret) && ctx.record.phase !== 'recorded') {
      throw resumable(
        `RedisEnterpriseUser ${resource} no longer lists Secret ${newSecret}, which this operation added: someone changed spec.passwordSecrets (now ${names.join(', ') || 'none'}). Nothing was removed`,
        `inspect it (${describe}); the journal keeps the new password`,
      );
    }
    await ctx.journal.fence();
    try {
      await patchPasswordSecrets(cluster, resource, want, r.metadata.resourceVersion ?? '');
      return 'set';
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 409)) throw err;
    }
  }
  throw resumable(`RedisEnterpriseUser ${resource} kept changing while this run tried to update it`, 'run the same command again');
}

/** Before the resource names the new Secret nothing has changed for the user: the Secret and the journal go, exit 1. */
async function abandonOrStop(ctx: ProcedureContext, why: string, hint: string): Promise<never> {
  const { newSecret } = managed(ctx.record);
  if (ctx.record.phase !== 'recorded') throw resumable(`${why}; the journal keeps the new password`, hint);
  await ctx.journal.fence();
  await ctx.target.cluster.deleteSecret(newSecret);
  await ctx.journal.delete();
  throw failed(`${why}. Nothing was changed for ${ctx.record.username}: the Secret ${newSecret} this run had created and its journal were deleted again`, hint);
}

/**
 * Until the resource's status shows the operator acted on the current spec: status.observedGeneration
 * reaches metadata.generation ("Compare with metadata.generation to confirm reconciliation has caught
 * up", manage-users, "Inspect user status") and status.passwordSecrets lists the new Secret (both: beside
 * the old one; only-new: alone). Bounded, resumable; a locked user stops it at once.
 */
async function awaitReconciled(ctx: ProcedureContext, want: 'both' | 'only-new'): Promise<void> {
  const { cluster, namespace } = ctx.target;
  const { resource, newSecret } = managed(ctx.record);
  const describe = `kubectl describe ${kubectlRef(resource, namespace)}`;
  const again = `run "kubectl reccred user ${ctx.record.operation === 'user-reset' ? 'reset' : want === 'both' ? 'rotate' : 'finish'} ${ctx.target.name} -n ${namespace} --user ${ctx.record.username}" again`;
  await ctx.progress.step(`the operator applied it (RedisEnterpriseUser ${resource} status.passwordSecrets${want === 'both' ? ' lists' : ' is only'} ${newSecret})`, async () => {
    const started = Date.now();
    for (;;) {
      ctx.stillHeld();
      const r = await getRedisEnterpriseUser(cluster, resource);
      if (!r) throw resumable(`RedisEnterpriseUser ${resource} no longer exists; the journal keeps the new password`, describe);
      const spec = passwordSecretsOf(r);
      if (!spec.includes(newSecret)) {
        throw resumable(`RedisEnterpriseUser ${resource} no longer lists Secret ${newSecret}: someone changed spec.passwordSecrets (now ${spec.join(', ') || 'none'})`, describe);
      }
      const status = r.status ?? {};
      const listed = (status.passwordSecrets ?? []).map((s) => s.name ?? '');
      const caughtUp = status.observedGeneration !== undefined && status.observedGeneration >= (r.metadata.generation ?? 0);
      const shown = want === 'both' ? listed.includes(newSecret) : listed.length === 1 && listed[0] === newSecret;
      if (caughtUp && shown) return;
      if (status.signinStatus === 'Locked') {
        throw resumable(
          `${ctx.record.username} is locked (status.signinStatus Locked): the operator skips password changes while it is. The resource already lists the new Secret, the first step of the documented recovery (${DOC}, "Recover a locked user")`,
          `follow the Redis Software unlock procedure (content/operate/rs/security/access-control/manage-users/login-lockout.md), then ${again}`,
        );
      }
      const elapsed = Date.now() - started;
      if (elapsed >= RECONCILE_TIMEOUT_MS) {
        throw resumable(
          `the operator has not shown the change in RedisEnterpriseUser ${resource} after ${Math.round(elapsed / 1000)}s (observedGeneration ${String(status.observedGeneration)} of generation ${String(r.metadata.generation)}, status.passwordSecrets ${listed.join(', ') || 'none'}); nothing was tried against the cluster`,
          `check its events (PasswordSecretInvalid, RSOperationFailed, UserLocked): ${describe}; then ${again}`,
        );
      }
      ctx.progress.waiting(
        `waiting for the operator: observedGeneration ${String(status.observedGeneration)}/${String(r.metadata.generation)}, status.passwordSecrets ${listed.join(', ') || 'none'}`,
      );
      await sleep(ctx.pollMs, ctx.signal);
    }
  });
}

/**
 * One login with the new password (never retried). A 403 is the user's role (the operator's users have
 * `none` until a binding gives them more: manage-users) unless the user's record, read as the admin,
 * says locked or expired (some clusters may answer those with 403 too; undocumented).
 */
async function verify(ctx: ProcedureContext, admin: Credentials): Promise<void> {
  const { resource } = managed(ctx.record);
  const check = `check the user (events of: kubectl describe ${kubectlRef(resource, ctx.target.namespace)}; the admin console, Access control > Users), then run the same command again`;
  await ctx.progress.step(
    'the new password authenticates',
    async () => {
      let answer: 'accepted' | 'forbidden';
      try {
        answer = await ctx.target.rest.probeCredentials(newCreds(ctx.record));
      } catch (err) {
        if (!(err instanceof AuthenticationFailedError)) throw err;
        throw resumable(
          `the operator shows the new Secret applied, yet the cluster refused the new password of ${ctx.record.username} once; nothing more was tried (no login is ever retried)`,
          check,
        );
      }
      if (answer === 'accepted') return 'accepted';
      const record = (await ctx.target.rest.users(admin)).find((u) => u.uid === ctx.record.userUid);
      if (record?.status === 'locked' || record?.status === 'password_expired') {
        throw resumable(`the new password of ${ctx.record.username} was answered 403 and the user is ${record.status}; nothing more was tried`, check);
      }
      return 'forbidden';
    },
    (x) => (x === 'forbidden' ? "accepted: 403, outside the user's role" : undefined),
  );
}

/** Hands the new password over before the journal moves on; a resumed run hands it over again. */
async function handOver(ctx: ProcedureContext, delivery: Delivery): Promise<void> {
  await ctx.progress.step(
    delivery.kind === 'secret' ? `write ${delivery.target.location}` : 'hand the new password over (stdout)',
    () => deliver(ctx, delivery),
    (x) => (x === 'already' ? 'already written' : undefined),
  );
}
