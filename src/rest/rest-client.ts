// The Redis Enterprise cluster REST API, reached through curl inside a REC pod.
import { z } from 'zod';
import type { Pod } from '../kube/resources.js';
import { PodTransport, type RestAuth, type RestCall, type RestReply } from '../pod/pod-transport.js';
import { AuthenticationFailedError, ForbiddenError, isRedisErrorObject, RestApiError, restErrorFrom, VersionsStraddleError } from './rest-errors.js';
import { lockoutFromPolicy, type LockoutPolicy } from './lockout-policy.js';
import { softwareFromImages, type ClusterSoftware } from './software-version.js';

export interface Credentials {
  username: string;
  password: string;
}

export const UserSchema = z
  .object({
    uid: z.number(),
    name: z.string().optional(),
    email: z.string().optional(),
    role: z.string().optional(),
    role_uids: z.array(z.number()).optional(),
    status: z.string().optional(),
    auth_method: z.string().optional(),
    password_issue_date: z.string().optional(),
  })
  .loose();
export type User = z.infer<typeof UserSchema>;
const RoleSchema = z.object({ uid: z.number(), name: z.string().optional(), management: z.string().optional() }).loose();
const NodeSchema = z.object({ uid: z.number().optional(), software_version: z.string().optional() }).loose();
// Only what the checks need: the instances' cluster_info may hold peer clusters' credentials (objects/crdb/cluster_info.md).
const CrdbSchema = z.object({ guid: z.string(), name: z.string().optional() });
export type Crdb = z.infer<typeof CrdbSchema>;

const ok = (status: number) => status >= 200 && status < 300;

export class RestClient {
  private master: string | undefined;
  /** Awaited before every request that may change the cluster: a procedure renews its lease there (SPEC 3.6). */
  beforeChange: () => Promise<void> = () => Promise.resolve();
  /** The version the nodes run, read by the preflight; else, at the first password call, the pods' image tags. */
  software: ClusterSoftware | undefined;
  /** The cluster's lockout settings, once the preflight read them (messages quote them). */
  lockout: LockoutPolicy | undefined;

  constructor(
    private readonly transport: PodTransport,
    private readonly pods: Pod[],
  ) {}

  /** Pod that answered without redirect, once known. */
  get masterPod(): string | undefined {
    return this.master;
  }

  async call(call: RestCall, credentials: Credentials): Promise<RestReply> {
    const auth: RestAuth = { username: credentials.username, password: credentials.password };
    const first = this.master ?? this.pods[0]?.metadata.name;
    if (!first) throw new Error('no REC pod to reach the REST API through');
    if (call.method !== 'GET') await this.beforeChange();
    let reply = await this.transport.rest(first, call, auth);
    if (reply.status === 307) {
      // Not the master: exec into the pod that owns the redirect's address, never send credentials elsewhere.
      const host = hostOf(reply.redirect);
      const master = this.pods.find((p) => p.status?.podIP === host)?.metadata.name;
      if (!master) {
        throw new RestApiError(307, undefined, `pod ${first} redirected to ${host || 'an unknown address'}, which is not a pod of this REC`, `${call.method} ${call.path}`);
      }
      if (call.method !== 'GET') await this.beforeChange();
      reply = await this.transport.rest(master, call, auth);
      if (reply.status === 307) throw new RestApiError(307, undefined, `the master pod ${master} redirected again`, `${call.method} ${call.path}`);
      this.master = master;
    } else {
      this.master = first;
    }
    return reply;
  }

  private refusedLogin(username: string): AuthenticationFailedError {
    return new AuthenticationFailedError(username, this.lockout);
  }

  private async expectOk(call: RestCall, credentials: Credentials, username: string): Promise<RestReply> {
    const reply = await this.call(call, credentials);
    if (reply.status === 401) throw this.refusedLogin(username);
    if (!ok(reply.status)) throw restErrorFrom(reply.status, reply.body, `${call.method} ${call.path}`);
    return reply;
  }

