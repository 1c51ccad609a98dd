// The operator's RedisEnterpriseUser controller (operator 8.2.0-12): for each resource in an operator
// namespace it creates the Redis Software user and keeps its passwords equal to those of the
// referenced Secrets, reverting changes made any other way, and reports what it did in the status.
// Sources: content/operate/kubernetes/security/access-control/manage-users.md (manage-users below),
// content/operate/kubernetes/security/access-control/_index.md (access-control below) and
// content/operate/kubernetes/reference/api/redis_enterprise_user_api.md (api below), in redis/docs.
import { randomBytes } from 'node:crypto';
import type { KubeObject, KubeStore, StoreEvent } from '../kube/store.js';
import { RestError, type ClusterState, type User } from './cluster-state.js';

export type SigninStatus = 'Unknown' | 'Active' | 'Locked' | 'PasswordExpired';

export interface UserControllerOptions {
  store: KubeStore;
  /**
   * The REC an operator namespace hosts. "Each namespace can host only one REC"
   * (content/operate/kubernetes/architecture/deployment-options.md); the sim allows several for other
   * tests, and a namespace with several gets no controller here (undefined).
   */
  recOf: (namespace: string) => { rec: string; state: ClusterState } | undefined;
  /**
   * The periodic resync that also puts back passwords changed through the REST API. Silent: how often the
   * operator resyncs is not documented. Default 1000 ms.
   */
  intervalMs?: number;
  /**
   * How soon a change of a RedisEnterpriseUser or a Secret is acted on. Silent ("The operator detects the new
   * version", manage-users); never at once, so a client must wait for the status. Default 100 ms.
   */
  reactionMs?: number;
}

/** What `kubectl describe redisenterpriseuser` would list (manage-users, "Troubleshoot"). */
export interface UserControllerEvent {
  time: number;
  namespace: string;
  name: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  count: number;
}

interface ReuSpec {
  email?: string;
  username?: string;
  passwordMode?: string;
  authMethod?: string;
  passwordSecrets?: { name?: string }[];
}

export interface ReuStatus {
  uid?: string;
  username?: string;
  signinStatus?: SigninStatus;
  passwordIssueDate?: string;
  passwordSecrets?: { name: string; version: string }[];
  observedGeneration?: number;
}

const unb64 = (v: unknown) => (typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : undefined);
const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;

/** api, status.signinStatus: "Unknown, Active, Locked, or PasswordExpired" (manage-users, "Inspect user status"). */
function signinOf(u: User): SigninStatus {
  return u.status === 'locked' ? 'Locked' : u.status === 'password_expired' ? 'PasswordExpired' : 'Active';
}

export class UserController {
  private readonly store: KubeStore;
  private readonly recOf: UserControllerOptions['recOf'];
  private readonly intervalMs: number;
  private readonly reactionMs: number;
  private timer: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;
  private off: (() => void) | undefined;
  private readonly list: UserControllerEvent[] = [];
  /** Management roles given by role bindings, which the sim does not serve: tests bind them here. */
  private readonly bound = new Map<string, string>();
  /** The password mode each resource was last reconciled in (mode switches are checked against it). */
  private readonly modes = new Map<string, string>();
  enabled = true;

  constructor(options: UserControllerOptions) {
    this.store = options.store;
    this.recOf = options.recOf;
    this.intervalMs = options.intervalMs ?? 1000;
    this.reactionMs = options.reactionMs ?? 100;
  }

  start(): void {
    if (this.timer) return;
    this.off = this.store.onChange((e) => this.changed(e));
    this.timer = setInterval(() => this.reconcileAll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.pending);
    this.off?.();
    this.timer = this.pending = this.off = undefined;
  }

  /**
   * What a RedisEnterpriseRoleBinding or RedisEnterpriseClusterRoleBinding would give the user: a
   * management role (access-control, "How a user gets permissions"). Without one the user has `none`.
   */
  bindRole(namespace: string, name: string, role: string | undefined): void {
    if (role === undefined) this.bound.delete(keyOf(namespace, name));
    else this.bound.set(keyOf(namespace, name), role);
    this.schedule();
  }

  events(namespace: string, name: string): UserControllerEvent[] {
    return this.list.filter((e) => e.namespace === namespace && e.name === name).map((e) => ({ ...e }));
  }

  /** One round now. */
  reconcileAll(): void {
    if (!this.enabled) return;
    for (const o of this.store.list('redisenterpriseusers')) {
      try {
        this.reconcile(o);
      } catch (err) {
        console.error('[sim user-controller]', err);
      }
    }
  }

  private changed(e: StoreEvent): void {
    if (e.resource === 'redisenterpriseusers' && e.type === 'DELETED') {
      this.removeUser(e.object);
      return;
    }
    // Its own status writes come back here too; they change nothing on the next round, which stops there.
    if (e.resource === 'redisenterpriseusers' || e.resource === 'secrets') this.schedule();
  }

