// The simulated kube-apiserver: HTTPS on 127.0.0.1, bearer tokens, RBAC-like rules, discovery,
// the served resources with real status codes and Status bodies, watch, tables, and exec.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { AuditLog } from '../audit.js';
import type { Faults } from '../faults.js';
import type { PodExecutor } from '../pods/executor.js';
import { allows, BUILTIN_USERS, forbiddenMessage, requestNameFromFieldSelector, type PolicyRule, type RequestAttributes } from './authz.js';
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
import { chooseProtocol, ExecEndpoint, spdyRefusal, validateExec, type ExecProtocol } from './exec-endpoint.js';
import { kubeconfigYaml } from './kubeconfig.js';
import { managerOrUserAgent, sameFields, updateManagedFields } from './managed-fields.js';
import { applySubresourceRules, checkImmutable, prepareWrite } from './objects.js';
import { jsonPatch, mergePatch, PATCH_TYPES, strategicMergePatch } from './patch.js';
import { decodeSelfSubjectAccessReview, PROTOBUF_MAGIC } from './protobuf.js';
import { KubeStore, StoreError, type KubeObject } from './store.js';
import { alreadyExists, ApiError, badRequest, conflict, methodNotAllowed, notFound, pathNotFound, qualified, successStatus, unauthorized, unsupportedMediaType } from './status.js';
import { tableApiVersion, toTable, wantsTable, type IncludeObject } from './table.js';
import { makeCaAndServingCert } from './tls.js';

export type { PolicyRule } from './authz.js';

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

export interface ApiServer {
  url: string;
  caFile: string;
  users: Record<string, { token: string; kubeconfig: string }>;
  setExecProtocols(p: ExecProtocol[]): void;
  addUser(name: string, rules: PolicyRule[]): { token: string; kubeconfig: string };
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

interface Caller {
  name: string;
  rules: PolicyRule[];
}

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

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const { store, executor, audit, faults, dir } = opts;
  const served = opts.resources ?? RESOURCES;
  await mkdir(dir, { recursive: true });
  const certs = await makeCaAndServingCert(join(dir, 'pki'));
  let execProtocols: ExecProtocol[] = opts.execProtocols ?? ['v5', 'v4'];
  const callers = new Map<string, Caller>(); // by token
  const users: ApiServer['users'] = {};
  const watches = new Set<ServerResponse>();
  const execEndpoint = new ExecEndpoint({ store, executor, audit, faults, protocols: () => execProtocols });

