// One Redis Enterprise cluster's user database: what the REST API and the operator authenticate against.
// Multiple passwords per user, lockout and the complexity profile behave as documented (SPEC section 6).

export type ApiVersion = 'pre-7.8.2' | '7.8.2+';
export type UserStatus = 'active' | 'locked' | 'password_expired';

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

export interface LockoutPolicy {
  /** Failed logins that lock the account (0 disables lockout). */
  threshold: number;
  /** Window in which the failures are counted. */
  windowMs: number;
  /** How long a locked account stays locked (0: until unlocked by an admin). */
  durationMs: number;
}

export interface ClusterStateOptions {
  name: string;
  apiVersion?: ApiVersion;
  handleRedirects?: boolean;
  /** false: no RBAC roles; /v1/roles answers 404 (or an empty list with rolesEmpty). */
  rbac?: boolean;
  rolesEmpty?: boolean;
  passwordComplexity?: boolean;
  passwordMinLength?: number;
  lockout?: Partial<LockoutPolicy>;
  /** A fake clock for lockout windows; Date.now by default. */
  now?: () => number;
  /**
   * How a login (email or name) is matched to a user. The documentation is silent on case
   * (redis/docs content/operate/rs/references/rest-api/objects/user.md: "User's email (pattern matching
   * only ASCII characters)"; nothing in rest-api/ or security/access-control/), so both are simulated.
   * Default 'exact'.
   */
  loginMatch?: 'exact' | 'case-insensitive';
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

export type AuthResult = { ok: true; user: User } | { ok: false; reason: 'failed' | 'locked' | 'none' };

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
  apiVersion: ApiVersion;
  handleRedirects: boolean;
  rbac: boolean;
  rolesEmpty: boolean;
  passwordComplexity: boolean;
  passwordMinLength: number;
  lockout: LockoutPolicy;
  now: () => number;
  loginMatch: 'exact' | 'case-insensitive';
  /** The pod whose REST API serves; the others redirect to it. */
  masterPod = '';
  readonly roles: Role[] = DEFAULT_ROLES.map((r) => ({ ...r }));
  private readonly users = new Map<number, User>();
  private readonly failureTimes = new Map<number, number[]>();
  private readonly lockedUntil = new Map<number, number>();
  private nextUid = 1;
  /** Every failed authentication, for tests (by user email, '' for unknown users). */
  private readonly failedAuths: { time: number; email: string }[] = [];

  constructor(options: ClusterStateOptions) {
    this.name = options.name;
    this.apiVersion = options.apiVersion ?? '7.8.2+';
    this.handleRedirects = options.handleRedirects ?? false;
    this.rbac = options.rbac ?? true;
    this.rolesEmpty = options.rolesEmpty ?? false;
    this.passwordComplexity = options.passwordComplexity ?? false;
    this.passwordMinLength = options.passwordMinLength ?? 8;
    this.lockout = { threshold: 5, windowMs: 900_000, durationMs: 1_800_000, ...options.lockout };
    this.now = options.now ?? Date.now;
    this.loginMatch = options.loginMatch ?? 'exact';
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
    this.expireLocks();
    return [...this.users.values()].map((u) => structuredClone(u));
  }

  getUser(uid: number): User | undefined {
    this.expireLocks();
    const u = this.users.get(uid);
    return u && structuredClone(u);
  }

  findUser(login: string): User | undefined {
    this.expireLocks();
    const u = this.lookup(login);
    return u && structuredClone(u);
  }

  /** The REST representation: never the passwords. */
  static view(u: User): Record<string, unknown> {
    const { passwords: _omit, ...rest } = u;
    return rest;
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
    }
    return structuredClone(u);
  }

  deleteUser(uid: number): void {
    const u = this.mustUser(uid);
    const admins = [...this.users.values()].filter((x) => x.role === 'admin');
    if (u.role === 'admin' && admins.length === 1) throw new RestError(406, 'change_last_admin_role_not_allowed', 'At least one user with admin role should exist');
    this.users.delete(uid);
    this.failureTimes.delete(uid);
    this.lockedUntil.delete(uid);
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
    if (!u.passwords.includes(password)) throw new RestError(400, 'password_not_found', 'The given old password is not one of the user passwords');
    if (u.passwords.length === 1) throw new RestError(400, 'cannot_delete_last_password', 'Cannot delete the last password of a user');
    u.passwords = u.passwords.filter((p) => p !== password);
  }

  // ---- authentication ----

  /** A login attempt as any client makes it: failures count toward lockout. */
  authenticate(login: string, password: string): AuthResult {
    this.expireLocks();
    const u = this.lookup(login);
    if (!u) {
      this.failedAuths.push({ time: this.now(), email: '' });
      return { ok: false, reason: 'failed' };
    }
    if (u.status === 'locked') {
      this.failedAuths.push({ time: this.now(), email: u.email });
      return { ok: false, reason: 'locked' };
    }
    // A success does not clear earlier failures: the policy counts failures within the window, so a
    // component still on a deleted password locks the account even while others log in fine.
    if (u.passwords.includes(password)) return { ok: true, user: structuredClone(u) };
    const now = this.now();
    this.failedAuths.push({ time: now, email: u.email });
    const recent = (this.failureTimes.get(u.uid) ?? []).filter((t) => now - t < this.lockout.windowMs);
    recent.push(now);
    this.failureTimes.set(u.uid, recent);
    if (this.lockout.threshold > 0 && recent.length >= this.lockout.threshold) {
      u.status = 'locked';
      this.lockedUntil.set(u.uid, this.lockout.durationMs > 0 ? now + this.lockout.durationMs : Infinity);
    }
    return { ok: false, reason: 'failed' };
  }

  /** Test-facing: would this password be accepted? Counts nothing, ignores the lock. */
  accepts(login: string, password: string): boolean {
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

  /** Test-facing: puts the user's passwords into a given state (as if a request had or had not applied). */
  setPasswords(login: string, passwords: string[]): void {
    const u = this.lookup(login);
    if (u) u.passwords = [...passwords];
  }

  unlock(login: string): void {
    const u = this.lookup(login);
    if (!u) return;
    u.status = 'active';
    this.lockedUntil.delete(u.uid);
    this.failureTimes.delete(u.uid);
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
    const u = this.users.get(uid);
    if (!u) throw new RestError(404, 'user_not_exist', `User ${uid} does not exist`);
    return u;
  }

  private requireString(v: unknown, field: string): asserts v is string {
    if (typeof v !== 'string' || v === '') throw new RestError(400, 'invalid_schema', `${field} is required`);
  }

  private expireLocks(): void {
    const now = this.now();
    for (const [uid, until] of this.lockedUntil) {
      if (now >= until) {
        const u = this.users.get(uid);
        if (u) u.status = 'active';
        this.lockedUntil.delete(uid);
        this.failureTimes.delete(uid);
      }
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
