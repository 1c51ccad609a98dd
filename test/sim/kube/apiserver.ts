// The simulated kube-apiserver: HTTPS on 127.0.0.1, x509 client certificates and bearer tokens (some
// expiring), impersonation, RBAC-like rules bound to users and groups, discovery, the served resources with
// real status codes and Status bodies, watch, tables, and exec.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { AuditLog, ApiAuditIdentity } from '../audit.js';
import type { Faults } from '../faults.js';
import type { PodExecutor } from '../pods/executor.js';
import { allows, BUILTIN_GROUPS, BUILTIN_USER_GROUPS, BUILTIN_USERS, forbiddenMessage, requestNameFromFieldSelector, type PolicyRule, type RequestAttributes } from './authz.js';
import {
  aggregatedContentType,
  aggregatedDiscovery,
  findResource,
  legacyApiVersions,
  legacyGroupDoc,
  legacyGroupList,
  negotiateDiscovery,
  RESOURCES,
  resourceList,
  type ResourceInfo,
} from './discovery.js';
import { eventFieldSelector, eventTable, eventToStore, eventView, isEventResource } from './events.js';
import { ensurePluginExecutable, execKubeconfigInput, MINT_KEY_HEADER, MINT_PATH, readExecLog, type ExecKubeconfig, type ExecKubeconfigOptions } from './exec-credential.js';
import { chooseProtocol, ExecEndpoint, spdyRefusal, validateExec, type ExecProtocol } from './exec-endpoint.js';
import { ALL_AUTHENTICATED, ALL_UNAUTHENTICATED, ANONYMOUS, impersonate, impersonationHeaders, PlainTextError, type UserInfo } from './impersonation.js';
import { kubeconfigYaml, type KubeconfigInput } from './kubeconfig.js';
import { managerOrUserAgent, sameFields, updateManagedFields } from './managed-fields.js';
import { applySubresourceRules, checkImmutable, prepareWrite } from './objects.js';
import { jsonPatch, mergePatch, PATCH_TYPES, strategicMergePatch } from './patch.js';
import { decodeSelfSubjectAccessReview, PROTOBUF_MAGIC } from './protobuf.js';
import { KubeStore, StoreError, type KubeObject } from './store.js';
import { alreadyExists, ApiError, badRequest, conflict, methodNotAllowed, notFound, pathNotFound, qualified, successStatus, unauthorized, unsupportedMediaType } from './status.js';
import { tableApiVersion, toTable, wantsTable, type IncludeObject } from './table.js';
import { makeCaAndServingCert, makeClientCert } from './tls.js';

export type { PolicyRule } from './authz.js';
export type { ExecInvocation, ExecKubeconfig, ExecKubeconfigOptions } from './exec-credential.js';
export type { UserInfo } from './impersonation.js';

export interface ApiServerOptions {
  store: KubeStore;
  executor: PodExecutor;
  audit: AuditLog;
  faults: Faults;
  /** Where certificates and kubeconfigs go. */
  dir: string;
  /** WebSocket exec protocols offered; default both. ['v4'] acts as a cluster older than 1.30. */
  execProtocols?: ExecProtocol[];
  /** Default 0: an ephemeral port. */
  port?: number;
  /** What it serves (default: every resource of discovery.ts; WITHOUT_USER_CRD for an operator before 8.2.0-12). */
  resources?: ResourceInfo[];
}

export interface AddUserOptions {
  /** The groups its token carries (and, by default, its client certificate's O); system:authenticated is added. */
  groups?: string[];
}

export interface ClientCertOptions {
  /** One O per group; default the groups addUser gave the user. */
  groups?: string[];
  /** Signed by a CA the server does not trust: the server refuses it (401), or ignores it when a valid token comes too. */
  untrusted?: boolean;
  /** Also write this bearer token into the kubeconfig (to show which credential wins). */
  token?: string;
  namespace?: string;
  /** File name stem in the API server's folder; default `cert-<user>`. */
  name?: string;
}

export interface ClientCertUser {
  certFile: string;
  keyFile: string;
  /** A kubeconfig with client-certificate and client-key (file paths), no token unless asked. */
  kubeconfig: string;
}

export interface ApiServer {
  url: string;
  caFile: string;
  /** The CA that signs client certificates (kube-apiserver's --client-ca-file); the serving CA, as kubeadm sets it up. */
  clientCaFile: string;
  users: Record<string, { token: string; kubeconfig: string }>;
  setExecProtocols(p: ExecProtocol[]): void;
  /** Binds rules to a user name and gives it a token that does not expire and a kubeconfig (a second call replaces both). */
  addUser(name: string, rules: PolicyRule[], opts?: AddUserOptions): { token: string; kubeconfig: string };
  /** Binds rules to a group: every user carrying it (token, certificate O, impersonation) has them too. */
  addGroup(name: string, rules: PolicyRule[]): void;
  /** A bearer token for any user name that authenticates for ttlMs (default: forever), then gets 401 as an expired token does. */
  issueToken(user: string, ttlMs?: number, opts?: { groups?: string[] }): string;
  /** A client certificate and key for the user (CN = user, O = groups) and a kubeconfig using them. */
  clientCertUser(user: string, opts?: ClientCertOptions): Promise<ClientCertUser>;
  /** A kubeconfig whose user is the exec credential plugin, which mints a fresh token on each run. */
  execKubeconfig(opts: ExecKubeconfigOptions): ExecKubeconfig;
  /** Writes any kubeconfig against this server (server and CA filled in); returns its path. */
  writeKubeconfig(k: Omit<KubeconfigInput, 'server' | 'caFile' | 'file'> & { file?: string }): string;
  /** Resets every open exec stream, as a restart of this API server does; returns how many were open. */
  cutExecStreams(): number;
  close(): Promise<void>;
}

