// One Redis Enterprise cluster's user database: what the REST API and the operator authenticate against.
// Multiple passwords per user, lockout and the complexity profile behave as documented (SPEC section 6);
// where the documentation is silent, an option below has one setting per plausible behaviour.
import { randomUUID } from 'node:crypto';

export type UserStatus = 'active' | 'locked' | 'password_expired';

/** The management roles (content/operate/rs/references/rest-api/permissions.md, "Roles"). */
export const MANAGEMENT_ROLES = ['none', 'db_viewer', 'db_member', 'cluster_viewer', 'cluster_member', 'user_manager', 'admin'] as const;
export type ManagementRole = (typeof MANAGEMENT_ROLES)[number];

export interface User {
  uid: number;
  name: string;
  email: string;
  role: string;
  role_uids: number[];
  auth_method: 'regular';
  status: UserStatus;
  password_issue_date: string;
  passwords: string[];
}

export interface Role {
  uid: number;
  name: string;
  management: string;
}

/**
 * The cluster's lockout settings (content/operate/rs/references/rest-api/objects/cluster_settings.md;
 * defaults from content/operate/rs/security/access-control/manage-users/login-lockout.md).
 */
export interface LockoutPolicy {
  /** login_lockout_threshold: failed logins that lock the account; 0 turns lockout off. Default 5. */
  threshold: number;
  /** login_lockout_duration: how long the account stays locked; 0 keeps it locked until an admin sets its password. Default 1800. */
  durationSeconds: number;
  /** login_lockout_counter_reset_after: seconds without a failure after which the counter is back at 0. Default 900. */
  counterResetAfterSeconds: number;
}

export interface ClusterStateOptions {
  name: string;
  /**
   * The Redis Software version every node runs (GET /v1/nodes software_version, node.md; the pods'
   * image tag). It decides the /v1/users/password bodies (7.4 password.md, rs-7-8-2-34.md, RS161290,
   * rs-8-2-0-25.md). Default '7.22.0-28'.
   */
  softwareVersion?: string;
  /** Per node (in pod order), for a cluster in the middle of an upgrade; missing entries run softwareVersion. */
  nodeSoftwareVersions?: string[];
  handleRedirects?: boolean;
  /** false: no RBAC roles; /v1/roles answers 404 (or an empty list with rolesEmpty). */
  rbac?: boolean;
  rolesEmpty?: boolean;
  passwordComplexity?: boolean;
  passwordMinLength?: number;
  lockout?: Partial<LockoutPolicy>;
  /** A fake clock for lockout and deletion times; Date.now by default. */
  now?: () => number;
  /**
   * How a login (email or name) is matched to a user. The documentation is silent on case
   * (redis/docs content/operate/rs/references/rest-api/objects/user.md: "User's email (pattern matching
   * only ASCII characters)"; nothing in rest-api/ or security/access-control/), so both are simulated.
   * Default 'exact'.
   */
  loginMatch?: 'exact' | 'case-insensitive';
  /**
   * Whether a user of role `none` may use /v1/users/password (and PUT /v1/users/{uid}) on itself. Silent:
   * permissions.md gives `none` "No REST API permissions" and create-cluster-roles.md says it "cannot
   * ... use the REST API", while rotate-passwords.md and users/_index.md let "any user" change its own
   * password. Default 'forbidden' (403).
   */
  noneSelfPasswords?: 'allowed' | 'forbidden';
  /**
   * DELETE /v1/users/password of a password the user does not have. Silent (password.md lists no code
   * for it, nor the order of the checks): 'unfamiliar-400' a 400 with a code no client knows;
   * 'last-password-first' cannot_delete_last_password is checked before membership (then that 400);
   * 'not-found-404' a 404 with an error object whose code is not user_not_exist. Default 'unfamiliar-400'.
   */
  unknownPasswordDelete?: 'unfamiliar-400' | 'last-password-first' | 'not-found-404';
  /**
   * How GET /v1/cluster/policy shows a disabled threshold and an admin-release duration. Silent
   * (rladmin shows `disabled` / `admin-release`, login-lockout.md; cluster_settings.md types them as
   * integers): 'zero' or 'word'. Default 'zero'.
   */
  policyDisabledAs?: 'zero' | 'word';
  /** What a locked (or password_expired) account gets. Silent: '401', or '403' with an error object. Default '401'. */
  lockedReply?: '401' | '403';
  /**
   * Versions 8.2 and later with a POST/PUT /v1/users/password body carrying old_password ("deprecated and
   * ignored", rs-8-2-0-25.md; "will be removed", openapi.json) or an unknown field. Silent: 'ignored',
   * or 'rejected' (400). Default 'ignored'.
   */
  removedFields?: 'ignored' | 'rejected';
  /**
   * DELETE /v1/users/{uid} answers 200 with an action_uid (openapi.json); how long the deletion takes is
   * silent: the user stays visible, and still authenticates, this many ms. Default 0.
   */
  userDeleteMs?: number;
  /**
   * The error object: 'openapi' {error_code, description, status_code} (openapi.json cluster_Error) or
   * 'markdown' {error_code, message} (users/password.md, users/_index.md). Default 'openapi'.
   */
  errorBody?: 'openapi' | 'markdown';
}