  private schedule(): void {
    if (this.pending || !this.timer) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.reconcileAll();
    }, this.reactionMs);
    this.pending.unref();
  }

  /** manage-users, "Delete a user": "The operator removes the user from Redis Software." (Finalizers are not modelled.) */
  private removeUser(o: KubeObject): void {
    const uid = Number((o.status as ReuStatus | undefined)?.uid);
    const target = this.recOf(o.metadata.namespace ?? '');
    if (!target || !Number.isInteger(uid)) return;
    try {
      target.state.deleteUser(uid);
    } catch (err) {
      if (!(err instanceof RestError)) throw err;
    }
  }

  private reconcile(o: KubeObject): void {
    const namespace = o.metadata.namespace ?? '';
    const name = o.metadata.name;
    // access-control, "Known limitations": "Access control resources are reconciled only in the operator namespace."
    const target = this.recOf(namespace);
    if (!target) return;
    const { state } = target;
    const spec = (o['spec'] ?? {}) as ReuSpec;
    const status = (o['status'] ?? {}) as ReuStatus;
    const generation = Number(o.metadata['generation'] ?? 1);
    // Certificate users carry no password (api, authMethod): not modelled.
    if (spec.authMethod === 'Certificate') return;
    // api, passwordMode: "When empty, Single behavior is used."
    const mode = spec.passwordMode || 'Single';
    const refs = (spec.passwordSecrets ?? []).map((r) => r.name ?? '');
    const problem = this.specProblem(namespace, name, mode, refs);
    if (problem) {
      // Silent: the docs name no event for an invalid spec. The spec is not acted on, so observedGeneration stays behind.
      this.event(o, 'Warning', 'InvalidSpec', problem);
      return;
    }

    const resolved: { name: string; version: string; password: string }[] = [];
    for (const secretName of refs) {
      let secret = this.store.get('secrets', namespace, secretName);
      // manage-users, "Troubleshoot": PasswordSecretMissing / PasswordSecretInvalid, and signinStatus
      // Unknown when "it can't read the referenced Secret". Silent: what else it does; nothing changes here.
      if (!secret) return this.unreadable(o, status, 'PasswordSecretMissing', `Secret ${secretName} does not exist in namespace ${namespace}`);
      const password = unb64((secret['data'] as Record<string, string> | undefined)?.['password']);
      if (!password) return this.unreadable(o, status, 'PasswordSecretInvalid', `Secret ${secretName} has no "password" key, or its value is empty`);
      if (mode === 'Rotatable' && secret['immutable'] !== true) {
        // manage-users, "Choose a password mode": "The operator marks each referenced Kubernetes Secret immutable".
        secret = this.store.update('secrets', { ...secret, immutable: true });
      }
      resolved.push({ name: secretName, version: secret.metadata.resourceVersion ?? '', password });
    }
    this.modes.set(keyOf(namespace, name), mode);

    // manage-users: "The operator assigns the Redis Software none role so the user is never roleless."
    const role = this.bound.get(keyOf(namespace, name)) ?? 'none';
    // manage-users: spec.username "Defaults to a generated value ... The effective value appears in status.username".
    // Silent: the form of the generated value.
    const username = spec.username || status.username || `${name}-${randomBytes(3).toString('hex')}`;
    let user = status.uid ? state.getUser(Number(status.uid)) : undefined;
    try {
      if (!user) {
        // Created as POST /v1/users would: an email or name already taken is refused (RSOperationFailed).
        // The api says Redis accepts an empty email; the sim's user store wants one, so the username stands in.
        user = state.createUser({ email: spec.email || username, name: username, password: resolved[0]!.password, role });
        this.event(o, 'Normal', 'UserCreated', `created user ${username} (uid ${user.uid})`);
      }
      if (user.role !== role) user = state.updateUser(user.uid, { role });
      if (spec.email && spec.email !== user.email) {
        // manage-users, "Update the email address": only while passwordSecrets has exactly one entry.
        if (refs.length !== 1) {
          this.event(o, 'Warning', 'InvalidSpec', 'spec.email can change only while spec.passwordSecrets has exactly one entry');
          return;
        }
        user = state.updateUser(user.uid, { email: spec.email });
      }
      if (user.status === 'locked') {
        // manage-users, "Recover a locked user": "The operator skips password changes while the user is locked".
        this.event(o, 'Warning', 'UserLocked', 'Password operations are skipped because the user is locked');
        // Nothing acted upon: the resolved versions and observedGeneration stay as they were.
        this.writeStatus(o, { ...status, uid: String(user.uid), username: user.name, signinStatus: 'Locked' });
        return;
      }
      this.syncPasswords(o, state, user, [...new Set(resolved.map((r) => r.password))]);
    } catch (err) {
      if (!(err instanceof RestError)) throw err;
      // manage-users, "Troubleshoot": "RSOperationFailed: A Redis Software API call failed".
      this.event(o, 'Warning', 'RSOperationFailed', err.message);
      this.writeStatus(o, { ...status, ...(user ? { uid: String(user.uid) } : {}), username });
      return;
    }
    const fresh = state.getUser(user.uid) ?? user;
    // api, status: passwordSecrets "with their versions", observedGeneration "observed and acted upon",
    // passwordIssueDate "The date in which the password was set".
    this.writeStatus(o, {
      uid: String(fresh.uid),
      username: fresh.name,
      signinStatus: signinOf(fresh),
      passwordIssueDate: fresh.password_issue_date,
      passwordSecrets: resolved.map(({ name: n, version }) => ({ name: n, version })),
      observedGeneration: generation,
    });
  }

  /**
   * The user accepts exactly the passwords of the referenced Secrets: api, passwordSecrets, "If multiple
   * secrets are specified, then the passwords from all of them can be used for authenticating"; a password
   * added or replaced through the REST API is undone, as manage-users warns ("the operator can later
   * reconcile the old desired password back onto the user") and access-control says (the REST API is "no
   * longer the source of truth").
   */
  private syncPasswords(o: KubeObject, state: ClusterState, user: User, desired: string[]): void {
    const toAdd = desired.filter((p) => !user.passwords.includes(p));
    const toDelete = user.passwords.filter((p) => !desired.includes(p));
    if (desired.length === 1 && toAdd.length === 1 && toDelete.length === user.passwords.length) {
      state.replacePasswords(user.uid, desired[0]!);
      this.event(o, 'Normal', 'UserPasswordReplaced', `replaced the password of ${user.name}`);
      return;
    }
    // Added first, so the user is never left without a password.
    for (const p of toAdd) {
      state.addPassword(user.uid, p);
      this.event(o, 'Normal', 'UserPasswordAdded', `added a password to ${user.name}`);
    }
    for (const p of toDelete) {
      state.deletePassword(user.uid, p);
      this.event(o, 'Normal', 'UserPasswordDeleted', `deleted a password of ${user.name}`);
    }
  }

  /** The rules of manage-users, "Choose a password mode", as a message, or undefined when the spec follows them. */
  private specProblem(namespace: string, name: string, mode: string, refs: string[]): string | undefined {
    if (mode !== 'Single' && mode !== 'Rotatable') return `spec.passwordMode "${mode}" is neither Single nor Rotatable`;
    if (refs.some((r) => !r)) return 'every spec.passwordSecrets entry needs a name';
    // "Single (default) — Exactly one entry in passwordSecrets."
    if (mode === 'Single' && refs.length !== 1) return `passwordMode Single takes exactly one entry in spec.passwordSecrets, not ${refs.length}`;
    // "Rotatable — One or two entries in passwordSecrets."
    if (mode === 'Rotatable' && (refs.length < 1 || refs.length > 2)) return `passwordMode Rotatable takes one or two entries in spec.passwordSecrets, not ${refs.length}`;
    // "You can't switch modes while the user has two password secrets."
    const previous = this.modes.get(keyOf(namespace, name));
    if (previous && previous !== mode && refs.length === 2) return `cannot switch from ${previous} to ${mode} while spec.passwordSecrets has two entries`;
    return undefined;
  }

  private unreadable(o: KubeObject, status: ReuStatus, reason: string, message: string): void {
    this.event(o, 'Warning', reason, message);
    this.writeStatus(o, { ...status, signinStatus: 'Unknown' });
  }

  /** Writes the status only when it changed (its own write would otherwise wake it up for ever). */
  private writeStatus(o: KubeObject, next: ReuStatus): void {
    const current = this.store.get('redisenterpriseusers', o.metadata.namespace, o.metadata.name);
    if (!current || current.metadata.uid !== o.metadata.uid) return;
    if (JSON.stringify(current['status'] ?? {}) === JSON.stringify(next)) return;
    this.store.update('redisenterpriseusers', { ...current, status: next });
  }

  /** Repeats of the last event of an object are counted, as the event recorder aggregates them. */
  private event(o: KubeObject, type: UserControllerEvent['type'], reason: string, message: string): void {
    const namespace = o.metadata.namespace ?? '';
    const name = o.metadata.name;
    const last = [...this.list].reverse().find((e) => e.namespace === namespace && e.name === name);
    if (last && last.reason === reason && last.message === message) {
      last.count += 1;
      last.time = Date.now();
      return;
    }
    this.list.push({ time: Date.now(), namespace, name, type, reason, message, count: 1 });
  }
}