/** The version the `kubectl` dispatcher reads to pick kubectl.1.31. */
export const SERVER_VERSION = {
  major: '1',
  minor: '31',
  gitVersion: 'v1.31.6',
  gitCommit: '6b3560758b37680cb713dfc71da03c04cadd657c',
  gitTreeState: 'clean',
  buildDate: '2025-02-12T21:24:52Z',
  goVersion: 'go1.22.12',
  compiler: 'gc',
  platform: 'linux/amd64',
};

const PUBLIC_PATHS = new Set(['/version', '/healthz', '/livez', '/readyz']);
const MAX_BODY = 3 * 1024 * 1024;

/** Who sent a request and who it acts as. */
interface Caller {
  /** The authenticated user; the audit log's `user`. */
  authenticated: UserInfo;
  /** Who the request is authorized as: the impersonated identity, else the authenticated one. */
  user: UserInfo;
}

/** A bearer token; `groups` undefined: the groups addUser gave the user, read at each request. */
interface TokenEntry {
  user: string;
  groups?: string[];
  /** Epoch ms after which the token no longer authenticates. */
  expiresAt?: number;
  /** The token of the user's kubeconfig, replaced by the next addUser. */
  static?: boolean;
}

/** How long a minted exec-plugin token lasts when the kubeconfig asks for no TTL (EKS tokens last 15 minutes). */
const DEFAULT_MINT_TTL_MS = 15 * 60_000;

interface Target {
  info: ResourceInfo;
  namespace?: string;
  name?: string;
  subresource?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gvOf = (r: ResourceInfo) => (r.group ? `${r.group}/${r.version}` : r.version);

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) reject(new ApiError(413, 'BadRequest', 'request entity too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const mediaType = (req: IncomingMessage) => (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw badRequest(`the request body is not valid JSON: ${(e as Error).message}`);
  }
}

function storeError(e: unknown, r: ResourceInfo, name: string): never {
  if (e instanceof StoreError) {
    if (e.reason === 'NotFound') throw notFound(r.name, r.group, name);
    if (e.reason === 'AlreadyExists') throw alreadyExists(r.name, r.group, name);
    if (e.reason === 'Conflict') throw conflict(r.name, r.group, name);
    throw new ApiError(e.code, e.reason, e.message);
  }
  throw e;
}

/** Field selectors as equality tests on dotted paths (metadata.name, status.phase, ...). */
function fieldSelectorMatcher(selector: string | null): (o: KubeObject) => boolean {
  if (!selector) return () => true;
  const tests = selector
    .split(',')
    .filter(Boolean)
    .map((term) => {
      const m = term.match(/^([^!=]+?)\s*(!=|==|=)\s*(.*)$/);
      if (!m) throw badRequest(`invalid field selector: ${term}`);
      const [, path, op, want] = m as unknown as [string, string, string, string];
      return (o: KubeObject) => {
        const v = path.split('.').reduce<unknown>((cur, k) => (cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined), o);
        const s = v === undefined || v === null ? '' : String(v);
        return op === '!=' ? s !== want : s === want;
      };
    });
  return (o) => tests.every((t) => t(o));
}

/** The field selector of a list or watch: Events have their own fields and refuse unknown ones (test/sim/kube/events.ts). */
function fieldSelectorFor(r: ResourceInfo, query: URLSearchParams): (o: KubeObject) => boolean {
  return isEventResource(r) ? eventFieldSelector(r, query.get('fieldSelector')) : fieldSelectorMatcher(query.get('fieldSelector'));
}

/** An object as the resource returns it: a stored Event in the request's group's shape, anything else as stored. */
const viewOf = (r: ResourceInfo, o: KubeObject): KubeObject => (isEventResource(r) ? eventView(r, o) : o);

/**
 * Plain HTTP on the TLS port gets Go's answer (net/http/server.go, `c.serve`: a TLS record header that
 * looks like HTTP is answered "400 Bad Request ... Client sent an HTTP request to an HTTPS server.") instead
 * of a silent wait for a ClientHello, which clients only leave at their own timeout.
 */
