// A small typed client for the few Kubernetes API calls the plugin makes. The connection (trust,
// credentials, impersonation, proxy) is built here from the resolved kubeconfig as client-go builds it;
// the requests are plain HTTPS so that preconditions, error bodies and timeouts stay under our control.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { z } from 'zod';
import { usageError } from '../errors/exit-codes.js';
import { redactor } from '../output/redactor.js';
import { Credentials } from './credentials.js';
import type { ExecClusterInfo } from './exec-credential.js';
import type { ResolvedConfig } from './kubeconfig.js';
import { parseProxyUrl, proxyFromEnvironment, ProxyAgent } from './proxy.js';
import { systemRoots } from './system-roots.js';
import { VERSION } from '../version.js';

/**
 * The name every write is recorded under in metadata.managedFields (sent as `?fieldManager=` on create
 * and patch), so whoever looks at the Secret sees which change was this plugin's. The User-Agent's
 * product is the same, for the calls that carry no field manager (kube-apiserver derives it from there).
 */
export const FIELD_MANAGER = 'kubectl-reccred';

export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly apiMessage: string,
    readonly method: string,
    readonly path: string,
  ) {
    super(`${method} ${path}: ${status} ${reason}: ${apiMessage}`);
    this.name = 'KubeApiError';
  }
}

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
}

// The TLS material of a request's agent: requests with the same material can share one agent.
const TLS_KEYS = ['ca', 'cert', 'key', 'rejectUnauthorized', 'servername'] as const;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The cluster's trust settings as TLS options (client-go rest.TLSClientConfig). */
interface Trust {
  ca?: string | Buffer | string[];
  rejectUnauthorized: boolean;
  servername?: string;
}

export class KubeApi {
  private shared: { key: string; values: unknown[]; agent: http.Agent; upgrades: http.Agent } | undefined;

  private constructor(
    readonly server: string,
    private readonly trust: Trust,
    private readonly credentials: Credentials,
    private readonly proxy: URL | undefined,
    /** client-node, only for users authenticated by an auth-provider (oidc). */
    private readonly authProvider: KubeConfig | undefined,
    private readonly timeoutMs: number,
    /** Debug lines for -v; never given a body. */
    private readonly trace: (line: string) => void,
    /** The kubeconfig context the connection comes from ('' when none names it), for messages. */
    private readonly contextName = '',
  ) {}

  static async connect(config: ResolvedConfig, timeoutMs: number, trace: (line: string) => void): Promise<KubeApi> {
    const c = config.cluster.cluster;
    const server = (str(c.server) ?? '').replace(/\/+$/, '');
    let serverUrl: URL;
    try {
      serverUrl = new URL(server);
    } catch {
      throw usageError(`cluster "${config.cluster.name}": server ${JSON.stringify(withoutUserinfo(server).slice(0, 200))} is not a URL`);
    }
    const caFile = str(c['certificate-authority']);
    const caData = str(c['certificate-authority-data']);
    const ca = caFile !== undefined ? fs.readFileSync(caFile) : caData !== undefined ? Buffer.from(caData, 'base64') : undefined;
    const insecure = c['insecure-skip-tls-verify'] === true;
    const trust: Trust = { ca: ca ?? (insecure ? undefined : systemRoots()), rejectUnauthorized: !insecure, servername: str(c['tls-server-name']) };
    const proxyUrl = str(c['proxy-url']);
    const proxy = proxyUrl !== undefined ? parseProxyUrl(proxyUrl, config.cluster.name) : proxyFromEnvironment(serverUrl, process.env);
    // A proxy's own password (in its URL) is a secret like any other.
    if (proxy?.password) redactor.add(proxy.password, decodeURIComponent(proxy.password));
    const extension = Array.isArray(c.extensions)
      ? (c.extensions as { name?: unknown; extension?: unknown }[]).find((e) => e.name === 'client.authentication.k8s.io/exec')?.extension
      : undefined;
    const clusterInfo: ExecClusterInfo = {
      server,
      ...(trust.servername ? { 'tls-server-name': trust.servername } : {}),
      ...(insecure ? { 'insecure-skip-tls-verify': true } : {}),
      ...(ca ? { 'certificate-authority-data': ca.toString('base64') } : {}),
      ...(proxyUrl ? { 'proxy-url': proxyUrl } : {}),
      ...(c['disable-compression'] === true ? { 'disable-compression': true } : {}),
      ...(extension !== undefined ? { config: extension } : {}),
    };
    const secure = serverUrl.protocol === 'https:';
    if (proxy && !secure) {
      throw usageError(`cluster "${config.cluster.name}": a proxy for a plain http:// API server is not supported`, 'use the https:// address of the API server');
    }
    const credentials = new Credentials(config, secure, clusterInfo);
    // Like every other credential, an auth-provider's only over TLS.
    const authProvider = credentials.usesAuthProvider && secure ? await clientNodeFor(config) : undefined;
    if (proxy) trace(`proxy ${proxy.protocol}//${proxy.host} for ${serverUrl.host}`);
    return new KubeApi(server, trust, credentials, proxy, authProvider, timeoutMs, trace, config.contextName);
  }