  /**
   * The cheapest authenticated call (GET /v1/cluster, permission view_cluster_info: every role but none).
   * 200: accepted. 401: refused. 403 throws ForbiddenError: outside the role, or (undocumented) a locked
   * account; only a caller that knows the user's role and status may take it as accepted (probeCredentials).
   */
  async authenticate(credentials: Credentials): Promise<void> {
    await this.expectOk({ method: 'GET', path: '/v1/cluster' }, credentials, credentials.username);
  }

  /** authenticate, where a 403 is returned for the caller to judge instead of thrown. */
  async probeCredentials(credentials: Credentials): Promise<'accepted' | 'forbidden'> {
    try {
      await this.authenticate(credentials);
      return 'accepted';
    } catch (err) {
      if (err instanceof ForbiddenError) return 'forbidden';
      throw err;
    }
  }

  /**
   * GET /v1/cluster/policy (view_cluster_info, requests/cluster/policy.md): the lockout settings, kept
   * for the messages. A 200 also proves the credentials authenticate.
   */
  async readLockoutPolicy(auth: Credentials): Promise<LockoutPolicy> {
    const reply = await this.expectOk({ method: 'GET', path: '/v1/cluster/policy' }, auth, auth.username);
    this.lockout = lockoutFromPolicy(reply.body);
    return this.lockout;
  }

  /** GET /v1/nodes (view_all_nodes_info): the software_version of each node (objects/node.md). */
  async nodeVersions(auth: Credentials): Promise<string[]> {
    const reply = await this.expectOk({ method: 'GET', path: '/v1/nodes' }, auth, auth.username);
    return z
      .array(NodeSchema)
      .parse(reply.body)
      .flatMap((n) => n.software_version ?? []);
  }

  /** The request bodies the cluster's version wants; where the preflight did not read it, the pods' image tags tell. */
  private bodies(): 'named' | 'own' {
    this.software ??= softwareFromImages(this.pods);
    if (this.software.straddles) throw new VersionsStraddleError(this.software.versions);
    return this.software.bodies;
  }

  /**
   * POST /v1/users/password. Idempotent: a password the user already has is refused with
   * new_password_same_as_current (documented in password.md), which proves an earlier attempt (whose
   * reply was lost) went through.
   */
  async addPassword(auth: Credentials, newPassword: string): Promise<'added' | 'already-present'> {
    const body = this.bodies() === 'named' ? { username: auth.username, old_password: auth.password, new_password: newPassword } : { new_password: newPassword };
    const reply = await this.call({ method: 'POST', path: '/v1/users/password', body }, auth);
    if (reply.status === 401) throw this.refusedLogin(auth.username);
    if (ok(reply.status)) return 'added';
    const err = restErrorFrom(reply.status, reply.body, 'POST /v1/users/password');
    if (err.errorCode === 'new_password_same_as_current') return 'already-present';
    throw err;
  }

  /**
   * DELETE /v1/users/password of `password`, authenticated with `auth`, a password this journal has seen
   * authenticate. What the cluster answers for a password the user does not have is not documented (nor
   * whether cannot_delete_last_password is checked first), so the answer is read from state:
   * - 2xx: deleted. 401: refused login (never retried). 403: stop, the caller may not (or is locked).
   * - user_not_exist, or a reply that is no Redis error object (an unrouted path, a proxy): stop; neither
   *   says anything about the password.
   * - any other 4xx to this well-formed request: the user exists and `auth.password` is one of its
   *   passwords, so the only thing left to refuse is `password` itself: it is no longer in the list
   *   ("absent"). A 404 could also mean the user is gone, so `confirmUserExists` first proves it exists
   *   (by default an authenticated call with `auth`, whose 200 does).
   */
  async deletePassword(auth: Credentials, password: string, confirmUserExists: () => Promise<void> = () => this.authenticate(auth)): Promise<'deleted' | 'absent'> {
    // Where the version is unknown the body still names the user: `username` is a DELETE field on every
    // version and required before 7.8.2, where a body without it would be refused with a 4xx read below
    // as "absent".
    const named = this.bodies() === 'named' || this.software?.source === 'assumed';
    const body = named ? { username: auth.username, old_password: password } : { old_password: password };
    const reply = await this.call({ method: 'DELETE', path: '/v1/users/password', body }, auth);
    if (reply.status === 401) throw this.refusedLogin(auth.username);
    if (ok(reply.status)) return 'deleted';
    const err = restErrorFrom(reply.status, reply.body, 'DELETE /v1/users/password');
    // Only the statuses the page documents for a bad request (400) or a missing target (404) can be about the
    // password; a 409, 406 or 429 says something else, and unauthorized_action is about the caller.
    if ((reply.status !== 400 && reply.status !== 404) || !isRedisErrorObject(reply.body) || err.errorCode === 'user_not_exist' || err.errorCode === 'unauthorized_action')
      throw err;
    if (reply.status === 404) await confirmUserExists();
    return 'absent';
  }

