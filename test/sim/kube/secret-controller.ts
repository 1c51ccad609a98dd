// A controller that owns a Secret and keeps writing its own value into it, as secret-sync and GitOps
// controllers do: External Secrets copies its provider's value on every refreshInterval, Argo CD's
// self-heal re-applies Git's manifest when the live object drifts, Flux re-applies on its interval.
// It is an ordinary API client (HTTPS, bearer token, JSON merge patch), identified by its field
// manager (`?fieldManager=`, as controller-runtime's client.FieldOwner sends it) or only by its
// User-Agent, so the Secret's managedFields name it as a real API server would.
import https from 'node:https';
import { readFileSync } from 'node:fs';

export interface SecretControllerOptions {
  apiUrl: string;
  caFile: string;
  token: string;
  namespace: string;
  name: string;
  /** Its field manager, e.g. "external-secrets", "argocd-controller", "kustomize-controller". */
  manager: string;
  /** "fieldManager" (default): sent as the query parameter; "userAgent": only as the User-Agent's product. */
  identify?: 'fieldManager' | 'userAgent';
  /** The keys it puts back, in plain text (base64-encoded when written). */
  data: Record<string, string>;
  /** Write period (default 500 ms); the first write is at once. */
  periodMs?: number;
}

export class SecretController {
  /** Writes the API server answered with 2xx. */
  writes = 0;
  readonly errors: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;
  private readonly ca: Buffer;

  constructor(private readonly o: SecretControllerOptions) {
    this.ca = readFileSync(o.caFile);
  }

  start(): this {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.o.periodMs ?? 500);
    this.timer.unref();
    return this;
  }

  /** One write now; resolves when the API server answered. */
  async writeNow(): Promise<void> {
    await this.inflight;
    this.tick();
    await this.inflight;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inflight;
  }

  private tick(): void {
    if (this.inflight) return;
    this.inflight = this.write()
      .then(() => void (this.writes += 1))
      .catch((e: Error) => void this.errors.push(e.message))
      .finally(() => (this.inflight = undefined));
  }

  private write(): Promise<void> {
    const { namespace, name, manager, identify = 'fieldManager' } = this.o;
    const data = Object.fromEntries(Object.entries(this.o.data).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')]));
    const body = Buffer.from(JSON.stringify({ data }));
    const query = identify === 'fieldManager' ? `?fieldManager=${encodeURIComponent(manager)}` : '';
    const url = new URL(`/api/v1/namespaces/${namespace}/secrets/${name}${query}`, this.o.apiUrl);
    return new Promise((resolve, reject) => {
      const req = https.request(
        url,
        {
          method: 'PATCH',
          ca: this.ca,
          headers: {
            Authorization: `Bearer ${this.o.token}`,
            'Content-Type': 'application/merge-patch+json',
            'Content-Length': String(body.length),
            Accept: 'application/json',
            'User-Agent': `${manager}/v0.0.0-sim (linux/amd64)`,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve();
            else reject(new Error(`PATCH secret ${namespace}/${name}: ${status} ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}