  /** Credentials (token, client certificate, exec plugin, impersonation), trust, and the session's shared agent, for a request or an exec upgrade. */
  async authorize(opts: https.RequestOptions, use: 'request' | 'upgrade' = 'request'): Promise<void> {
    const creds = await this.credentials.forRequest();
    opts.headers = { ...(opts.headers as Record<string, string> | undefined), ...creds.headers };
    if (creds.cert !== undefined) opts.cert = creds.cert;
    if (creds.key !== undefined) opts.key = creds.key;
    if (this.trust.ca !== undefined) opts.ca = this.trust.ca;
    opts.rejectUnauthorized = this.trust.rejectUnauthorized;
    if (this.trust.servername !== undefined) opts.servername = this.trust.servername;
    if (this.authProvider) await this.authProvider.applyToHTTPSOptions(opts);
    this.shareAgent(opts, use);
  }

  /**
   * One keep-alive agent per session (a fleet run would otherwise pay a TLS handshake per request; it
   * also resumes TLS sessions for exec upgrades), rebuilt only when the TLS material changes (an exec
   * plugin's new client certificate). Exec upgrades take a new connection each (TLS sessions still
   * resumed), as client-go's dialer does: an idle kept-alive connection the server has just closed would
   * fail the upgrade. Through a proxy, each connection is a tunnel.
   */
  private shareAgent(opts: https.RequestOptions, use: 'request' | 'upgrade' = 'request'): void {
    const values = TLS_KEYS.map((k) => (opts as Record<string, unknown>)[k]);
    // The same objects as last time (nearly every request): the same material, without hashing it again.
    const shared = this.shared && values.every((v, i) => v === this.shared?.values[i]) ? this.shared : this.shareAgentFor(values);
    opts.agent = use === 'upgrade' ? shared.upgrades : shared.agent;
  }

  private shareAgentFor(values: unknown[]): NonNullable<KubeApi['shared']> {
    const tls: https.AgentOptions = {};
    const hash = createHash('sha256');
    for (const [i, k] of TLS_KEYS.entries()) {
      const v = values[i];
      if (v === undefined) continue;
      (tls as Record<string, unknown>)[k] = v;
      hash.update(`${k}=${Buffer.isBuffer(v) ? v.toString('base64') : JSON.stringify(v)};`);
    }
    const key = hash.digest('hex');
    if (this.shared?.key === key) {
      this.shared.values = values;
      return this.shared;
    } else {
      // The old agent is dropped, not destroyed: a request in flight on it must finish. Node unrefs idle
      // keep-alive sockets, so they never hold the process open at exit.
      const agentFor = (keepAlive: boolean) => {
        const options = { ...tls, keepAlive, maxSockets: 50 };
        return this.proxy
          ? new ProxyAgent(this.proxy, this.trust, options, this.timeoutMs)
          : new URL(this.server).protocol === 'http:'
            ? new http.Agent(options)
            : new https.Agent(options);
      };
      this.shared = { key, values, agent: agentFor(true), upgrades: agentFor(false) };
      return this.shared;
    }
  }