  const server: Server = createServer({
    cert: await readFile(certs.certFile),
    key: await readFile(certs.keyFile),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;

  function addUser(name: string, rules: PolicyRule[]) {
    const token = randomBytes(24).toString('hex');
    const kubeconfig = join(dir, `kubeconfig-${name}`);
    writeFileSync(kubeconfig, kubeconfigYaml({ server: url, caFile: certs.caFile, user: name, token }), { mode: 0o600 });
    for (const [t, c] of callers) if (c.name === name) callers.delete(t);
    callers.set(token, { name, rules });
    users[name] = { token, kubeconfig };
    return { token, kubeconfig };
  }
  for (const [name, rules] of Object.entries(BUILTIN_USERS)) addUser(name, rules);

  /** Bearer token → caller; public paths may be read anonymously, as system:public-info-viewer allows. */
  function authenticate(req: IncomingMessage, path: string): Caller {
    const h = req.headers.authorization;
    if (!h) {
      if (PUBLIC_PATHS.has(path)) return { name: 'system:anonymous', rules: [] };
      throw unauthorized();
    }
    const m = h.match(/^Bearer\s+(\S+)$/i);
    const c = m ? callers.get(m[1]!) : undefined;
    if (!c) throw unauthorized();
    return c;
  }

  function authorize(caller: Caller, a: Omit<RequestAttributes, 'user'>): void {
    const attrs: RequestAttributes = { ...a, user: caller.name };
    if (allows(caller.rules, attrs)) return;
    const gr = qualified(a.resource, a.group);
    throw new ApiError(403, 'Forbidden', forbiddenMessage(attrs, gr), {
      ...(a.name !== undefined ? { name: a.name } : {}),
      ...(a.group ? { group: a.group } : {}),
      kind: a.resource,
    });
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
      const a: RequestAttributes = { user: caller.name, verb: ra['verb'] ?? '', group: ra['group'] ?? '', resource: ra['resource'] ?? '' };
      if (ra['subresource']) a.subresource = ra['subresource'];
      if (ra['namespace']) a.namespace = ra['namespace'];
      if (ra['name']) a.name = ra['name'];
      allowed = allows(caller.rules, a, 'review');
    } else if (spec.nonResourceAttributes) {
      const path = spec.nonResourceAttributes['path'] ?? '';
      allowed =
        (spec.nonResourceAttributes['verb'] === 'get' && /^\/(version|healthz|livez|readyz|api|apis|openapi)(\/|$)/.test(path)) ||
        caller.rules.some((r) => r.verbs.includes('*') && r.resources.includes('*'));
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
      status: { allowed, ...(allowed ? { reason: `allowed by simulated RBAC rules of user "${caller.name}"` } : {}) },
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
      sendJson(res, 200, toTable(r.name, objects, rv, include, tableApiVersion(req.headers.accept)));
      return;
    }
    sendJson(res, 200, single ?? listKind(r, items));
  }

  function watch(req: IncomingMessage, res: ServerResponse, t: Target, query: URLSearchParams) {
    const r = t.info;
    const labels = query.get('labelSelector') ?? undefined;
    const fields = fieldSelectorMatcher(query.get('fieldSelector'));
    const matchesLabels = (o: KubeObject) => store.list(r.store!, o.metadata.namespace, labels).some((x) => x.metadata.uid === o.metadata.uid);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    watches.add(res);
    const write = (type: string, object: KubeObject) => res.write(`${JSON.stringify({ type, object })}\n`);
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
        const fields = fieldSelectorMatcher(query.get('fieldSelector'));
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
        const obj = prepareWrite(r, parseJson(body), t.namespace);
        if (r.namespaced && !store.get('namespaces', undefined, obj.metadata.namespace!)) {
          throw notFound('namespaces', '', obj.metadata.namespace!);
        }
        delete obj.metadata.resourceVersion;
        obj.metadata['managedFields'] = updateManagedFields(undefined, obj, manager, gvOf(r), t.subresource);
        if (dryRun) {
          if (store.get(bucket, t.namespace, obj.metadata.name)) throw alreadyExists(r.name, r.group, obj.metadata.name);
          sendJson(res, 201, obj);
          return;
        }
        let created: KubeObject;
        try {
          if (r.group) obj.metadata['generation'] = 1;
          created = store.create(bucket, obj);
        } catch (e) {
          storeError(e, r, obj.metadata.name);
        }
        sendJson(res, 201, created);
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
          next = ct === PATCH_TYPES.json ? jsonPatch(current, patch) : ct === PATCH_TYPES.merge ? mergePatch(current, patch) : strategicMergePatch(current, patch);
        }
        const obj = prepareWrite(r, next, t.namespace, name);
        const merged = applySubresourceRules(r, current, obj, t.subresource);
        if (r.name === 'secrets' && faults.secretWriteConflicts > 0 && (faults.secretWriteConflictName ?? name) === name) {
          faults.secretWriteConflicts -= 1;
          throw conflict(r.name, r.group, name);
        }
        // Preconditions, then validation, then field tracking, as the real update path orders them.
        const rv = merged.metadata.resourceVersion;
        if (rv && rv !== current.metadata.resourceVersion) throw conflict(r.name, r.group, name);
        checkImmutable(r, current, merged);
        // A write that changes nothing is not stored: no new resourceVersion, no managedFields change.
        if (sameFields(current, merged)) {
          sendJson(res, 200, current);
          return;
        }
        merged.metadata['managedFields'] = updateManagedFields(current, merged, manager, gvOf(r), t.subresource);
        if (dryRun) {
          sendJson(res, 200, merged);
          return;
        }
        let updated: KubeObject;
        try {
          updated = store.update(bucket, merged);
        } catch (e) {
          storeError(e, r, name);
        }
        sendJson(res, 200, updated);
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

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const uri = req.url ?? '/';
    const u = new URL(uri, url);
    let user = 'system:anonymous';
    res.on('close', () => {
      audit.record({ kind: 'api', time: Date.now(), user, method: req.method ?? 'GET', uri, status: res.statusCode });
    });
    void (async () => {
      try {
        if (faults.apiLatencyMs > 0) await sleep(faults.apiLatencyMs);
        const caller = authenticate(req, u.pathname);
        user = caller.name;
        const fault = injectedFault(req.method ?? 'GET', u.pathname);
        if (fault) throw fault;
        await route(caller, req, res, u.pathname, u.searchParams);
      } catch (e) {
        sendError(res, e);
      }
    })();
  });

  /** Writes a Status reply on a socket that has not been upgraded. */
  function refuseUpgrade(socket: Duplex, err: ApiError) {
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
    let user = 'system:anonymous';
    let status = 101;
    socket.on('error', () => {});
    void (async () => {
      try {
        if (faults.apiLatencyMs > 0) await sleep(faults.apiLatencyMs);
        const caller = authenticate(req, u.pathname);
        user = caller.name;
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
          { namespace: target.namespace!, pod: target.name, query: u.searchParams, user: caller.name },
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
        const err = e instanceof ApiError ? e : new ApiError(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`);
        status = err.code;
        refuseUpgrade(socket, err);
      } finally {
        audit.record({ kind: 'api', time: Date.now(), user, method, uri, status });
      }
    })();
  });

  return {
    url,
    caFile: certs.caFile,
    users,
    setExecProtocols(p) {
      execProtocols = [...p];
    },
    addUser,
    async close() {
      for (const w of watches) w.end();
      execEndpoint.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
