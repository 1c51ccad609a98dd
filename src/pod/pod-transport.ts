// Runs the in-pod script in the REC pods: credential hashes, or REST calls through the pod's curl. One exec
// session per pod carries the requests of a stretch of work (each session is a process started in a production
// container and a line in the audit log); it is stopped once idle for IDLE_MS, and before any long wait.
import { createHash } from 'node:crypto';
import type { KubeApi } from '../kube/api-client.js';
import { redactor } from '../output/redactor.js';
import { curlConfig, parseCurlOutput, type CurlRequest } from './curl-config.js';
import { MAX_CONFIG_LINES, POD_TOOLS, ScriptExit } from './in-pod-script.js';
import { ExecRefusedError } from './exec-session.js';
import { ScriptSession, SessionEndedError, type ScriptAnswer } from './script-session.js';

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

/**
 * How long a session may sit idle: longer than the longest pause between propagation polls (15 s with jitter,
 * waits.ts nextPollMs), so one session per pod serves a whole propagation wait.
 */
const SESSION_IDLE_MS = 20_000;
/** A session idle longer than this is asked for a sign of life before a change goes through it. */
const CHECK_IDLE_AFTER_MS = 1000;

const TOOLS = Buffer.from('tools\n');

export class PodTransport {
  private readonly sessions = new Map<string, Promise<ScriptSession>>();
  private readonly idleTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly api: KubeApi,
    readonly namespace: string,
    private readonly timeoutMs: number,
  ) {}

  /** Stops every open session (before a long wait, and at the end of a run). */
  async release(): Promise<void> {
    const open = [...this.sessions.keys()];
    await Promise.all(open.map((pod) => this.stop(pod)));
  }

  private async stop(pod: string): Promise<void> {
    const s = this.sessions.get(pod);
    this.sessions.delete(pod);
    clearTimeout(this.idleTimers.get(pod));
    this.idleTimers.delete(pod);
    await (await s?.catch(() => undefined))?.close();
  }

  private session(pod: string): Promise<ScriptSession> {
    const known = this.sessions.get(pod);
    if (known) return known;
    const opening = ScriptSession.open(this.api, this.target(pod), this.timeoutMs);
    this.sessions.set(pod, opening);
    // A refused upgrade is the caller's error; the next request tries a new session.
    opening.catch(() => this.forget(pod, opening));
    return opening;
  }

  /**
   * One request in the pod's session. A session found ended before the request was sent is replaced (nothing
   * of the request ran); an answer lost in flight is the caller's "outcome unknown", never sent again.
   */
  private async ask(pod: string, payload: Buffer, changes: boolean): Promise<ScriptAnswer> {
    clearTimeout(this.idleTimers.get(pod));
    try {
      for (let attempt = 0; ; attempt++) {
        const { s, opening } = await this.live(pod, changes);
        try {
          return await s.request(payload, this.timeoutMs);
        } catch (err) {
          if (!(err instanceof SessionEndedError)) throw err;
          // Nothing of it was sent: once more on a new session, then as a refusal (nothing ran).
          if (attempt > 0) throw new ExecRefusedError(pod, undefined, `the exec session to pod ${pod} ended before the request was sent`);
        } finally {
          if (s.closed) this.forget(pod, opening);
        }
        this.forget(pod, opening);
      }
    } finally {
      clearTimeout(this.idleTimers.get(pod));
      if (this.sessions.has(pod)) {
        const timer = setTimeout(() => void this.stop(pod), SESSION_IDLE_MS);
        timer.unref();
        this.idleTimers.set(pod, timer);
      }
    }
  }

  /**
   * The pod's session, open. Before a change, one idle for long is asked for a sign of life first (a request
   * without effect): a change must not be what finds a dead session, which would leave its outcome unknown.
   */
  private async live(pod: string, changes: boolean): Promise<{ s: ScriptSession; opening: Promise<ScriptSession> }> {
    const opening = this.session(pod);
    const s = await opening;
    if (!s.closed && !(changes && Date.now() - s.lastUsed > CHECK_IDLE_AFTER_MS)) return { s, opening };
    if (!s.closed) {
      try {
        const alive = await s.request(TOOLS, this.timeoutMs);
        // The session may have ended while the sign of life was on its way (TypeScript keeps the narrowing above).
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
        if (alive.exitCode === 0 && !s.closed) return { s, opening };
      } catch {
        // gone: a new session below
      }
    }
    this.forget(pod, opening);
    const fresh = this.session(pod);
    return { s: await fresh, opening: fresh };
  }

  /** Drops the pod's session from the pool if it is still the one given (another request may have replaced it). */
  private forget(pod: string, opening: Promise<ScriptSession>): void {
    if (this.sessions.get(pod) === opening) this.sessions.delete(pod);
  }

  /** Which of the commands the in-pod script runs the pod's image lacks (a `.minimal` image may lack any). */
  async missingTools(pod: string): Promise<string[]> {
    const res = await this.ask(pod, TOOLS, false);
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
    const res = await this.ask(pod, Buffer.from('hash\n'), false);
    if (res.exitCode !== 0) throw new PodCommandError(pod, res.exitCode, `reading the mounted credentials in pod ${pod} failed: ${stderrOf(res.stderr)}`);
    const out: Record<string, string | null | undefined> = { username: undefined, password: undefined };
    for (const line of res.stdout.toString('utf8').split('\n')) {
      const [k, v] = line.split(' ');
      if ((k === 'username' || k === 'password') && v && (v === 'missing' || /^[0-9a-f]{64}$/.test(v))) out[k] = v === 'missing' ? null : v;
    }
    // Both lines, each a hash or "missing": a cut-off answer must never read as "no files mounted".
    if (out.username === undefined || out.password === undefined) {
      throw new PodCommandError(pod, res.exitCode, `reading the mounted credentials in pod ${pod} gave an incomplete answer`);
    }
    return { username: out.username, password: out.password };
  }

  async rest(pod: string, call: RestCall, auth: RestAuth): Promise<RestReply> {
    const config = curlConfig({
      method: call.method,
      url: REST_BASE + call.path,
      body: call.body,
      basicAuth: { username: auth.username, password: auth.password },
      maxTimeSeconds: Math.max(5, Math.ceil(this.timeoutMs / 1000) - 2),
    });
    const lines = config.split('\n').length - 1;
    if (lines > MAX_CONFIG_LINES) throw new Error(`a REST call of ${lines} config lines (at most ${MAX_CONFIG_LINES})`);
    const res = await this.ask(pod, Buffer.from(`rest ${lines}\n${config}`, 'utf8'), call.method !== 'GET');
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
