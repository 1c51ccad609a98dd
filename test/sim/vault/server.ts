// A Vault server with just what Vault-backed RECs use: token auth and KV version 2 (data/ and metadata/
// paths, versions, check-and-set), HTTPS on 127.0.0.1, an optional namespace header, a sealed switch.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { AuditLog } from '../audit.js';
import type { Faults } from '../faults.js';

interface Version {
  data: Record<string, unknown>;
  created_time: string;
  deletion_time: string;
  destroyed: boolean;
}

interface Entry {
  versions: Version[];
  created_time: string;
  updated_time: string;
}

export interface VaultOptions {
  audit: AuditLog;
  faults: Faults;
  tls: { key: string; cert: string };
  /** KV v2 mounts (default ["secret"]). */
  mounts?: string[];
  /** The root token; generated when omitted. */
  rootToken?: string;
}

const iso = () => new Date().toISOString();

export class VaultServer {
  readonly rootToken: string;
  private readonly tokens = new Set<string>();
  private readonly mounts: Set<string>;
  /** Key: `${namespace}|${mount}|${path}`. */
  private readonly kv = new Map<string, Entry>();
  private server: Server | undefined;
  addr = '';

  constructor(private readonly o: VaultOptions) {
    this.rootToken = o.rootToken ?? `hvs.${randomBytes(18).toString('base64url')}`;
    this.tokens.add(this.rootToken);
    this.mounts = new Set(o.mounts ?? ['secret']);
  }

  async listen(): Promise<string> {
    const server = createServer({ key: this.o.tls.key, cert: this.o.tls.cert }, (req, res) => {
      this.handle(req, res).catch((e: unknown) => this.send(res, 500, { errors: [String(e)] }));
    });
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.addr = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.addr;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  // ---- test-facing ----

  createToken(): string {
    const t = `hvs.${randomBytes(18).toString('base64url')}`;
    this.tokens.add(t);
    return t;
  }

  revokeToken(token: string): void {
    this.tokens.delete(token);
  }

  /** The latest live version's data, or undefined. */
  read(mount: string, path: string, namespace = ''): Record<string, unknown> | undefined {
    const v = this.kv.get(key(namespace, mount, path))?.versions.at(-1);
    return v && !v.destroyed && !v.deletion_time ? structuredClone(v.data) : undefined;
  }

  /** Writes a new version (no check-and-set); returns its number. */
  write(mount: string, path: string, data: Record<string, unknown>, namespace = ''): number {
    return this.put(key(namespace, mount, path), data);
  }

  currentVersion(mount: string, path: string, namespace = ''): number {
    return this.kv.get(key(namespace, mount, path))?.versions.length ?? 0;
  }

  // ---- HTTP ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'https://vault');
    const status = await this.route(method, url, req, res);
    this.o.audit.record({ kind: 'vault', time: Date.now(), method, uri: req.url ?? '/', status });
  }

  private async route(method: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<number> {
    const reply = (status: number, body?: unknown) => (this.send(res, status, body), status);
    const raw = await readBody(req);
    if (url.pathname === '/v1/sys/health') {
      return this.o.faults.vaultSealed
        ? reply(503, { initialized: true, sealed: true, standby: false })
        : reply(200, { initialized: true, sealed: false, standby: false, version: '1.17.0' });
    }
    if (this.o.faults.vaultSealed) return reply(503, { errors: ['Vault is sealed'] });
    const token = req.headers['x-vault-token'] ?? req.headers.authorization?.replace(/^Bearer\s+/i, '');
    if (typeof token !== 'string' || !this.tokens.has(token)) return reply(403, { errors: ['permission denied'] });
    const namespace = String(req.headers['x-vault-namespace'] ?? '').replace(/^\/+|\/+$/g, '');

    if (url.pathname === '/v1/auth/token/lookup-self' && method === 'GET') {
      return reply(200, envelope({ id: token, policies: ['root'], ttl: 0, renewable: false, display_name: 'token' }));
    }

    const m = url.pathname.match(/^\/v1\/([^/]+)\/(data|metadata)\/(.+)$/);
    if (!m || !this.mounts.has(m[1]!)) {
      return reply(404, { errors: [`no handler for route "${url.pathname.replace(/^\/v1\//, '')}". route entry not found.`] });
    }
    const [, mount, kind, path] = m as unknown as [string, string, string, string];
    const k = key(namespace, mount, path.replace(/\/+$/, ''));
    const entry = this.kv.get(k);

    if (kind === 'data' && method === 'GET') {
      const wanted = Number(url.searchParams.get('version') ?? 0);
      const n = wanted || entry?.versions.length || 0;
      const v = entry?.versions[n - 1];
      if (!v) return reply(404, { errors: [] });
      const metadata = { created_time: v.created_time, custom_metadata: null, deletion_time: v.deletion_time, destroyed: v.destroyed, version: n };
      if (v.destroyed || v.deletion_time) return reply(404, { ...envelope({ data: null, metadata }), errors: [] });
      return reply(200, envelope({ data: v.data, metadata }));
    }
    if (kind === 'data' && (method === 'POST' || method === 'PUT')) {
      let body: { data?: unknown; options?: { cas?: unknown } };
      try {
        body = JSON.parse(raw.toString('utf8') || '{}') as typeof body;
      } catch {
        return reply(400, { errors: ['failed to parse JSON input'] });
      }
      if (!body.data || typeof body.data !== 'object') return reply(400, { errors: ['no data provided'] });
      const current = entry?.versions.length ?? 0;
      if (body.options?.cas !== undefined && Number(body.options.cas) !== current) {
        return reply(400, { errors: ['check-and-set parameter did not match the current version'] });
      }
      const n = this.put(k, body.data as Record<string, unknown>);
      const v = this.kv.get(k)!.versions[n - 1]!;
      return reply(200, envelope({ created_time: v.created_time, custom_metadata: null, deletion_time: '', destroyed: false, version: n }));
    }
    if (kind === 'metadata' && method === 'GET') {
      if (!entry) return reply(404, { errors: [] });
      const versions = Object.fromEntries(entry.versions.map((v, i) => [String(i + 1), { created_time: v.created_time, deletion_time: v.deletion_time, destroyed: v.destroyed }]));
      return reply(
        200,
        envelope({
          cas_required: false,
          created_time: entry.created_time,
          current_version: entry.versions.length,
          custom_metadata: null,
          delete_version_after: '0s',
          max_versions: 0,
          oldest_version: 1,
          updated_time: entry.updated_time,
          versions,
        }),
      );
    }
    return reply(405, { errors: ['unsupported operation'] });
  }

  private put(k: string, data: Record<string, unknown>): number {
    const now = iso();
    let entry = this.kv.get(k);
    if (!entry) this.kv.set(k, (entry = { versions: [], created_time: now, updated_time: now }));
    entry.versions.push({ data: structuredClone(data), created_time: now, deletion_time: '', destroyed: false });
    entry.updated_time = now;
    return entry.versions.length;
  }

  private send(res: ServerResponse, status: number, body?: unknown): void {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }
}

const key = (namespace: string, mount: string, path: string) => `${namespace}|${mount}|${path}`;

function envelope(data: unknown) {
  return {
    request_id: randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: null,
    auth: null,
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
