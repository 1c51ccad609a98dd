// Vault's HTTP API, just the KV v2 calls a REC store needs. The token travels only in the
// X-Vault-Token header, never in a URL, and every error text is scrubbed before it is shown.
import fs from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import { z } from 'zod';
import { redactor } from '../output/redactor.js';

export interface VaultConnection {
  addr: string;
  token: string;
  /** Enterprise namespace (X-Vault-Namespace); empty for none. */
  namespace: string;
  caCertFile?: string;
  timeoutMs: number;
}

export class VaultError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
    readonly operation: string,
  ) {
    super(redactor.scrub(`Vault ${operation}: ${status === 0 ? errors.join('; ') : `${status} ${(errors.join('; ') || http.STATUS_CODES[status]) ?? ''}`}`));
    this.name = 'VaultError';
  }
  get sealed(): boolean {
    return this.status === 503;
  }
  get casMismatch(): boolean {
    return this.status === 400 && this.errors.some((e) => e.includes('check-and-set'));
  }
}

const KvReadReply = z.object({
  data: z.object({
    data: z.record(z.string(), z.unknown()).nullable(),
    metadata: z.object({ version: z.number() }).loose(),
  }),
});
const KvWriteReply = z.object({ data: z.object({ version: z.number() }).loose() });
const ErrorsReply = z.object({ errors: z.array(z.string()) }).loose();

export class VaultClient {
  private readonly ca: Buffer | undefined;

  constructor(readonly connection: VaultConnection) {
    redactor.add(connection.token);
    this.ca = connection.caCertFile ? fs.readFileSync(connection.caCertFile) : undefined;
  }

  /** GET <mount>/data/<path>: the latest version, or undefined if there is none. */
  async kvRead(mount: string, path: string): Promise<{ data: Record<string, unknown>; version: number; createdTime?: string } | undefined> {
    const reply = await this.request('GET', `/v1/${mount}/data/${path}`, undefined, `read ${mount}/${path}`);
    if (reply.status === 404) return undefined;
    const parsed = KvReadReply.parse(reply.body);
    if (!parsed.data.data) return undefined;
    // created_time of the latest version is when the entry was last written (Vault records no writer name).
    const created = parsed.data.metadata.created_time;
    return { data: parsed.data.data, version: parsed.data.metadata.version, ...(typeof created === 'string' ? { createdTime: created } : {}) };
  }

  /** POST <mount>/data/<path> with check-and-set: `cas` is the version the write expects to replace. */
  async kvWrite(mount: string, path: string, data: Record<string, string>, cas: number): Promise<number> {
    const reply = await this.request('POST', `/v1/${mount}/data/${path}`, { options: { cas }, data }, `write ${mount}/${path}`);
    return KvWriteReply.parse(reply.body).data.version;
  }

  private request(method: string, urlPath: string, body: unknown, operation: string): Promise<{ status: number; body: unknown }> {
    const url = new URL(urlPath.replace(/\/{2,}/g, '/'), this.connection.addr);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { 'X-Vault-Token': this.connection.token, Accept: 'application/json' };
    if (this.connection.namespace) headers['X-Vault-Namespace'] = this.connection.namespace;
    if (payload) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) });
    const transport = url.protocol === 'http:' ? http : https;
    return new Promise((resolve, reject) => {
      const req = transport.request(url, { method, headers, ca: this.ca, timeout: this.connection.timeoutMs || undefined }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : {};
          } catch {
            parsed = {};
          }
          const status = res.statusCode ?? 0;
          // KV v2 answers 404 with an empty error list when the path has no version.
          if (status === 404 && method === 'GET') {
            resolve({ status, body: parsed });
            return;
          }
          if (status >= 400) {
            const errors = ErrorsReply.safeParse(parsed);
            reject(new VaultError(status, errors.success ? errors.data.errors : [redactor.excerpt(text, 200)], operation));
            return;
          }
          resolve({ status, body: parsed });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.connection.timeoutMs} ms`)));
      req.on('error', (err) => reject(new VaultError(0, [`cannot reach Vault at ${this.connection.addr}: ${err.message}`], operation)));
      req.end(payload);
    });
  }
}
