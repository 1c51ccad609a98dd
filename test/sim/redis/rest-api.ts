// The Redis Enterprise REST API of one REC, served over HTTPS on each pod's Unix socket (which the pod
// sandbox's forwarder exposes as localhost:9443 inside the pod). Only the master serves; the others
// redirect, as a real cluster does unless handle_redirects is on.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { rmSync } from 'node:fs';
import type { AuditLog } from '../audit.js';
import type { Faults } from '../faults.js';
import { RestError, compareVersions, type ClusterState, type ManagementRole, type User } from './cluster-state.js';

/**
 * The permissions of the endpoints served here, with the roles that have each: the "Roles list per
 * permission" table of content/operate/rs/references/rest-api/permissions.md (`none` has none). Which
 * endpoint needs which is in each request page (requests/cluster/_index.md, cluster/policy.md,
 * nodes/_index.md, users/_index.md, roles/_index.md, actions/_index.md, crdbs/_index.md).
 */
const ALL_BUT_NONE: ManagementRole[] = ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'];
const ROLES_WITH = {
  view_cluster_info: ALL_BUT_NONE,
  view_all_nodes_info: ALL_BUT_NONE,
  view_all_roles_info: ALL_BUT_NONE,
  view_status_of_cluster_action: ALL_BUT_NONE,
  view_crdb_list: ALL_BUT_NONE,
  view_all_users_info: ['admin', 'user_manager'],
  view_user_info: ['admin', 'user_manager'],
  create_new_user: ['admin', 'user_manager'],
  update_user: ['admin', 'user_manager'],
  delete_user: ['admin', 'user_manager'],
} satisfies Record<string, ManagementRole[]>;
type Permission = keyof typeof ROLES_WITH;

/** Body fields of POST/PUT /v1/users/password in openapi.json (old_password deprecated there). */
const PASSWORD_BODY_FIELDS = ['username', 'new_password', 'password_hash_method'];
/** Fields any user may change in its own record (requests/users/_index.md, PUT: "name, password, or alert preferences"). */
const OWN_RECORD_FIELDS = /^(name|password|alert_.*)$/;

/**
 * RS161290: "For Redis Software versions 7.8.2-34 through 7.8.6-95, this request ignores the `username`
 * parameter" (content/operate/rs/7.8/references/rest-api/requests/users/password.md), and "For Redis
 * Software version 7.22.0-95" (rs/7.22/.../password.md); fixed in 7.8.6-119 and 7.22.0-216. Other
 * builds are not named, so they honour it.
 */
function usernameIgnored(version: string): boolean {
  return (compareVersions(version, '7.8.2-34') >= 0 && compareVersions(version, '7.8.6-95') <= 0) || compareVersions(version, '7.22.0-95') === 0;
}

export interface RestApiOptions {
  rec: string;
  namespace: string;
  state: ClusterState;
  audit: AuditLog;
  faults: Faults;
  tls: { key: string; cert: string };
  /** The pod IP a redirect points at (status.podIP of the master pod). */
  podIP: (pod: string) => string | undefined;
}

type Handler = (ctx: { user: User; body: Record<string, unknown>; params: string[] }) => [number, unknown];

export class RestApi {
  private readonly servers = new Map<string, { server: Server; socketPath: string }>();
  /** The nodes, in the order their pods first served (node uid = index + 1). */
  private readonly nodeOrder: string[] = [];

  constructor(private readonly o: RestApiOptions) {}

  get state(): ClusterState {
    return this.o.state;
  }

  /** Starts serving the given pod's REST endpoint on a Unix socket path. */
  async listen(pod: string, socketPath: string): Promise<void> {
    if (!this.nodeOrder.includes(pod)) this.nodeOrder.push(pod);
    await this.closePod(pod);
    rmSync(socketPath, { force: true });
    const server = createServer({ key: this.o.tls.key, cert: this.o.tls.cert }, (req, res) => {
      void this.handle(pod, req, res).catch((err: unknown) => {
        if (!res.headersSent) this.send(res, 500, this.errorObject(500, 'internal_error', String(err)));
      });
    });
    // Keep-alive sockets would hold close() open; the API is request/response anyway.
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    this.servers.set(pod, { server, socketPath });
  }

  async closePod(pod: string): Promise<void> {
    const s = this.servers.get(pod);
    if (!s) return;
    this.servers.delete(pod);
    s.server.closeAllConnections();
    await new Promise<void>((r) => s.server.close(() => r()));
    rmSync(s.socketPath, { force: true });
  }

  async close(): Promise<void> {
    await Promise.all([...this.servers.keys()].map((p) => this.closePod(p)));
  }

