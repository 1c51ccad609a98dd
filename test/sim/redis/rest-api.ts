// The Redis Enterprise REST API of one REC, served over HTTPS on each pod's Unix socket (which the pod
// sandbox's forwarder exposes as localhost:9443 inside the pod). Only the master serves; the others
// redirect, as a real cluster does unless handle_redirects is on.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { rmSync } from 'node:fs';
import type { AuditLog } from '../audit.js';
import type { Faults } from '../faults.js';
import { ClusterState, RestError, type User } from './cluster-state.js';

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

  constructor(private readonly o: RestApiOptions) {}

  get state(): ClusterState {
    return this.o.state;
  }

  /** Starts serving the given pod's REST endpoint on a Unix socket path. */
  async listen(pod: string, socketPath: string): Promise<void> {
    await this.closePod(pod);
    rmSync(socketPath, { force: true });
    const server = createServer({ key: this.o.tls.key, cert: this.o.tls.cert }, (req, res) => {
      void this.handle(pod, req, res).catch((err: unknown) => {
        if (!res.headersSent) this.send(res, 500, { error_code: 'internal_error', message: String(err) });
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
      return this.send(res, injected, { error_code: 'internal_error', message: 'injected fault' });
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
        return this.send(res, 400, { error_code: 'invalid_schema', message: 'Request body is not a JSON object' });
      }
    }

    const route = this.route(method, path);
    let status: number;
    let payload: unknown;
    if (!route) {
      [status, payload] = [404, { error_code: 'not_found', message: `No route for ${method} ${path}` }];
    } else if (route === 'method') {
      [status, payload] = [405, { error_code: 'method_not_allowed', message: `${method} is not allowed on ${path}` }];
    } else {
      try {
        [status, payload] = route.handler({ user: auth.user, body, params: route.params });
      } catch (err) {
        if (!(err instanceof RestError)) throw err;
        [status, payload] = [err.status, { error_code: err.errorCode, message: err.message }];
      }
    }
    audit(status, 'ok');
    this.send(res, status, payload);
  }

  private route(method: string, path: string): { handler: Handler; params: string[] } | 'method' | undefined {
    const table: [RegExp, Record<string, Handler>][] = [
      [/^\/v1\/cluster$/, { GET: () => [200, this.clusterInfo()] }],
      [/^\/v1\/roles$/, { GET: (c) => this.roles(c.user) }],
      [
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
          GET: (c) => (this.requireAdmin(c.user), [200, this.o.state.listUsers().map(ClusterState.view)]),
          POST: (c) => (this.requireAdmin(c.user), [200, ClusterState.view(this.o.state.createUser(createInput(c.body)))]),
        },
      ],
      [
        /^\/v1\/users\/(\d+)$/,
        {
          GET: (c) => [200, ClusterState.view(this.userFor(c.user, Number(c.params[0])))],
          PUT: (c) => {
            const target = this.userFor(c.user, Number(c.params[0]));
            return [200, ClusterState.view(this.o.state.updateUser(target.uid, c.body))];
          },
          DELETE: (c) => {
            this.requireAdmin(c.user);
            this.o.state.deleteUser(Number(c.params[0]));
            return [200, undefined];
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

  private clusterInfo(): Record<string, unknown> {
    return {
      name: `${this.o.rec}.${this.o.namespace}.svc.cluster.local`,
      handle_redirects: this.o.state.handleRedirects,
      password_complexity: this.o.state.passwordComplexity,
      password_min_length: this.o.state.passwordMinLength,
      software_version: this.o.state.apiVersion === '7.8.2+' ? '7.22.0-28' : '7.4.2-54',
    };
  }

  private roles(user: User): [number, unknown] {
    this.requireAdmin(user);
    const roles = this.o.state.listRoles();
    if (!roles) return [404, { error_code: 'not_found', message: 'Roles are not available on this cluster' }];
    return [200, roles];
  }

  private password(method: 'POST' | 'PUT' | 'DELETE', caller: User, body: Record<string, unknown>): [number, unknown] {
    const state = this.o.state;
    let target = caller;
    if (state.apiVersion === 'pre-7.8.2') {
      // Before 7.8.2 the body names the user, and POST/PUT also prove an existing password.
      const name = body.username;
      if (typeof name !== 'string' || !name) throw new RestError(400, 'invalid_schema', 'username is required');
      const found = state.findUser(name);
      if (!found) throw new RestError(404, 'user_not_exist', `User ${name} does not exist`);
      if (found.uid !== caller.uid && !isAdmin(caller)) throw new RestError(403, 'unauthorized_action', 'Not allowed to change the password of another user');
      target = found;
      if (method !== 'DELETE') {
        const old = body.old_password;
        if (typeof old !== 'string' || !old) throw new RestError(400, 'invalid_schema', 'old_password is required');
        if (!state.accepts(target.email, old)) throw new RestError(400, 'unauthorized_action', 'old_password is not a password of the user');
      }
    }
    if (method === 'POST') state.addPassword(target.uid, body.new_password as string);
    else if (method === 'PUT') state.replacePasswords(target.uid, body.new_password as string);
    else state.deletePassword(target.uid, body.old_password as string);
    return [200, undefined];
  }

  private userFor(caller: User, uid: number): User {
    if (caller.uid !== uid) this.requireAdmin(caller);
    const u = this.o.state.getUser(uid);
    if (!u) throw new RestError(404, 'user_not_exist', `User ${uid} does not exist`);
    return u;
  }

  private requireAdmin(user: User): void {
    if (!isAdmin(user)) throw new RestError(403, 'unauthorized_action', 'Operation is forbidden');
  }

  private unauthorized(res: ServerResponse): void {
    res.setHeader('WWW-Authenticate', 'Basic realm="cnm"');
    this.send(res, 401, { error_code: 'unauthorized', message: 'Authentication failed' });
  }

  private send(res: ServerResponse, status: number, payload: unknown): void {
    const text = payload === undefined ? '' : JSON.stringify(payload);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }
}

function isAdmin(u: User): boolean {
  return u.role === 'admin';
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
