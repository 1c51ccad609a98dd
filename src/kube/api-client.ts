// A small typed client for the few Kubernetes API calls the plugin makes. client-node supplies the
// authentication (certificates, tokens, exec plugins, in-cluster); the requests are plain HTTPS so that
// preconditions, error bodies and timeouts stay under our control.
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { z } from 'zod';
import { redactor } from '../output/redactor.js';
import type { ResolvedConfig } from './kubeconfig.js';

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

export class KubeApi {
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
    kc.loadFromOptions({
      clusters: newClusters([config.cluster]),
      users: newUsers([config.user]),
      contexts: newContexts([
        { name: config.contextName, context: { cluster: config.cluster.name, user: config.user.name, namespace: config.namespace } },
      ]),
      currentContext: config.contextName,
    });
    const server = kc.getCurrentCluster()!.server.replace(/\/+$/, '');
    return new KubeApi(kc, server, timeoutMs, trace);
  }

  async request<S extends z.ZodTypeAny>(method: string, path: string, schema: S, options: RequestOptions = {}): Promise<z.infer<S>> {
    const raw = await this.send(method, path, options);
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      throw new KubeApiError(0, 'UnexpectedResponse', `unexpected response shape: ${parsed.error.issues[0]?.message}`, method, path);
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
      headers: { Accept: 'application/json', 'User-Agent': 'kubectl-reccred' },
    };
    await this.kubeConfig.applyToHTTPSOptions(opts);
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
          let body: unknown = undefined;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          if (status >= 200 && status < 300) return resolve(body);
          const st = (body ?? {}) as { reason?: string; message?: string };
          reject(new KubeApiError(status, st.reason ?? res.statusMessage ?? 'Error', redactor.scrub(st.message ?? text.slice(0, 300)), method, url.pathname));
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