  /** PUT /v1/users/password: every password of the user replaced by one. */
  async replacePasswords(auth: Credentials, newPassword: string): Promise<void> {
    const body = this.bodies() === 'named' ? { username: auth.username, old_password: auth.password, new_password: newPassword } : { new_password: newPassword };
    await this.expectOk({ method: 'PUT', path: '/v1/users/password', body }, auth, auth.username);
  }

  /** GET /v1/users/{uid} (view_user_info): the record, or undefined where the cluster says the user does not exist. */
  async user(auth: Credentials, uid: number): Promise<User | undefined> {
    const reply = await this.call({ method: 'GET', path: `/v1/users/${uid}` }, auth);
    if (reply.status === 401) throw this.refusedLogin(auth.username);
    // Only the API's own 404 (an error object) says the user is gone; an unrouted path's 404 says nothing.
    if (reply.status === 404 && isRedisErrorObject(reply.body)) return undefined;
    if (!ok(reply.status)) throw restErrorFrom(reply.status, reply.body, `GET /v1/users/${uid}`);
    return UserSchema.parse(reply.body);
  }

  /** GET /v1/crdbs (view_crdb_list, requests/crdbs/_index.md): the Active-Active databases this cluster takes part in. */
  async activeActiveDatabases(auth: Credentials): Promise<Crdb[]> {
    const reply = await this.expectOk({ method: 'GET', path: '/v1/crdbs' }, auth, auth.username);
    return z.array(CrdbSchema).parse(reply.body);
  }

  async users(auth: Credentials): Promise<User[]> {
    const reply = await this.expectOk({ method: 'GET', path: '/v1/users' }, auth, auth.username);
    return z.array(UserSchema).parse(reply.body);
  }

  async roles(auth: Credentials): Promise<z.infer<typeof RoleSchema>[] | undefined> {
    const reply = await this.call({ method: 'GET', path: '/v1/roles' }, auth);
    if (reply.status === 401) throw this.refusedLogin(auth.username);
    if (reply.status === 404) return undefined;
    if (!ok(reply.status)) throw restErrorFrom(reply.status, reply.body, 'GET /v1/roles');
    return z.array(RoleSchema).parse(reply.body);
  }

  async createUser(auth: Credentials, user: Record<string, unknown>): Promise<User> {
    const reply = await this.expectOk({ method: 'POST', path: '/v1/users', body: user }, auth, auth.username);
    return UserSchema.parse(reply.body);
  }

  /** PUT /v1/users/{uid} with a password: an admin replaces every password of another user (any version). */
  async setUserPassword(auth: Credentials, uid: number, password: string): Promise<void> {
    await this.expectOk({ method: 'PUT', path: `/v1/users/${uid}`, body: { password } }, auth, auth.username);
  }

  /**
   * DELETE /v1/users/{uid}: 200, with an action_uid in openapi.json, and the deletion may finish later:
   * the caller confirms the user is gone (GET /v1/users/{uid} 404). The API's own 404 is "already gone".
   */
  async deleteUser(auth: Credentials, uid: number): Promise<'deleted' | 'absent'> {
    const reply = await this.call({ method: 'DELETE', path: `/v1/users/${uid}` }, auth);
    if (reply.status === 401) throw this.refusedLogin(auth.username);
    if (reply.status === 404 && isRedisErrorObject(reply.body)) return 'absent';
    if (!ok(reply.status)) throw restErrorFrom(reply.status, reply.body, `DELETE /v1/users/${uid}`);
    return 'deleted';
  }
}

function hostOf(location: string): string {
  try {
    return new URL(location).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return '';
  }
}