/** A REST-level error: status plus the documented `error_code`. */
export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

/** Why a login was refused: wrong password or unknown user, or an account that cannot sign in ('locked' also for password_expired). */
export type AuthResult = { ok: true; user: User } | { ok: false; reason: 'failed' | 'locked' | 'none' };

/** A DELETE /v1/users/{uid} in progress or done (content/operate/rs/references/rest-api/requests/actions/_index.md). */
export interface Action {
  action_uid: string;
  name: string;
  progress: number;
  status: 'pending' | 'active' | 'completed' | 'failed';
}

/** "X.Y.Z-B" as numbers, for comparisons; anything after the build (".minimal") is ignored. */
export function versionParts(version: string): number[] {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:-(\d+))?/.exec(version);
  if (!m) throw new Error(`not a Redis Software version: ${version}`);
  return [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0)];
}

export function compareVersions(a: string, b: string): number {
  const x = versionParts(a);
  const y = versionParts(b);
  for (let i = 0; i < 4; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

const DEFAULT_ROLES: Role[] = [
  { uid: 1, name: 'Admin', management: 'admin' },
  { uid: 2, name: 'Cluster Member', management: 'cluster_member' },
  { uid: 3, name: 'Cluster Viewer', management: 'cluster_viewer' },
  { uid: 4, name: 'DB Member', management: 'db_member' },
  { uid: 5, name: 'DB Viewer', management: 'db_viewer' },
  { uid: 6, name: 'User Manager', management: 'user_manager' },
];

const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

export class ClusterState {
  readonly name: string;
  softwareVersion: string;
  nodeSoftwareVersions: string[];
  handleRedirects: boolean;
  rbac: boolean;
  rolesEmpty: boolean;
  passwordComplexity: boolean;
  passwordMinLength: number;
  lockout: LockoutPolicy;
  now: () => number;
  loginMatch: 'exact' | 'case-insensitive';
  noneSelfPasswords: 'allowed' | 'forbidden';
  unknownPasswordDelete: 'unfamiliar-400' | 'last-password-first' | 'not-found-404';
  policyDisabledAs: 'zero' | 'word';
  lockedReply: '401' | '403';
  removedFields: 'ignored' | 'rejected';
  userDeleteMs: number;
  errorBody: 'openapi' | 'markdown';
  /** The pod whose REST API serves; the others redirect to it. */
  masterPod = '';
  readonly roles: Role[] = DEFAULT_ROLES.map((r) => ({ ...r }));
  /**
   * The Active-Active databases (CRDB objects, objects/crdb/_index.md) this cluster takes part in, as GET /v1/crdbs
   * lists them: those of REAADBs (status.guid) and those created with crdb-cli, which no REAADB names.
   */
  readonly crdbs: { guid: string; name: string; instances: { id: number; cluster: { name: string; url: string; credentials?: { username: string; password: string } } }[] }[] = [];
  private readonly users = new Map<number, User>();
  /** Failed logins counted towards the lockout, and the time of the last one. */
  private readonly failureCounts = new Map<number, { count: number; last: number }>();
  private readonly lockedUntil = new Map<number, number>();
  private readonly actions = new Map<string, { name: string; started: number; doneAt: number; uid: number }>();
  /** Users whose deletion is in progress: uid -> action_uid. */
  private readonly deleting = new Map<number, string>();
  private nextUid = 1;
  /** Every failed authentication, for tests (by user email, '' for unknown users). */
  private readonly failedAuths: { time: number; email: string }[] = [];

  constructor(options: ClusterStateOptions) {
    this.name = options.name;
    this.softwareVersion = options.softwareVersion ?? '7.22.0-28';
    versionParts(this.softwareVersion);
    this.nodeSoftwareVersions = [...(options.nodeSoftwareVersions ?? [])];
    this.handleRedirects = options.handleRedirects ?? false;
    this.rbac = options.rbac ?? true;
    this.rolesEmpty = options.rolesEmpty ?? false;
    this.passwordComplexity = options.passwordComplexity ?? false;
    this.passwordMinLength = options.passwordMinLength ?? 8;
    // login-lockout.md: "after 5 failed login attempts within 15 minutes, the user account is locked for 30 minutes".
    this.lockout = { threshold: 5, durationSeconds: 1800, counterResetAfterSeconds: 900, ...options.lockout };
    this.now = options.now ?? Date.now;
    this.loginMatch = options.loginMatch ?? 'exact';
    this.noneSelfPasswords = options.noneSelfPasswords ?? 'forbidden';
    this.unknownPasswordDelete = options.unknownPasswordDelete ?? 'unfamiliar-400';
    this.policyDisabledAs = options.policyDisabledAs ?? 'zero';
    this.lockedReply = options.lockedReply ?? '401';
    this.removedFields = options.removedFields ?? 'ignored';
    this.userDeleteMs = options.userDeleteMs ?? 0;
    this.errorBody = options.errorBody ?? 'openapi';
  }

  /** The version node `index` (pod order) runs. */
  nodeVersion(index: number): string {
    return this.nodeSoftwareVersions[index] ?? this.softwareVersion;
  }

  /** Whether the cluster runs at least this version (the oldest node decides, as a mixed cluster does). */
  atLeast(version: string): boolean {
    return compareVersions(this.softwareVersion, version) >= 0;
  }

  // ---- users ----

  /** Creates a user; the REST API's POST /v1/users and the sim's bootstrap both come here. */
  createUser(input: { email: string; password: string; name?: string; role?: string; role_uids?: number[] }): User {
    if (!input.email || typeof input.email !== 'string') throw new RestError(400, 'invalid_schema', 'email is required');
    if (!input.password || typeof input.password !== 'string') throw new RestError(400, 'invalid_schema', 'password is required');
    if (!input.role && !(input.role_uids && input.role_uids.length)) throw new RestError(400, 'invalid_schema', 'role or role_uids is required');
    for (const u of this.users.values()) {
      if (this.sameLogin(u.email, input.email)) throw new RestError(409, 'email_already_exists', 'The given email is already taken');
      if (input.name && u.name === input.name) throw new RestError(409, 'name_already_exists', 'The given name is already taken');
    }
    if (input.role && !(MANAGEMENT_ROLES as readonly string[]).includes(input.role)) throw new RestError(400, 'invalid_role', `role ${input.role} does not exist`);
    let role = input.role ?? '';
    const roleUids = input.role_uids ?? [];
    for (const uid of roleUids) {
      const r = this.roles.find((x) => x.uid === uid);
      if (!this.rbac || !r) throw new RestError(400, 'invalid_role', `role uid ${uid} does not exist`);
      role ||= r.management;
    }
    this.checkComplexity(input.password, input.email);
    const user: User = {
      uid: this.nextUid++,
      name: input.name ?? input.email,
      email: input.email,
      role,
      role_uids: roleUids,
      auth_method: 'regular',
      status: 'active',
      password_issue_date: isoSeconds(this.now()),
      passwords: [input.password],
    };
    this.users.set(user.uid, user);
    return structuredClone(user);
  }

  listUsers(): User[] {
    this.tick();
    return [...this.users.values()].map((u) => structuredClone(u));
  }

  getUser(uid: number): User | undefined {
    this.tick();
    const u = this.users.get(uid);
    return u && structuredClone(u);
  }

  findUser(login: string): User | undefined {
    this.tick();
    const u = this.lookup(login);
    return u && structuredClone(u);
  }

  /**
   * The REST representation: never the passwords. "For RBAC-enabled clusters, the returned user details
   * include role_uids instead of role" (content/operate/rs/references/rest-api/requests/users/_index.md):
   * a user given RBAC roles is shown by them alone.
   */
  view(u: User): Record<string, unknown> {
    const { passwords: _omit, role, ...rest } = u;
    return this.rbac && u.role_uids.length > 0 ? rest : { ...rest, role };
  }

  /** The user's management roles, from `role` and from the roles its role_uids name (objects/user.md). */
  managementRoles(u: User): ManagementRole[] {
    const names = [u.role, ...u.role_uids.map((uid) => this.roles.find((r) => r.uid === uid)?.management ?? '')];
    const known = names.filter((n): n is ManagementRole => (MANAGEMENT_ROLES as readonly string[]).includes(n));
    return known.length ? [...new Set(known)] : ['none'];
  }

  updateUser(uid: number, patch: Record<string, unknown>): User {
    const u = this.mustUser(uid);
    if (typeof patch.email === 'string' && patch.email !== u.email) {
      if ([...this.users.values()].some((x) => x.uid !== u.uid && this.sameLogin(x.email, patch.email as string)))
        throw new RestError(400, 'email_already_exists', 'The given email is already taken');
      u.email = patch.email;
    }
    if (typeof patch.name === 'string') u.name = patch.name;
    if (typeof patch.role === 'string') u.role = patch.role;
    if (Array.isArray(patch.role_uids)) u.role_uids = patch.role_uids.filter((x): x is number => typeof x === 'number');
    if (typeof patch.password === 'string') {
      // PUT /v1/users/{uid} with a password replaces the password list, like the admin console does.
      if (u.passwords.includes(patch.password)) throw new RestError(400, 'new_password_same_as_current', 'The given new password is identical to the old password');
      this.checkComplexity(patch.password, u.email);
      u.passwords = [patch.password];
      u.password_issue_date = isoSeconds(this.now());
      // login-lockout.md: an admin unlocks an account by setting its password ("PUT /v1/users" {"password"}),
      // the only way out where login_lockout_duration is 0; a new password also ends password_expired.
      this.release(u);
    }
    return structuredClone(u);
  }

  /**
   * DELETE /v1/users/{uid}: 200 with an action_uid (openapi.json). The deletion takes userDeleteMs
   * (silent): meanwhile the user is listed and authenticates, and GET /v1/actions/{uid} follows it.
   */
  deleteUser(uid: number): { action_uid: string } {
    const u = this.mustUser(uid);
    const inFlight = this.deleting.get(uid);
    if (inFlight) return { action_uid: inFlight };
    const admins = [...this.users.values()].filter((x) => !this.deleting.has(x.uid) && this.managementRoles(x).includes('admin'));
    if (this.managementRoles(u).includes('admin') && admins.length === 1)
      throw new RestError(406, 'change_last_admin_role_not_allowed', 'At least one user with admin role should exist');
    const actionUid = randomUUID();
    const now = this.now();
    this.actions.set(actionUid, { name: 'delete_user', started: now, doneAt: now + this.userDeleteMs, uid });
    this.deleting.set(uid, actionUid);
    this.tick();
    return { action_uid: actionUid };
  }

  /** GET /v1/actions/{uid}: "pending" / "active" / "completed" (requests/actions/_index.md). */
  action(actionUid: string): Action | undefined {
    this.tick();
    const a = this.actions.get(actionUid);
    if (!a) return undefined;
    const now = this.now();
    const span = Math.max(1, a.doneAt - a.started);
    const progress = Math.min(100, Math.round(((now - a.started) / span) * 100));
    const status = now >= a.doneAt ? 'completed' : now - a.started < span / 4 ? 'pending' : 'active';
    return { action_uid: actionUid, name: a.name, progress: status === 'completed' ? 100 : progress, status };
  }

  // ---- passwords (/v1/users/password) ----

  addPassword(uid: number, password: string): void {
    const u = this.mustUser(uid);
    this.requireString(password, 'new_password');
    if (u.passwords.includes(password)) throw new RestError(400, 'new_password_same_as_current', 'The given new password is identical to one of the already existing passwords');
    this.checkComplexity(password, u.email);
    u.passwords.push(password);
    u.password_issue_date = isoSeconds(this.now());
  }

  replacePasswords(uid: number, password: string): void {
    const u = this.mustUser(uid);
    this.requireString(password, 'new_password');
    if (u.passwords.includes(password)) throw new RestError(400, 'new_password_same_as_current', 'The given new password is identical to one of the already existing passwords');
    this.checkComplexity(password, u.email);
    u.passwords = [password];
    u.password_issue_date = isoSeconds(this.now());
  }

  deletePassword(uid: number, password: string): void {
    const u = this.mustUser(uid);
    this.requireString(password, 'old_password');
    // password.md documents cannot_delete_last_password; a password the user does not have, and which
    // check comes first, are silent: the unknownPasswordDelete switch.
    const last = () => {
      if (u.passwords.length === 1) throw new RestError(400, 'cannot_delete_last_password', 'Cannot delete the last password of a user');
    };
    if (this.unknownPasswordDelete === 'last-password-first') last();
    if (!u.passwords.includes(password)) {
      if (this.unknownPasswordDelete === 'not-found-404') throw new RestError(404, 'not_found', 'The given password was not found');
      // A code no client knows, on purpose: the plugin must decide from state, not from this code.
      throw new RestError(400, 'sim_unfamiliar_code', 'The request could not be completed');
    }
    last();
    u.passwords = u.passwords.filter((p) => p !== password);
  }

  // ---- authentication ----

  /** A login attempt as any client makes it: failures count toward lockout. */
  authenticate(login: string, password: string): AuthResult {
    this.tick();
    const u = this.lookup(login);
    if (!u) {
      this.failedAuths.push({ time: this.now(), email: '' });
      return { ok: false, reason: 'failed' };
    }
    // objects/user.md: locked and password_expired are both "unable to sign in".
    if (u.status !== 'active') {
      this.failedAuths.push({ time: this.now(), email: u.email });
      return { ok: false, reason: 'locked' };
    }
    // A success does not reset the counter: cluster_settings.md resets it only after
    // login_lockout_counter_reset_after seconds without a failure, so a component still on a deleted
    // password locks the account even while others log in fine.
    if (u.passwords.includes(password)) return { ok: true, user: structuredClone(u) };
    const now = this.now();
    this.failedAuths.push({ time: now, email: u.email });
    // cluster_settings.md: "Number of seconds that must elapse between failed sign in attempts before the
    // lockout counter is reset to 0" (rladmin/tune.md alike): not a sliding window.
    const previous = this.failureCounts.get(u.uid);
    const count = previous && now - previous.last < this.lockout.counterResetAfterSeconds * 1000 ? previous.count + 1 : 1;
    this.failureCounts.set(u.uid, { count, last: now });
    // cluster_settings.md / rladmin tune.md: threshold 0 never locks; duration 0 locks until an admin releases it.
    if (this.lockout.threshold > 0 && count >= this.lockout.threshold) {
      u.status = 'locked';
      this.lockedUntil.set(u.uid, this.lockout.durationSeconds > 0 ? now + this.lockout.durationSeconds * 1000 : Infinity);
    }
    return { ok: false, reason: 'failed' };
  }

  /** Test-facing: would this password be accepted? Counts nothing, ignores the lock. */
  accepts(login: string, password: string): boolean {
    this.tick();
    const u = this.lookup(login);
    return !!u && u.passwords.includes(password);
  }

  /** Test-facing: failed authentications so far (for one login, or all). */
  failedAuthCount(login?: string): number {
    if (login === undefined) return this.failedAuths.length;
    const u = this.lookup(login);
    return this.failedAuths.filter((f) => f.email === (u?.email ?? login)).length;
  }

  /** Test-facing: locks the account as the lockout policy would (until unlocked). */
  lock(login: string): void {
    const u = this.lookup(login);
    if (!u) return;
    u.status = 'locked';
    this.lockedUntil.set(u.uid, Infinity);
  }

  /** Test-facing: the password expired (objects/user.md status password_expired) until an admin sets a new one. */
  expirePassword(login: string): void {
    const u = this.lookup(login);
    if (u) u.status = 'password_expired';
  }

  /** Test-facing: puts the user's passwords into a given state (as if a request had or had not applied). */
  setPasswords(login: string, passwords: string[]): void {
    const u = this.lookup(login);
    if (u) u.passwords = [...passwords];
  }

  unlock(login: string): void {
    const u = this.lookup(login);
    if (u) this.release(u);
  }

  // ---- roles ----

  /** The /v1/roles list, or undefined when the cluster has no RBAC roles (404). */
  listRoles(): Role[] | undefined {
    if (!this.rbac) return undefined;
    return this.rolesEmpty ? [] : this.roles.map((r) => ({ ...r }));
  }

  // ---- helpers ----

  private lookup(login: string): User | undefined {
    for (const u of this.users.values()) if (this.sameLogin(u.email, login)) return u;
    for (const u of this.users.values()) if (this.sameLogin(u.name, login)) return u;
    return undefined;
  }

  private sameLogin(a: string, b: string): boolean {
    return this.loginMatch === 'case-insensitive' ? a.toLowerCase() === b.toLowerCase() : a === b;
  }

  private mustUser(uid: number): User {
    this.tick();
    const u = this.users.get(uid);
    if (!u) throw new RestError(404, 'user_not_exist', `User ${uid} does not exist`);
    return u;
  }

  private requireString(v: unknown, field: string): asserts v is string {
    if (typeof v !== 'string' || v === '') throw new RestError(400, 'invalid_schema', `${field} is required`);
  }

  private release(u: User): void {
    u.status = 'active';
    this.lockedUntil.delete(u.uid);
    this.failureCounts.delete(u.uid);
  }

  /** The clock's effects: locks that ran out, deletions that completed. */
  private tick(): void {
    const now = this.now();
    for (const [uid, until] of this.lockedUntil) {
      const u = this.users.get(uid);
      if (now >= until && u) this.release(u);
      else if (!u) this.lockedUntil.delete(uid);
    }
    for (const [uid, actionUid] of this.deleting) {
      const a = this.actions.get(actionUid);
      if (a && now < a.doneAt) continue;
      this.deleting.delete(uid);
      this.users.delete(uid);
      this.failureCounts.delete(uid);
      this.lockedUntil.delete(uid);
    }
  }

  /** The documented complexity profile, when enabled. */
  checkComplexity(password: string, email: string): void {
    if (!this.passwordComplexity) return;
    const reasons: string[] = [];
    if (password.length < this.passwordMinLength) reasons.push(`shorter than ${this.passwordMinLength} characters`);
    if (!/[A-Z]/.test(password)) reasons.push('no uppercase letter');
    if (!/[a-z]/.test(password)) reasons.push('no lowercase letter');
    if (!/[0-9]/.test(password)) reasons.push('no digit');
    if (!/[^A-Za-z0-9]/.test(password)) reasons.push('no special character');
    const lower = password.toLowerCase();
    const mail = email.toLowerCase();
    if (mail && (lower.includes(mail) || lower.includes([...mail].reverse().join('')))) reasons.push('contains the email or its reverse');
    if (/(.)\1\1\1/.test(password)) reasons.push('more than 3 repeating characters');
    if (reasons.length) throw new RestError(400, 'password_not_complex', `The given password is not complex enough: ${reasons.join(', ')}`);
  }
}
