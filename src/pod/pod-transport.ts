// Runs the in-pod script in one REC pod: credential hashes, or one REST call through the pod's curl.
import { createHash } from 'node:crypto';
import type { KubeApi } from '../kube/api-client.js';
import { redactor } from '../output/redactor.js';
import { curlConfig, parseCurlOutput, type CurlRequest } from './curl-config.js';
import { execInPod } from './exec-session.js';
import { IN_POD_COMMAND, ScriptExit } from './in-pod-script.js';

export const REC_CONTAINER = 'redis-enterprise-node';
const REST_BASE = 'https://localhost:9443';

export type RestAuth = { source: 'mounted-files' } | { source: 'given'; username: string; password: string };

export interface RestCall {
  method: CurlRequest['method'];
  path: string;
  body?: unknown;
}

export interface RestReply {
  status: number;
  body: unknown;
  /** Location of a 307, when the pod is not the cluster master. */
  redirect: string;
}

/** curl could not complete the call (connection refused, timeout, TLS); nothing was sent or the reply was lost. */
export class RestTransportError extends Error {
  constructor(
    readonly pod: string,
    readonly curlExit: number,
    detail: string,
  ) {
    super(`the REST API call from pod ${pod} failed (curl exit ${curlExit}): ${detail}`);
    this.name = 'RestTransportError';
  }
}

export class PodCommandError extends Error {
  constructor(
    readonly pod: string,
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'PodCommandError';
  }
}

export const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

export class PodTransport {
  constructor(
    private readonly api: KubeApi,
    readonly namespace: string,
    private readonly timeoutMs: number,
  ) {}

  /** sha256 of the mounted credential files; the secret itself never leaves the pod. */
  async credentialHashes(pod: string): Promise<{ username: string | null; password: string | null }> {
    const res = await execInPod(this.api, this.target(pod), IN_POD_COMMAND, Buffer.from('hash\n'), this.timeoutMs);
    if (res.exitCode !== 0) throw new PodCommandError(pod, res.exitCode, `reading the mounted credentials in pod ${pod} failed: ${stderrOf(res.stderr)}`);
    const out: Record<string, string | null> = { username: null, password: null };
    for (const line of res.stdout.toString('utf8').split('\n')) {
      const [k, v] = line.split(' ');
      if ((k === 'username' || k === 'password') && v && /^[0-9a-f]{64}$/.test(v)) out[k] = v;
    }
    return { username: out.username ?? null, password: out.password ?? null };
  }

  async rest(pod: string, call: RestCall, auth: RestAuth): Promise<RestReply> {
    const config = curlConfig({
      method: call.method,
      url: REST_BASE + call.path,
      body: call.body,
      basicAuth: auth.source === 'given' ? { username: auth.username, password: auth.password } : undefined,
      maxTimeSeconds: Math.max(5, Math.ceil(this.timeoutMs / 1000) - 2),
    });
    const bytes = Buffer.from(config, 'utf8');
    const header = `rest\n${bytes.length}\n${auth.source === 'mounted-files' ? 'file' : 'stdin'}\n`;
    const res = await execInPod(this.api, this.target(pod), IN_POD_COMMAND, Buffer.concat([Buffer.from(header), bytes]), this.timeoutMs);
    if (res.exitCode === ScriptExit.CurlMissing) {
      throw new PodCommandError(pod, res.exitCode, `curl is not available in container ${REC_CONTAINER} of pod ${pod}; the plugin needs it to reach the REST API inside the pod`);
    }
    if (res.exitCode === ScriptExit.CredentialsUnreadable) {
      throw new PodCommandError(pod, res.exitCode, `the mounted credentials in pod ${pod} are not readable`);
    }
    const parsed = parseCurlOutput(res.stdout.toString('utf8'));
    if (res.exitCode !== 0 || !parsed) throw new RestTransportError(pod, res.exitCode, stderrOf(res.stderr) || 'no HTTP response');
    let body: unknown = parsed.body;
    try {
      body = parsed.body ? JSON.parse(parsed.body) : undefined;
    } catch {
      // Not JSON (an HTML error page, say): keep the text, scrubbed when shown.
    }
    return { status: parsed.status, body, redirect: parsed.redirect };
  }

  private target(pod: string) {
    return { namespace: this.namespace, pod, container: REC_CONTAINER };
  }
}

const stderrOf = (b: Buffer) => redactor.excerpt(b.toString('utf8').trim(), 500);
