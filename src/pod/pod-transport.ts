// Runs the in-pod script in one REC pod: credential hashes, or one REST call through the pod's curl.
import { createHash } from 'node:crypto';
import type { KubeApi } from '../kube/api-client.js';
import { redactor } from '../output/redactor.js';
import { curlConfig, parseCurlOutput, type CurlRequest } from './curl-config.js';
import { execInPod } from './exec-session.js';
import { IN_POD_COMMAND, POD_TOOLS, ScriptExit } from './in-pod-script.js';

export const REC_CONTAINER = 'redis-enterprise-node';
const REST_BASE = 'https://localhost:9443';

/** Credentials always come from the plugin, on stdin: never from the pod's mounted files, which may lag the store. */
export interface RestAuth {
  username: string;
  password: string;
}

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

  /** Which of the commands the in-pod script runs the pod's image lacks (a `.minimal` image may lack any). */
  async missingTools(pod: string): Promise<string[]> {
    const res = await execInPod(this.api, this.target(pod), IN_POD_COMMAND, Buffer.from('tools\n'), this.timeoutMs);
    const lines = res.stdout.toString('utf8').split('\n');
    // "checked" proves the whole list was gone through: a cut-off reply never reads as "nothing missing".
    if (res.exitCode !== 0 || !lines.includes('checked')) {
      throw new PodCommandError(pod, res.exitCode, `checking the commands in container ${REC_CONTAINER} of pod ${pod} failed: ${stderrOf(res.stderr) || `exit ${res.exitCode}`}`);
    }
    const known: readonly string[] = POD_TOOLS;
    return lines.flatMap((l) => {
      const name = /^missing (\S+)$/.exec(l)?.[1];
      return name && known.includes(name) ? [name] : [];
    });
  }

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
      basicAuth: { username: auth.username, password: auth.password },
      maxTimeSeconds: Math.max(5, Math.ceil(this.timeoutMs / 1000) - 2),
    });
    const bytes = Buffer.from(config, 'utf8');
    const header = `rest\n${bytes.length}\nstdin\n`;
    const res = await execInPod(this.api, this.target(pod), IN_POD_COMMAND, Buffer.concat([Buffer.from(header), bytes]), this.timeoutMs);
    if (res.exitCode === ScriptExit.CurlMissing) {
      throw new PodCommandError(pod, res.exitCode, `curl is not available in container ${REC_CONTAINER} of pod ${pod}; the plugin needs it to reach the REST API inside the pod`);
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