function answerPlainHttp(server: Server): void {
  const tls = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    socket.once('readable', () => {
      const first = socket.read(1) as Buffer | null;
      if (first === null) return;
      socket.unshift(first);
      const TLS_HANDSHAKE = 0x16;
      if (first[0] === TLS_HANDSHAKE) for (const listener of tls) listener.call(server, socket);
      else socket.end('HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n', () => socket.destroy());
    });
  });
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const { store, executor, audit, faults, dir } = opts;
  const served = opts.resources ?? RESOURCES;
  await mkdir(dir, { recursive: true });
  const certs = await makeCaAndServingCert(join(dir, 'pki'));
  let execProtocols: ExecProtocol[] = opts.execProtocols ?? ['v5', 'v4'];
  const tokens = new Map<string, TokenEntry>();
  // RBAC bindings: rules by user name and by group name, read at every request.
  const userRules = new Map<string, PolicyRule[]>();
  const userGroups = new Map<string, string[]>();
  const groupRules = new Map<string, PolicyRule[]>(Object.entries(BUILTIN_GROUPS));
  const mintKey = randomBytes(24).toString('hex');
  let kubeconfigCount = 0;
  const users: ApiServer['users'] = {};
  const watches = new Set<ServerResponse>();
  const execEndpoint = new ExecEndpoint({ store, executor, audit, faults, protocols: () => execProtocols });

  // The serving socket asks for a client certificate but accepts connections without one (Go's
  // tls.RequestClientCert, as kube-apiserver with --client-ca-file): the x509 authenticator, not the TLS
  // handshake, decides (staging/src/k8s.io/apiserver/pkg/authentication/request/x509/x509.go).
  const server: Server = createServer({
    cert: await readFile(certs.certFile),
    key: await readFile(certs.keyFile),
    ca: await readFile(certs.caFile),
    requestCert: true,
    rejectUnauthorized: false,
  });
  answerPlainHttp(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;

  function addUser(name: string, rules: PolicyRule[], opts: AddUserOptions = {}) {
    const token = randomBytes(24).toString('hex');
    const kubeconfig = join(dir, `kubeconfig-${name}`);
    writeFileSync(kubeconfig, kubeconfigYaml({ server: url, caFile: certs.caFile, user: name, token }), { mode: 0o600 });
    for (const [t, e] of tokens) if (e.static && e.user === name) tokens.delete(t);
    tokens.set(token, { user: name, static: true });
    userRules.set(name, rules);
    if (opts.groups) userGroups.set(name, [...opts.groups]);
    users[name] = { token, kubeconfig };
    return { token, kubeconfig };
  }
  for (const [name, rules] of Object.entries(BUILTIN_USERS)) addUser(name, rules, { groups: BUILTIN_USER_GROUPS[name] ?? [] });

  function issueToken(user: string, ttlMs?: number, opts: { groups?: string[] } = {}): { token: string; expiresAt?: number } {
    const token = randomBytes(24).toString('hex');
    const expiresAt = ttlMs === undefined ? undefined : Date.now() + ttlMs;
    tokens.set(token, { user, ...(opts.groups ? { groups: [...opts.groups] } : {}), ...(expiresAt !== undefined ? { expiresAt } : {}) });
    return { token, ...(expiresAt !== undefined ? { expiresAt } : {}) };
  }

  // Every authenticated user carries system:authenticated (AuthenticatedGroupAdder, staging/src/k8s.io/apiserver/pkg/authentication/group/authenticated_group_adder.go).
  const authenticatedUser = (name: string, groups: string[]): UserInfo => ({
    name,
    groups: groups.includes(ALL_AUTHENTICATED) ? [...groups] : [...groups, ALL_AUTHENTICATED],
    extra: {},
  });

  /** The x509 authenticator: undefined without a client certificate; an error for one the client CA did not sign. */
  function certificateUser(req: IncomingMessage): UserInfo | Error | undefined {
    const socket = req.socket as TLSSocket;
    const cert = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
    if (!cert || !Object.keys(cert).length) return undefined;
    if (!socket.authorized) return new Error(`verifying certificate: ${String(socket.authorizationError)}`);
    // CommonNameUserConversion: CN is the user, every O a group; an empty CN authenticates no one.
    const subject = cert.subject as unknown as Record<string, string | string[] | undefined>;
    const cn = [subject['CN'] ?? []].flat()[0];
    if (!cn) return new Error('common name of the provided client certificate was empty');
    return authenticatedUser(cn, [subject['O'] ?? []].flat());
  }

  /** A bearer token's user: undefined without an Authorization header; an error for an unknown or expired token. */
  function tokenUser(req: IncomingMessage): UserInfo | Error | undefined {
    const h = req.headers.authorization;
    if (!h) return undefined;
    const m = h.match(/^Bearer\s+(\S+)$/i);
    const t = m ? tokens.get(m[1]!) : undefined;
    if (!t) return new Error('invalid bearer token');
    if (t.expiresAt !== undefined && Date.now() >= t.expiresAt) return new Error('token has expired');
    return authenticatedUser(t.user, t.groups ?? userGroups.get(t.user) ?? []);
  }

  /**
   * kube-apiserver's union of authenticators in its order (pkg/kubeapiserver/authenticator/config.go): the
   * x509 client certificate first, then bearer tokens; the first that authenticates wins, so a valid
   * certificate wins over any token sent with it, and a certificate the CA did not sign falls through to the
   * token. When something was presented and nothing authenticated, 401 (the anonymous authenticator comes
   * after the union with FailOnError). Without any credential, the public paths are readable as
   * system:anonymous (system:public-info-viewer); anything else is 401, as before.
   */
  function authenticate(req: IncomingMessage, path: string): { user: UserInfo; method: 'x509' | 'token' | 'anonymous' } {
    const cert = certificateUser(req);
    if (cert && !(cert instanceof Error)) return { user: cert, method: 'x509' };
    const token = tokenUser(req);
    if (token && !(token instanceof Error)) return { user: token, method: 'token' };
    if (cert || token) throw unauthorized();
    if (PUBLIC_PATHS.has(path)) return { user: { name: ANONYMOUS, groups: [ALL_UNAUTHENTICATED], extra: {} }, method: 'anonymous' };
    throw unauthorized();
  }

  /** A user's rights: its own rules and those bound to each of its groups. */
  const rulesOf = (u: UserInfo): PolicyRule[] => [...(userRules.get(u.name) ?? []), ...u.groups.flatMap((g) => groupRules.get(g) ?? [])];

  /** The 403 the authorizer's denial becomes (also the impersonation filter's, through responsewriters.Forbidden). */
  function authorizeUser(u: UserInfo, a: Omit<RequestAttributes, 'user'>): void {
    const attrs: RequestAttributes = { ...a, user: u.name };
    if (allows(rulesOf(u), attrs)) return;
    const gr = qualified(a.resource, a.group);
    throw new ApiError(403, 'Forbidden', forbiddenMessage(attrs, gr), {
      ...(a.name !== undefined ? { name: a.name } : {}),
      ...(a.group ? { group: a.group } : {}),
      kind: a.resource,
    });
  }

  const authorize = (caller: Caller, a: Omit<RequestAttributes, 'user'>) => authorizeUser(caller.user, a);

  /**
   * Authentication, then the impersonation filter (test/sim/kube/impersonation.ts), as the handler chain
   * runs them; fills the audit fields as it learns them.
   */
  function identify(req: IncomingMessage, path: string, note: ApiAuditIdentity): Caller {
    const { user: authenticated, method } = authenticate(req, path);
    note.user = authenticated.name;
    note.authn = method;
    const asked = impersonationHeaders(req);
    if (!asked) return { authenticated, user: authenticated };
    note.impersonation = asked;
    const acting = impersonate(req, asked, authenticated, (a) => authorizeUser(authenticated, a));
    if (!acting) return { authenticated, user: authenticated };
    // The audit event's impersonatedUser (audit.LogImpersonatedUser), written only once impersonation is allowed.
    note.impersonatedUser = acting.name;
    note.impersonatedGroups = acting.groups;
    if (acting.uid !== undefined) note.impersonatedUid = acting.uid;
    return { authenticated, user: acting };
  }

  /** Splits a resource URL; undefined when it is not one (discovery and unknown paths). */
  function parseResourcePath(segs: string[]): Target | 'discovery' | undefined {
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === 'api' && segs[1] === 'v1') [group, version, rest] = ['', 'v1', segs.slice(2)];
    else if (segs[0] === 'apis' && segs.length >= 3) [group, version, rest] = [segs[1]!, segs[2]!, segs.slice(3)];
    else return undefined;
    if (!rest.length) return 'discovery';
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1]!;
      rest = rest.slice(2);
    }
    const info = findResource(group, version, rest[0]!, served);
    if (!info || rest.length > 3) return undefined;
    if (namespace !== undefined && !info.namespaced) return undefined;
    const t: Target = { info };
    if (namespace !== undefined) t.namespace = namespace;
    if (rest[1] !== undefined) t.name = rest[1];
    if (rest[2] !== undefined) t.subresource = rest[2];
    return t;
  }

  function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json', headers: Record<string, string> = {}) {
    const data = Buffer.from(JSON.stringify(body));
    res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': String(data.length), 'Cache-Control': 'no-cache, private', ...headers });
    res.end(data);
  }

  function discovery(req: IncomingMessage, res: ServerResponse, segs: string[]): boolean {
    const p = segs.join('/');
    const fmt = negotiateDiscovery(req.headers.accept);
    if (p === 'api' || p === 'apis') {
      if (fmt.kind === 'aggregated') {
        sendJson(res, 200, aggregatedDiscovery(p, fmt.version, served), aggregatedContentType(fmt.version));
      } else {
        sendJson(res, 200, p === 'api' ? legacyApiVersions(`127.0.0.1:${port}`) : legacyGroupList(served));
      }
      return true;
    }
    if (segs[0] === 'apis' && segs.length === 2) {
      const g = legacyGroupDoc(segs[1]!, served);
      if (!g) return false;
      sendJson(res, 200, g);
      return true;
    }
    const list = p === 'api/v1' ? resourceList('', 'v1', served) : segs[0] === 'apis' && segs.length === 3 ? resourceList(segs[1]!, segs[2]!, served) : undefined;
    if (!list) return false;
    sendJson(res, 200, list);
    return true;
  }

  function verbOf(method: string, t: Target, query: URLSearchParams): string {
    switch (method) {
      case 'GET':
      case 'HEAD':
        if (t.name !== undefined) return 'get';
        return ['true', '1'].includes(query.get('watch') ?? '') ? 'watch' : 'list';
      case 'POST':
        return 'create';
      case 'PUT':
        return 'update';
      case 'PATCH':
        return 'patch';
      case 'DELETE':
        return t.name !== undefined ? 'delete' : 'deletecollection';
      default:
        throw methodNotAllowed();
    }
  }

  function selfSubjectAccessReview(caller: Caller, req: IncomingMessage, body: Buffer) {
    let review: { spec?: { resourceAttributes?: Record<string, string>; nonResourceAttributes?: Record<string, string> } };
    const ct = mediaType(req);
    if (ct === 'application/vnd.kubernetes.protobuf' || body.subarray(0, 4).equals(PROTOBUF_MAGIC)) {
      try {
        review = decodeSelfSubjectAccessReview(body) as typeof review;
      } catch (e) {
        throw badRequest(`unable to decode SelfSubjectAccessReview: ${(e as Error).message}`);
      }
    } else if (ct === 'application/json' || ct === '') {
      review = parseJson(body) as typeof review;
    } else {
      throw unsupportedMediaType(ct, ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']);
    }
    const spec = review.spec ?? {};
    let allowed: boolean;
    if (spec.resourceAttributes) {
      const ra = spec.resourceAttributes;
      // Answered for whom the request acts as: with impersonation, the impersonated user and groups.
      const a: RequestAttributes = { user: caller.user.name, verb: ra['verb'] ?? '', group: ra['group'] ?? '', resource: ra['resource'] ?? '' };
      if (ra['subresource']) a.subresource = ra['subresource'];
      if (ra['namespace']) a.namespace = ra['namespace'];
      if (ra['name']) a.name = ra['name'];
      allowed = allows(rulesOf(caller.user), a, 'review');
    } else if (spec.nonResourceAttributes) {
      const path = spec.nonResourceAttributes['path'] ?? '';
      allowed =
        (spec.nonResourceAttributes['verb'] === 'get' && /^\/(version|healthz|livez|readyz|api|apis|openapi)(\/|$)/.test(path)) ||
        rulesOf(caller.user).some((r) => r.verbs.includes('*') && r.resources.includes('*'));
    } else {
      throw new ApiError(
        422,
        'Invalid',
        'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
      );
    }
    return {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec,
      status: { allowed, ...(allowed ? { reason: `allowed by simulated RBAC rules of user "${caller.user.name}"` } : {}) },
    };
  }

  /**
   * SelfSubjectReview (`kubectl auth whoami`): the user the server sees, the impersonated one when impersonating
   * (kubernetes/website content/en/docs/reference/access-authn-authz/authentication.md, "API access to
   * authentication information for a client"). Every authenticated user may create it (system:basic-user).
   */
  function selfSubjectReview(caller: Caller, version: string) {
    const u = caller.user;
    return {
      kind: 'SelfSubjectReview',
      apiVersion: `authentication.k8s.io/${version}`,
      metadata: { creationTimestamp: null },
      status: {
        userInfo: { username: u.name, ...(u.uid !== undefined ? { uid: u.uid } : {}), groups: u.groups, ...(Object.keys(u.extra).length ? { extra: u.extra } : {}) },
      },
    };
  }

  function listKind(r: ResourceInfo, items: KubeObject[]) {
    return { kind: `${r.kind}List`, apiVersion: gvOf(r), metadata: { resourceVersion: store.listRevision() }, items };
  }

  function respondObjects(req: IncomingMessage, res: ServerResponse, r: ResourceInfo, query: URLSearchParams, single: KubeObject | undefined, items: KubeObject[]) {
    if (wantsTable(req.headers.accept)) {
      const include = (query.get('includeObject') as IncludeObject | null) ?? 'Metadata';
      const objects = single ? [single] : items;
      const rv = single ? (single.metadata.resourceVersion ?? '') : store.listRevision();
      const apiVersion = tableApiVersion(req.headers.accept);
      sendJson(res, 200, isEventResource(r) ? eventTable(r, objects, rv, include, apiVersion) : toTable(r.name, objects, rv, include, apiVersion));
      return;
    }
    const views = items.map((o) => viewOf(r, o));
    sendJson(res, 200, single ? viewOf(r, single) : listKind(r, views));
  }

  function watch(req: IncomingMessage, res: ServerResponse, t: Target, query: URLSearchParams) {
    const r = t.info;
    const labels = query.get('labelSelector') ?? undefined;
    const fields = fieldSelectorFor(r, query);
    const matchesLabels = (o: KubeObject) => store.list(r.store!, o.metadata.namespace, labels).some((x) => x.metadata.uid === o.metadata.uid);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    // The headers go out at once, as the real watch handler flushes them (staging/src/k8s.io/apiserver/pkg/endpoints/
    // handlers/watch.go): otherwise a client giving up on an idle watch (kubectl rollout status --timeout) hangs.
    res.flushHeaders();
    watches.add(res);
    const write = (type: string, object: KubeObject) => res.write(`${JSON.stringify({ type, object: viewOf(r, object) })}\n`);
    const rv = query.get('resourceVersion');
    if (!rv || rv === '0') {
      for (const o of store.list(r.store!, t.namespace, labels)) if (fields(o)) write('ADDED', o);
    }
    const off = store.onChange((e) => {
      if (e.resource !== r.store) return;
      if (t.namespace !== undefined && e.object.metadata.namespace !== t.namespace) return;
      if (!fields(e.object)) return;
      if (e.type !== 'DELETED' && labels && !matchesLabels(e.object)) return;
      write(e.type, e.object);
    });
    const timeout = Number(query.get('timeoutSeconds') ?? 0);
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    const stop = () => {
      off();
      if (timer) clearTimeout(timer);
      watches.delete(res);
    };
    res.on('close', stop);
    req.on('close', () => {
      stop();
      if (!res.writableEnded) res.end();
    });
  }

  async function resourceRequest(caller: Caller, req: IncomingMessage, res: ServerResponse, t: Target, query: URLSearchParams) {
    const method = req.method ?? 'GET';
    const r = t.info;
    const verb = verbOf(method, t, query);
    const attrs: Omit<RequestAttributes, 'user'> = { verb, group: r.group, resource: r.name };
    if (t.subresource) attrs.subresource = t.subresource;
    if (t.namespace !== undefined) attrs.namespace = t.namespace;
    if (t.name !== undefined) attrs.name = t.name;
    else if (verb === 'list' || verb === 'watch') {
      const named = requestNameFromFieldSelector(query.get('fieldSelector'));
      if (named !== undefined) attrs.name = named;
    }
    authorize(caller, attrs);

    if (r.name === 'selfsubjectaccessreviews') {
      if (verb !== 'create' || t.name !== undefined) throw methodNotAllowed();
      sendJson(res, 201, selfSubjectAccessReview(caller, req, await readBody(req)));
      return;
    }
    if (t.subresource === 'exec') {
      // Reached only without an Upgrade header: the real server wants a streaming upgrade.
      if (method !== 'GET' && method !== 'POST') throw methodNotAllowed();
      throw badRequest('Upgrade request required');
    }
    if (t.subresource !== undefined && !r.subresources.some((s) => s.name === t.subresource && s.verbs.includes(verb))) {
      throw r.subresources.some((s) => s.name === t.subresource) ? methodNotAllowed() : pathNotFound();
    }
    if (!t.subresource && !r.verbs.includes(verb)) throw methodNotAllowed();
    const bucket = r.store!;
    const name = t.name ?? '';
    const dryRun = query.getAll('dryRun').includes('All');
    // Who writes, for metadata.managedFields (test/sim/kube/managed-fields.ts).
    const manager = managerOrUserAgent(query.get('fieldManager'), req.headers['user-agent']);

    switch (verb) {
      case 'get': {
        const o = store.get(bucket, t.namespace, name);
        if (!o) throw notFound(r.name, r.group, name);
        respondObjects(req, res, r, query, o, []);
        return;
      }
      case 'list': {
        const fields = fieldSelectorFor(r, query);
        const items = store.list(bucket, t.namespace, query.get('labelSelector') ?? undefined).filter(fields);
        respondObjects(req, res, r, query, undefined, items);
        return;
      }
      case 'watch':
        watch(req, res, t, query);
        return;
      case 'create': {
        const body = await readBody(req);
        const ct = mediaType(req);
        if (ct !== 'application/json' && ct !== '') throw unsupportedMediaType(ct, ['application/json', 'application/yaml']);
        const requested = prepareWrite(r, parseJson(body), t.namespace);
        if (r.namespaced && !store.get('namespaces', undefined, requested.metadata.namespace!)) {
          throw notFound('namespaces', '', requested.metadata.namespace!);
        }
        // An Event is decoded, validated and stored in the core v1 shape, whichever group was asked (events.ts).
        const obj = isEventResource(r) ? eventToStore(r, requested) : requested;
        delete obj.metadata.resourceVersion;
        // Fields are tracked in the request's version (an Event's f:note, not its stored f:message).
        obj.metadata['managedFields'] = updateManagedFields(undefined, viewOf(r, obj), manager, gvOf(r), t.subresource);
        if (dryRun) {
          if (store.get(bucket, t.namespace, obj.metadata.name)) throw alreadyExists(r.name, r.group, obj.metadata.name);
          sendJson(res, 201, viewOf(r, obj));
          return;
        }
        let created: KubeObject;
        try {
          // Events have no generation (their registry's strategy sets none).
          if (r.group && !isEventResource(r)) obj.metadata['generation'] = 1;
          created = store.create(bucket, obj);
        } catch (e) {
          storeError(e, r, obj.metadata.name);
        }
        sendJson(res, 201, viewOf(r, created));
        return;
      }
      case 'update':
      case 'patch': {
        const body = await readBody(req);
        const current = store.get(bucket, t.namespace, name);
        let next: unknown;
        const ct = mediaType(req);
        if (verb === 'update') {
          if (ct !== 'application/json' && ct !== '') throw unsupportedMediaType(ct, ['application/json', 'application/yaml']);
          if (!current) throw notFound(r.name, r.group, name);
          next = parseJson(body);
        } else {
          const accepted = [PATCH_TYPES.json, PATCH_TYPES.merge, ...(r.strategicMerge ? [PATCH_TYPES.strategic] : [])];
          if (!accepted.includes(ct as (typeof accepted)[number])) throw unsupportedMediaType(ct, accepted);
          if (!current) throw notFound(r.name, r.group, name);
          const patch = parseJson(body);
          // A patch applies to the request's own view of the object (an Event's group shape).
          const base = viewOf(r, current);
          next = ct === PATCH_TYPES.json ? jsonPatch(base, patch) : ct === PATCH_TYPES.merge ? mergePatch(base, patch) : strategicMergePatch(base, patch);
        }
        const obj = prepareWrite(r, next, t.namespace, name);
        let merged = applySubresourceRules(r, current, obj, t.subresource);
        if (r.name === 'secrets' && faults.secretWriteConflicts > 0 && (faults.secretWriteConflictName ?? name) === name) {
          faults.secretWriteConflicts -= 1;
          throw conflict(r.name, r.group, name);
        }
        // Preconditions, then validation, then field tracking, as the real update path orders them.
        const rv = merged.metadata.resourceVersion;
        if (rv && rv !== current.metadata.resourceVersion) throw conflict(r.name, r.group, name);
        checkImmutable(r, current, merged);
        // An Event is decoded, validated as an update and stored in the core v1 shape (events.ts).
        if (isEventResource(r)) merged = eventToStore(r, merged, current);
        // A write that changes nothing is not stored: no new resourceVersion, no managedFields change.
        if (sameFields(current, merged)) {
          sendJson(res, 200, viewOf(r, current));
          return;
        }
        merged.metadata['managedFields'] = updateManagedFields(viewOf(r, current), viewOf(r, merged), manager, gvOf(r), t.subresource);
        if (dryRun) {
          sendJson(res, 200, viewOf(r, merged));
          return;
        }
        let updated: KubeObject;
        try {
          updated = store.update(bucket, merged);
        } catch (e) {
          storeError(e, r, name);
        }
        sendJson(res, 200, viewOf(r, updated));
        return;
      }
      case 'delete': {
        const current = store.get(bucket, t.namespace, name);
        if (!current) throw notFound(r.name, r.group, name);
        // DeleteOptions.preconditions (resourceVersion, uid) refuse with 409 Conflict when they do not hold
        // (kubernetes/kubernetes staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/types.go, Preconditions).
        const raw = await readBody(req);
        const options = (raw.length ? parseJson(raw) : {}) as { preconditions?: { resourceVersion?: string; uid?: string } };
        const pre = options.preconditions ?? {};
        if ((pre.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) || (pre.uid && pre.uid !== current.metadata.uid)) {
          throw conflict(r.name, r.group, name);
        }
        if (dryRun) {
          sendJson(res, 200, successStatus(r.name, r.group, name, current.metadata.uid));
          return;
        }
        try {
          store.delete(bucket, t.namespace, name);
        } catch (e) {
          storeError(e, r, name);
        }
        sendJson(res, 200, successStatus(r.name, r.group, name, current.metadata.uid));
        return;
      }
      default:
        throw methodNotAllowed();
    }
  }

  async function route(caller: Caller, req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams) {
    const segs = path.split('/').filter(Boolean);
    const method = req.method ?? 'GET';
    if (PUBLIC_PATHS.has(path)) {
      if (method !== 'GET') throw methodNotAllowed();
      if (path === '/version') sendJson(res, 200, SERVER_VERSION);
      else {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('ok');
      }
      return;
    }
    const review = path.match(/^\/apis\/authentication\.k8s\.io\/(v1|v1beta1)\/selfsubjectreviews$/);
    if (review) {
      if (method !== 'POST') throw methodNotAllowed();
      await readBody(req);
      sendJson(res, 201, selfSubjectReview(caller, review[1]!));
      return;
    }
    const target = parseResourcePath(segs);
    if (target === 'discovery' || (target === undefined && (path === '/api' || path === '/apis' || (segs[0] === 'apis' && segs.length <= 3)))) {
      if (method !== 'GET') throw methodNotAllowed();
      if (discovery(req, res, segs)) return;
      throw pathNotFound();
    }
    if (!target) throw pathNotFound();
    await resourceRequest(caller, req, res, target, query);
  }

  function sendError(res: ServerResponse, e: unknown) {
    if (e instanceof PlainTextError) {
      // http.Error: text/plain, nosniff, the message and a newline.
      if (res.headersSent) return void res.destroy();
      res.writeHead(e.code, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end(`${e.message}\n`);
      return;
    }
    const err = e instanceof ApiError ? e : new ApiError(500, 'InternalError', `Internal error occurred: ${(e as Error)?.message ?? String(e)}`);
    if (!(e instanceof ApiError)) console.error('[sim apiserver]', e);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendJson(res, err.code, err.toStatus(), 'application/json', err.headers);
  }

  /** The injected 500/429/503 for this route, if a test asked for one. */
  function injectedFault(method: string, path: string): ApiError | undefined {
    const code = faults.take(faults.apiErrors, method, path);
    if (code === null) return undefined;
    if (code === 429) {
      return new ApiError(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds: 1 }, { 'Retry-After': '1' });
    }
    if (code === 503) return new ApiError(503, 'ServiceUnavailable', 'The service is unavailable (simulated fault).', {});
    return new ApiError(code, 'InternalError', 'Internal error occurred: simulated fault', { causes: [{ message: 'simulated fault' }] });
  }

  /** The exec plugin's token source (test-only, not a Kubernetes API, not audited): see exec-credential.ts. */
  async function mint(req: IncomingMessage, res: ServerResponse) {
    try {
      const body = await readBody(req);
      if (req.method !== 'POST') throw methodNotAllowed();
      if (req.headers[MINT_KEY_HEADER] !== mintKey) throw unauthorized();
      const o = parseJson(body) as { user?: unknown; groups?: unknown; ttlMs?: unknown };
      if (typeof o.user !== 'string' || !o.user) throw badRequest('user is required');
      const groups = Array.isArray(o.groups) ? o.groups.map(String) : undefined;
      const ttlMs = typeof o.ttlMs === 'number' && o.ttlMs >= 0 ? o.ttlMs : DEFAULT_MINT_TTL_MS;
      sendJson(res, 201, issueToken(o.user, ttlMs, groups ? { groups } : {}));
    } catch (e) {
      sendError(res, e);
    }
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const uri = req.url ?? '/';
    const u = new URL(uri, url);
    if (u.pathname === MINT_PATH) {
      void mint(req, res);
      return;
    }
    const note: ApiAuditIdentity = { user: ANONYMOUS, host: req.headers.host ?? '' };
    res.on('close', () => {
      audit.record({ kind: 'api', time: Date.now(), ...note, method: req.method ?? 'GET', uri, status: res.statusCode });
    });
    void (async () => {
      try {
        if (faults.apiLatencyMs > 0) await sleep(faults.apiLatencyMs);
        const caller = identify(req, u.pathname, note);
        const fault = injectedFault(req.method ?? 'GET', u.pathname);
        if (fault) throw fault;
        await route(caller, req, res, u.pathname, u.searchParams);
      } catch (e) {
        sendError(res, e);
      }
    })();
  });

  /** Writes a Status reply (or the impersonation filter's plain text) on a socket that has not been upgraded. */
  function refuseUpgrade(socket: Duplex, err: ApiError | PlainTextError) {
    if (err instanceof PlainTextError) {
      const text = Buffer.from(`${err.message}\n`);
      socket.end(
        `HTTP/1.1 ${err.code} Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nContent-Length: ${text.length}\r\nConnection: close\r\n\r\n${text.toString()}`,
      );
      return;
    }
    const body = Buffer.from(JSON.stringify(err.toStatus()));
    const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error' }[err.code] ?? 'Error';
    const extra = Object.entries(err.headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.end(`HTTP/1.1 ${err.code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n${extra}Connection: close\r\n\r\n${body.toString()}`);
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const uri = req.url ?? '/';
    const u = new URL(uri, url);
    const method = req.method ?? 'GET';
    const note: ApiAuditIdentity = { user: ANONYMOUS, host: req.headers.host ?? '' };
    let status = 101;
    socket.on('error', () => {});
    void (async () => {
      try {
        if (faults.apiLatencyMs > 0) await sleep(faults.apiLatencyMs);
        // The upgrade runs the same chain: impersonation applies to the exec WebSocket too.
        const caller = identify(req, u.pathname, note);
        const fault = injectedFault(method, u.pathname);
        if (fault) throw fault;
        const target = parseResourcePath(u.pathname.split('/').filter(Boolean));
        if (!target || target === 'discovery' || target.info.name !== 'pods' || target.subresource !== 'exec' || target.name === undefined) {
          throw badRequest('Upgrade requests are only served on pods/{name}/exec');
        }
        // kubectl and client-node upgrade with GET: clusters before 1.35 authorize it as "get", 1.35+ also
        // as "create" (AuthorizePodWebsocketUpgradeCreatePermission). The sim wants both, so a Role that
        // works here works on either.
        authorize(caller, { verb: 'create', group: '', resource: 'pods', subresource: 'exec', namespace: target.namespace!, name: target.name });
        authorize(caller, { verb: 'get', group: '', resource: 'pods', subresource: 'exec', namespace: target.namespace!, name: target.name });
        const exec = validateExec(
          // The exec audit event's user is the authenticated one, as the api events' `user`.
          { namespace: target.namespace!, pod: target.name, query: u.searchParams, user: caller.authenticated.name },
          {
            store,
            executor,
            audit,
            faults,
            protocols: () => execProtocols,
          },
        );
        const isWebSocket = (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
        if (!isWebSocket || method !== 'GET') throw spdyRefusal(req, execProtocols);
        // ws completes the handshake even when no subprotocol matches, so refuse before upgrading.
        const protocol = chooseProtocol(req, execProtocols);
        if (faults.execLatencyMs > 0) await sleep(faults.execLatencyMs);
        await execEndpoint.upgrade(req, socket, head, exec, protocol);
      } catch (e) {
        const err = e instanceof ApiError || e instanceof PlainTextError ? e : new ApiError(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`);
        status = err.code;
        refuseUpgrade(socket, err);
      } finally {
        audit.record({ kind: 'api', time: Date.now(), ...note, method, uri, status });
      }
    })();
  });

  function writeKubeconfigFile(k: Omit<KubeconfigInput, 'server' | 'caFile' | 'file'> & { file?: string }): string {
    const file = k.file ?? join(dir, `kubeconfig-${k.user.replace(/[^A-Za-z0-9_.-]/g, '_')}-${++kubeconfigCount}`);
    writeFileSync(file, kubeconfigYaml({ ...k, server: url, caFile: certs.caFile }), { mode: 0o600 });
    return file;
  }

  ensurePluginExecutable();

  return {
    url,
    caFile: certs.caFile,
    clientCaFile: certs.caFile,
    users,
    setExecProtocols(p) {
      execProtocols = [...p];
    },
    addUser,
    addGroup(name, rules) {
      groupRules.set(name, rules);
    },
    issueToken: (user, ttlMs, opts) => issueToken(user, ttlMs, opts).token,
    async clientCertUser(user, o = {}) {
      const stem = o.name ?? `cert-${user.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
      const groups = o.groups ?? userGroups.get(user) ?? [];
      const cert = await makeClientCert(join(dir, 'client-certs'), { user, groups, name: stem, ...(o.untrusted ? {} : { ca: certs }) });
      const kubeconfig = writeKubeconfigFile({
        file: join(dir, `kubeconfig-${stem}`),
        user,
        clientCertificate: cert.certFile,
        clientKey: cert.keyFile,
        ...(o.token !== undefined ? { token: o.token } : {}),
        ...(o.namespace !== undefined ? { namespace: o.namespace } : {}),
      });
      return { ...cert, kubeconfig };
    },
    execKubeconfig(o) {
      const file = o.file ?? join(dir, `kubeconfig-exec-${o.user.replace(/[^A-Za-z0-9_.-]/g, '_')}-${++kubeconfigCount}`);
      const log = o.log ?? `${file}.exec-log`;
      writeFileSync(file, kubeconfigYaml(execKubeconfigInput(o, { url, caFile: certs.caFile }, { url, caFile: certs.caFile, key: mintKey }, file, log)), { mode: 0o600 });
      return { kubeconfig: file, log, invocations: () => readExecLog(log) };
    },
    writeKubeconfig: writeKubeconfigFile,
    cutExecStreams: () => execEndpoint.cutAll(),
    async close() {
      for (const w of watches) w.end();
      execEndpoint.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