  private async handle(pod: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'https://localhost:9443');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const raw = await readBody(req);
    const { login, password } = parseBasic(req.headers.authorization);
    const audit = (status: number, auth: 'ok' | 'failed' | 'locked' | 'none') =>
      this.o.audit.record({
        kind: 'rest',
        time: Date.now(),
        rec: this.o.rec,
        pod,
        method,
        path,
        user: login,
        auth,
        status,
      });

    const injected = this.o.faults.take(this.o.faults.restErrors, method, path);
    if (injected) {
      audit(injected, 'none');
      return this.send(res, injected, this.errorObject(injected, 'internal_error', 'injected fault'));
    }

    // Redirects come before authentication: the node does not check credentials it will not use.
    const state = this.o.state;
    if (pod !== state.masterPod && !state.handleRedirects) {
      const ip = this.o.podIP(state.masterPod) ?? '127.0.0.1';
      audit(307, 'none');
      res.setHeader('Location', `https://${ip}:9443${req.url ?? path}`);
      return this.send(res, 307, undefined);
    }

    if (login === null) {
      audit(401, 'none');
      return this.unauthorized(res);
    }
    const auth = state.authenticate(login, password);
    if (!auth.ok) {
      // What a locked or password_expired account gets is silent (the lockedReply switch); 401 otherwise
      // (rest-api/_index.md: "If the username and password is incorrect or missing ... 401 Unauthorized").
      if (auth.reason === 'locked' && state.lockedReply === '403') {
        audit(403, auth.reason);
        return this.send(res, 403, this.errorObject(403, 'forbidden', 'Forbidden'));
      }
      audit(401, auth.reason);
      return this.unauthorized(res);
    }

    let body: Record<string, unknown> = {};
    if (raw.length) {
      try {
        const parsed: unknown = JSON.parse(raw.toString('utf8'));
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
        else throw new Error('not an object');
      } catch {
        audit(400, 'ok');
        return this.send(res, 400, this.errorObject(400, 'invalid_schema', 'Request body is not a JSON object'));
      }
    }

