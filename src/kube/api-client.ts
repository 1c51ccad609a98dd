// A small typed client for the few Kubernetes API calls the plugin makes. client-node supplies the
// authentication (certificates, tokens, exec plugins, in-cluster); the requests are plain HTTPS so that
// preconditions, error bodies and timeouts stay under our control.
import { createHash } from 'node:crypto';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { z } from 'zod';
import { redactor } from '../output/redactor.js';
import type { ResolvedConfig } from './kubeconfig.js';
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
const TLS_KEYS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;

export class KubeApi {
  private shared: { key: string; agent: https.Agent } | undefined;

  private constructor(
    readonly kubeConfig: KubeConfig,
    readonly server: string,
    private readonly timeoutMs: number,
    /** Debug lines for -v; never given a body. */
    private readonly trace: (line: string) => void,
  ) {}

  static async connect(config: ResolvedConfig, timeoutMs: number, trace: (line: string) => void): Promise<KubeApi> {
    // Loaded here, not at start-up: --help and version must not pay for the Kubernetes client.
    const { KubeConfig } = await import('@kubernetes/client-node');
    const { newClusters, newUsers, newContexts } = await import('@kubernetes/client-node/dist/config_types.js');
    const kc = new KubeConfig();
    const users = newUsers([config.user]);
    // kubectl spells it tokenFile (and in-cluster config uses it); client-node reads only "token-file",
    // once. Its tokenFile auth provider re-reads the file, so a rotated service-account token is picked up.
    const tokenFile = config.user.user.tokenFile;
    if (typeof tokenFile === 'string' && tokenFile && users[0] && !users[0].token && !users[0].authProvider) {
      users[0] = { ...users[0], authProvider: { name: 'tokenFile', config: { tokenFile } } };
    }
    kc.loadFromOptions({
      clusters: newClusters([config.cluster]),
      users,
      contexts: newContexts([{ name: config.contextName, context: { cluster: config.cluster.name, user: config.user.name, namespace: config.namespace } }]),
      currentContext: config.contextName,
    });
    const cluster = kc.getCurrentCluster();
    // loadFromOptions above was given the current context and its cluster.
    if (!cluster) throw new Error(`kubeconfig context ${config.contextName} has no cluster`);
    const server = cluster.server.replace(/\/+$/, '');
    return new KubeApi(kc, server, timeoutMs, trace);
  }

  /** Credentials (token, exec plugin, certificates) and the session's shared agent, for a request or an exec upgrade. */
  async authorize(opts: https.RequestOptions): Promise<void> {
    await this.kubeConfig.applyToHTTPSOptions(opts);
    this.shareAgent(opts);
  }

  /**
   * client-node builds a new Agent for every request: a new connection and a full TLS handshake each time,
   * which a fleet run pays thousands of times. One keep-alive agent per session instead (it also resumes
   * TLS sessions for exec upgrades), rebuilt only when the TLS material changes (an exec plugin's new
   * client certificate). With a proxy, client-node's own agent stays: it knows how to reach the proxy.
   */
  shareAgent(opts: https.RequestOptions): void {
    if (this.kubeConfig.getCurrentCluster()?.proxyUrl) return;
    const tls: https.AgentOptions = {};
    const hash = createHash('sha256');
    for (const k of TLS_KEYS) {
      const v = (opts as Record<string, unknown>)[k];
      if (v === undefined) continue;
      (tls as Record<string, unknown>)[k] = v;
      hash.update(`${k}=${Buffer.isBuffer(v) ? v.toString('base64') : JSON.stringify(v)};`);
    }
    const key = hash.digest('hex');
    if (this.shared?.key !== key) {
      this.shared?.agent.destroy();
      // Node unrefs idle keep-alive sockets, so they never hold the process open at exit.
      this.shared = { key, agent: new https.Agent({ ...tls, keepAlive: true, maxSockets: 50 }) };
    }
    opts.agent = this.shared.agent;
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
    const started = Date.now();
    return await new Promise((resolve, reject) => {
      const req = https.request(url, opts, (res) => {
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
      if (this.timeoutMs > 0) {
        req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`request timed out after ${this.timeoutMs}ms`)));
      }
      req.on('error', (err) => reject(new KubeApiError(0, 'Unreachable', `${err.message} (server ${this.server})`, method, url.pathname)));
      req.end(payload);
    });
  }
}