  async request<S extends z.ZodType>(method: string, path: string, schema: S, options: RequestOptions = {}): Promise<z.infer<S>> {
    const raw = await this.send(method, path, options);
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      throw new KubeApiError(0, 'UnexpectedResponse', `unexpected response shape: ${parsed.error.issues[0]?.message ?? parsed.error.message}`, method, path);
    }
    return parsed.data;
  }

  async send(method: string, path: string, options: RequestOptions = {}): Promise<unknown> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) query.set(k, v);
    const qs = query.toString();
    const url = new URL(this.server + path + (qs ? `?${qs}` : ''));
    const opts: https.RequestOptions = {
      method,
      headers: { Accept: 'application/json', 'User-Agent': `${FIELD_MANAGER}/${VERSION} (${process.platform}/${process.arch})` },
    };
    await this.authorize(opts);
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    if (payload) {
      (opts.headers as Record<string, string>)['Content-Type'] = options.contentType ?? 'application/json';
      (opts.headers as Record<string, string>)['Content-Length'] = String(payload.length);
    }
    try {
      return await this.attempt(method, url, opts, payload);
    } catch (err) {
      // A keep-alive connection the server closed while idle fails the next request sent on it before any
      // response (Node's documented race: req.reusedSocket with ECONNRESET). Go's transport sends such a
      // request again on a new connection when repeating it cannot change anything; so do we.
      if (!(err instanceof StaleConnection)) throw err;
      if (!repeatable(method, path)) throw err.failure;
      this.trace(`${method} ${url.pathname}: the kept-alive connection was closed by the server; sending once more on a new one`);
      return await this.attempt(method, url, this.freshAgent(opts), payload).catch((again: unknown) => {
        throw again instanceof StaleConnection ? again.failure : again;
      });
    }
  }

  /** A new agent for the one repeat: the old one's other idle connections are likely closed as well. */
  private freshAgent(opts: https.RequestOptions): https.RequestOptions {
    this.shared = undefined;
    const again = { ...opts };
    this.shareAgent(again);
    return again;
  }

  private attempt(method: string, url: URL, opts: https.RequestOptions, payload: Buffer | undefined): Promise<unknown> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const req = (url.protocol === 'http:' ? http : https).request(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          this.trace(`${method} ${url.pathname}${url.search} ${status} in ${Date.now() - started}ms`);
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          if (status >= 200 && status < 300) {
            resolve(body);
            return;
          }
          const st = (body ?? {}) as { reason?: string; message?: string };
          reject(new KubeApiError(status, st.reason ?? res.statusMessage ?? 'Error', redactor.excerpt(st.message ?? text, 300), method, url.pathname));
        });
        res.on('error', reject);
      });
      let answered = false;
      req.on('response', () => (answered = true));
      if (this.timeoutMs > 0) {
        req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`request timed out after ${this.timeoutMs}ms`)));
      }
      req.on('error', (err: NodeJS.ErrnoException) => {
        const failure = new KubeApiError(
          0,
          'Unreachable',
          `${err.message} (server ${withoutUserinfo(this.server)}${this.contextName ? `, context ${JSON.stringify(this.contextName)}` : ''})`,
          method,
          url.pathname,
        );
        reject(req.reusedSocket && !answered && err.code === 'ECONNRESET' ? new StaleConnection(failure) : failure);
      });
      req.end(payload);
    });
  }
}

/** A request that failed on a reused keep-alive connection before any response. */
class StaleConnection extends Error {
  constructor(readonly failure: KubeApiError) {
    super(failure.message);
  }
}

/** Requests whose repetition changes nothing: reads, and the access reviews (they store nothing). */
function repeatable(method: string, path: string): boolean {
  return method === 'GET' || method === 'HEAD' || (method === 'POST' && path.startsWith('/apis/authorization.k8s.io/'));
}

/** A URL's user information is a credential: never part of a message. */
export function withoutUserinfo(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//');
}

/** A client-node KubeConfig holding just this user and cluster, for the auth-providers only it implements. */
async function clientNodeFor(config: ResolvedConfig): Promise<KubeConfig> {
  // Loaded only here: most runs never pay for the Kubernetes client.
  const { KubeConfig } = await import('@kubernetes/client-node');
  const { newClusters, newUsers, newContexts } = await import('@kubernetes/client-node/dist/config_types.js');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: newClusters([config.cluster]),
    users: newUsers([config.user]),
    contexts: newContexts([{ name: config.contextName, context: { cluster: config.cluster.name, user: config.user.name, namespace: config.namespace } }]),
    currentContext: config.contextName,
  });
  return kc;
}