    const route = this.route(method, path);
    if (!route || route === 'method') {
      // Nothing documents what an unknown path or method gets: a plain body, no Redis error object,
      // so a client cannot take it for an answer of the API about a user or a password.
      const status = route ? 405 : 404;
      audit(status, 'ok');
      return this.sendText(res, status, route ? 'Method Not Allowed' : 'Not Found');
    }
    let status: number;
    let payload: unknown;
    try {
      [status, payload] = route.handler({ user: auth.user, body, params: route.params });
    } catch (err) {
      if (!(err instanceof RestError)) throw err;
      [status, payload] = [err.status, this.errorObject(err.status, err.errorCode, err.message)];
    }
    audit(status, 'ok');
    this.send(res, status, payload);
  }

  private route(method: string, path: string): { handler: Handler; params: string[] } | 'method' | undefined {
    const state = this.o.state;
    const table: [RegExp, Record<string, Handler>][] = [
      [/^\/v1\/cluster$/, { GET: (c) => (this.require(c.user, 'view_cluster_info'), [200, this.clusterInfo()]) }],
      [/^\/v1\/cluster\/policy$/, { GET: (c) => (this.require(c.user, 'view_cluster_info'), [200, this.policy()]) }],
      [/^\/v1\/nodes$/, { GET: (c) => (this.require(c.user, 'view_all_nodes_info'), [200, this.nodes()]) }],
      // requests/crdbs/_index.md: "Get a list of all Active-Active databases on the cluster"; view_crdb_list (permissions.md).
      [/^\/v1\/crdbs$/, { GET: (c) => (this.require(c.user, 'view_crdb_list'), [200, state.crdbs]) }],
      [/^\/v1\/roles$/, { GET: (c) => (this.require(c.user, 'view_all_roles_info'), this.roles()) }],
      [
        /^\/v1\/actions\/([^/]+)$/,
        {
          GET: (c) => {
            this.require(c.user, 'view_status_of_cluster_action');
            const action = state.action(c.params[0]!);
            // actions/_index.md: "404 Not Found | Action does not exist".
            if (!action) throw new RestError(404, 'action_not_exist', `Action ${c.params[0]} does not exist`);
            return [200, action];
          },
        },
      ],
      [
        // password.md has no "Permissions" section: the rules are in passwordTarget.
        /^\/v1\/users\/password$/,
        {
          POST: (c) => this.password('POST', c.user, c.body),
          PUT: (c) => this.password('PUT', c.user, c.body),
          DELETE: (c) => this.password('DELETE', c.user, c.body),
        },
      ],
      [
        /^\/v1\/users$/,
        {
          GET: (c) => (this.require(c.user, 'view_all_users_info'), [200, state.listUsers().map((u) => state.view(u))]),
          POST: (c) => (this.require(c.user, 'create_new_user'), [200, state.view(state.createUser(createInput(c.body)))]),
        },
      ],
      [
        /^\/v1\/users\/(\d+)$/,
        {
          // users/_index.md: view_user_info (openapi.json lists no permission here: the markdown is followed).
          GET: (c) => (this.require(c.user, 'view_user_info'), [200, state.view(this.userFor(Number(c.params[0])))]),
          PUT: (c) => {
            const target = this.userFor(Number(c.params[0]));
            // users/_index.md: update_user, and "Any user can change their own name, password, or alert preferences."
            const own = target.uid === c.user.uid && Object.keys(c.body).every((k) => OWN_RECORD_FIELDS.test(k));
            if (own) this.requireSelfService(c.user);
            else this.require(c.user, 'update_user');
            return [200, state.view(state.updateUser(target.uid, c.body))];
          },
          DELETE: (c) => {
            this.require(c.user, 'delete_user');
            // openapi.json: 200 with {"action_uid": ...} "for tracking progress".
            return [200, state.deleteUser(Number(c.params[0]))];
          },
        },
      ],
    ];
    for (const [re, handlers] of table) {
      const m = path.match(re);
      if (!m) continue;
      const handler = handlers[method];
      return handler ? { handler, params: m.slice(1) } : 'method';
    }
    return undefined;
  }

  /** The cluster object (objects/cluster/_index.md), which has no software version field. */
  private clusterInfo(): Record<string, unknown> {
    return {
      name: `${this.o.rec}.${this.o.namespace}.svc.cluster.local`,
      handle_redirects: this.o.state.handleRedirects,
      password_complexity: this.o.state.passwordComplexity,
      password_min_length: this.o.state.passwordMinLength,
    };
  }

  /**
   * GET /v1/cluster/policy: "Returns a cluster settings object" (requests/cluster/policy.md) with the
   * login_lockout_* fields (objects/cluster_settings.md). A disabled threshold and an admin-release
   * duration show as 0 or as rladmin's words (login-lockout.md): silent, the policyDisabledAs switch.
   */
  private policy(): Record<string, unknown> {
    const { threshold, durationSeconds, counterResetAfterSeconds } = this.o.state.lockout;
    const words = this.o.state.policyDisabledAs === 'word';
    return {
      default_non_sharded_proxy_policy: 'single',
      default_sharded_proxy_policy: 'single',
      default_shards_placement: 'dense',
      login_lockout_threshold: threshold === 0 && words ? 'disabled' : threshold,
      login_lockout_duration: durationSeconds === 0 && words ? 'admin-release' : durationSeconds,
      login_lockout_counter_reset_after: counterResetAfterSeconds,
    };
  }

  /** GET /v1/nodes: node objects with software_version (objects/node.md, requests/nodes/_index.md). */
  private nodes(): Record<string, unknown>[] {
    return this.nodeOrder.map((pod, i) => ({
      uid: i + 1,
      addr: this.o.podIP(pod) ?? '127.0.0.1',
      status: 'active',
      software_version: this.o.state.nodeVersion(i),
    }));
  }

  private roles(): [number, unknown] {
    const roles = this.o.state.listRoles();
    if (!roles) throw new RestError(404, 'not_found', 'Roles are not available on this cluster');
    return [200, roles];
  }

  private password(method: 'POST' | 'PUT' | 'DELETE', caller: User, body: Record<string, unknown>): [number, unknown] {
    const state = this.o.state;
    if (method !== 'DELETE' && state.removedFields === 'rejected' && state.atLeast('8.2.0')) {
      // old_password on POST/PUT is "deprecated and ignored" in 8.2 (rs-8-2-0-25.md) and "will be removed"
      // (openapi.json); whether a later version refuses it, or any unknown field, is silent: removedFields.
      const unknown = Object.keys(body).filter((k) => !PASSWORD_BODY_FIELDS.includes(k));
      if (unknown.length) throw new RestError(400, 'invalid_schema', `Unknown field(s) in the request body: ${unknown.join(', ')}`);
    }
    const target = this.passwordTarget(method, caller, body);
    if (method === 'POST') state.addPassword(target.uid, body.new_password as string);
    else if (method === 'PUT') state.replacePasswords(target.uid, body.new_password as string);
    else state.deletePassword(target.uid, body.old_password as string);
    return [200, undefined];
  }

  /** Whose password list a /v1/users/password call changes, by version, and whether the caller may. */
  private passwordTarget(method: 'POST' | 'PUT' | 'DELETE', caller: User, body: Record<string, unknown>): User {
    const state = this.o.state;
    const named = typeof body.username === 'string' && body.username !== '' ? body.username : undefined;
    const find = (name: string) => {
      const found = state.findUser(name);
      if (!found) throw new RestError(404, 'user_not_exist', `User ${name} does not exist`);
      return found;
    };
    let target: User;
    if (!state.atLeast('7.8.2-34')) {
      // 7.4 password.md: `username` "Affected user (required)" on all three methods, and on POST/PUT
      // `old_password` "A password that exists in the current list (required)".
      if (!named) throw new RestError(400, 'invalid_schema', 'username is required');
      target = find(named);
      this.mayChangePasswordsOf(caller, target);
      if (method !== 'DELETE') {
        const old = body.old_password;
        if (typeof old !== 'string' || !old) throw new RestError(400, 'invalid_schema', 'old_password is required');
        if (!state.accepts(target.email, old)) throw new RestError(400, 'unauthorized_action', 'old_password is not a password of the user');
      }
      return target;
    }
    // rs-7-8-2-34.md: the call acts on the user of the authorization header; RS161290 ignored `username`
    // on some builds, the others take it as optional ("If missing, defaults to the authenticated user", password.md).
    target = usernameIgnored(state.softwareVersion) || !named ? caller : find(named);
    this.mayChangePasswordsOf(caller, target);
    return target;
  }

  private mayChangePasswordsOf(caller: User, target: User): void {
    // password.md: "unauthorized_action | Updating another user's password is acceptable by an admin user only."
    if (target.uid !== caller.uid) {
      if (!this.o.state.managementRoles(caller).includes('admin'))
        throw new RestError(403, 'unauthorized_action', "Updating another user's password is acceptable by an admin user only");
      return;
    }
    this.requireSelfService(caller);
  }

  /**
   * A user on its own password: rotate-passwords.md "If you are not an admin, you can only rotate
   * passwords for your account"; for role `none` ("No REST API permissions", permissions.md) it is
   * silent: the noneSelfPasswords switch.
   */
  private requireSelfService(caller: User): void {
    const roles = this.o.state.managementRoles(caller);
    if (roles.length === 1 && roles[0] === 'none' && this.o.state.noneSelfPasswords === 'forbidden') throw this.forbidden();
  }

  private userFor(uid: number): User {
    const u = this.o.state.getUser(uid);
    if (!u) throw new RestError(404, 'user_not_exist', `User ${uid} does not exist`);
    return u;
  }

  /** rest-api/_index.md: "If a user attempts to access an endpoint that is not allowed in their role, the request will fail with a 403". */
  private require(user: User, permission: Permission): void {
    const allowed: readonly ManagementRole[] = ROLES_WITH[permission];
    if (!this.o.state.managementRoles(user).some((r) => allowed.includes(r))) throw this.forbidden();
  }

  /** The code of a 403 outside the role is silent; a locked account's 403 (lockedReply) looks the same. */
  private forbidden(): RestError {
    return new RestError(403, 'forbidden', 'Forbidden');
  }

  /**
   * The error object: openapi.json's cluster_Error {error_code, description, status_code}, or the
   * markdown pages' "JSON object with error_code and message fields" (users/password.md): errorBody.
   */
  private errorObject(status: number, code: string, text: string): Record<string, unknown> {
    return this.o.state.errorBody === 'markdown' ? { error_code: code, message: text } : { error_code: code, description: text, status_code: status };
  }

  private unauthorized(res: ServerResponse): void {
    res.setHeader('WWW-Authenticate', 'Basic realm="cnm"');
    this.send(res, 401, this.errorObject(401, 'unauthorized', 'Authentication failed'));
  }

  private sendText(res: ServerResponse, status: number, text: string): void {
    res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private send(res: ServerResponse, status: number, payload: unknown): void {
    const text = payload === undefined ? '' : JSON.stringify(payload);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }
}

function createInput(body: Record<string, unknown>) {
  return {
    email: body.email as string,
    password: body.password as string,
    name: typeof body.name === 'string' ? body.name : undefined,
    role: typeof body.role === 'string' ? body.role : undefined,
    role_uids: Array.isArray(body.role_uids) ? body.role_uids.filter((x): x is number => typeof x === 'number') : undefined,
  };
}

function parseBasic(header: string | undefined): { login: string | null; password: string } {
  const m = header?.match(/^Basic\s+(\S+)$/i);
  if (!m) return { login: null, password: '' };
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = text.indexOf(':');
  return i < 0 ? { login: text, password: '' } : { login: text.slice(0, i), password: text.slice(i + 1) };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
