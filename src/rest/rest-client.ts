// The Redis Enterprise cluster REST API, reached through curl inside a REC pod.
import { z } from 'zod';
import type { Pod } from '../kube/resources.js';
import { PodTransport, type RestAuth, type RestCall, type RestReply } from '../pod/pod-transport.js';
import { AuthenticationFailedError, RestApiError, restErrorFrom } from './rest-errors.js';

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

// Codes that mean "that password is not one of the user's": the removal already happened.
const NOT_A_PASSWORD = /not_found|not_exist|no_such|invalid_old_password|password_not_match/;

export class RestClient {
  private master: string | undefined;
  /** Awaited before every request that may change the cluster: a procedure renews its lease there (SPEC 3.6). */
  beforeChange: () => Promise<void> = () => Promise.resolve();

  constructor(
    private readonly transport: PodTransport,
    private readonly pods: Pod[],
  ) {}

  /** Pod that answered without redirect, once known. */
  get masterPod(): string | undefined {
    return this.master;
  }

  async call(call: RestCall, credentials: Credentials | 'mounted-files'): Promise<RestReply> {
    const auth: RestAuth = credentials === 'mounted-files' ? { source: 'mounted-files' } : { source: 'given', ...credentials };
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

  private async expectOk(call: RestCall, credentials: Credentials | 'mounted-files', username: string): Promise<RestReply> {
    const reply = await this.call(call, credentials);
    if (reply.status === 401) throw new AuthenticationFailedError(username);
    if (reply.status < 200 || reply.status >= 300) throw restErrorFrom(reply.status, reply.body, `${call.method} ${call.path}`);
    return reply;
  }

  /** The cheapest authenticated call. */
  async authenticate(credentials: Credentials): Promise<void> {
    await this.expectOk({ method: 'GET', path: '/v1/cluster' }, credentials, credentials.username);
  }

  /**
   * POST /v1/users/password. Idempotent: a password the user already has is refused with
   * new_password_same_as_current, which proves an earlier attempt (whose reply was lost) went through.
   */
  async addPassword(auth: Credentials, newPassword: string, forUser = auth.username): Promise<'added' | 'already-present'> {
    const reply = await this.call({ method: 'POST', path: '/v1/users/password', body: { username: forUser, old_password: auth.password, new_password: newPassword } }, auth);
    if (reply.status === 401) throw new AuthenticationFailedError(auth.username);
    if (reply.status >= 200 && reply.status < 300) return 'added';
    const err = restErrorFrom(reply.status, reply.body, 'POST /v1/users/password');
    if (err.errorCode === 'new_password_same_as_current') return 'already-present';
    throw err;
  }

  /** DELETE /v1/users/password. Idempotent: removing a password the user no longer has is "absent". */
  async deletePassword(auth: Credentials, password: string, forUser = auth.username): Promise<'deleted' | 'absent'> {
    const reply = await this.call({ method: 'DELETE', path: '/v1/users/password', body: { username: forUser, old_password: password } }, auth);
    if (reply.status === 401) throw new AuthenticationFailedError(auth.username);
    if (reply.status >= 200 && reply.status < 300) return 'deleted';
    const err = restErrorFrom(reply.status, reply.body, 'DELETE /v1/users/password');
    if (err.errorCode && NOT_A_PASSWORD.test(err.errorCode)) return 'absent';
    throw err;
  }

  /** PUT /v1/users/password: every password of the user replaced by one. */
  async replacePasswords(auth: Credentials, newPassword: string, forUser = auth.username): Promise<void> {
    await this.expectOk({ method: 'PUT', path: '/v1/users/password', body: { username: forUser, old_password: auth.password, new_password: newPassword } }, auth, auth.username);
  }

  async users(auth: Credentials): Promise<User[]> {
    const reply = await this.expectOk({ method: 'GET', path: '/v1/users' }, auth, auth.username);
    return z.array(UserSchema).parse(reply.body);
  }

  async roles(auth: Credentials): Promise<z.infer<typeof RoleSchema>[] | undefined> {
    const reply = await this.call({ method: 'GET', path: '/v1/roles' }, auth);
    if (reply.status === 401) throw new AuthenticationFailedError(auth.username);
    if (reply.status === 404) return undefined;
    if (reply.status < 200 || reply.status >= 300) throw restErrorFrom(reply.status, reply.body, 'GET /v1/roles');
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

  async deleteUser(auth: Credentials, uid: number): Promise<'deleted' | 'absent'> {
    const reply = await this.call({ method: 'DELETE', path: `/v1/users/${uid}` }, auth);
    if (reply.status === 401) throw new AuthenticationFailedError(auth.username);
    if (reply.status === 404) return 'absent';
    if (reply.status < 200 || reply.status >= 300) throw restErrorFrom(reply.status, reply.body, `DELETE /v1/users/${uid}`);
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
