// One conversation with the in-pod script (protocol 4, see in-pod-script.ts): several requests over one exec
// session, each answered before the next is sent, each answer ended by the session's nonce. An answer counts
// only once its end marker arrived on both streams: a session that ends before that leaves the request's
// outcome unknown, exactly as a lost exit status did when every request had a session of its own.
import { randomBytes } from 'node:crypto';
import type { KubeApi } from '../kube/api-client.js';
import { ExecOutcomeUnknownError, openExecStream, type ExecStream } from './exec-session.js';
import { IN_POD_COMMAND, ScriptExit } from './in-pod-script.js';

export interface ScriptAnswer {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** The session had ended before the request was sent: nothing of it ran, it may go to a new session. */
export class SessionEndedError extends Error {
  constructor(readonly pod: string) {
    super(`the exec session to pod ${pod} had ended`);
    this.name = 'SessionEndedError';
  }
}

type Ending = { exitCode: number } | { error: Error };

interface Pending {
  resolve: (a: ScriptAnswer) => void;
  reject: (e: Error) => void;
}

/** How long a stopped session may take to report its exit before it is dropped. */
const STOP_GRACE_MS = 5000;

export class ScriptSession {
  private out: Buffer = Buffer.alloc(0);
  private err: Buffer = Buffer.alloc(0);
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private ending: Ending | undefined;
  /** `stop` was sent: nothing more may be, and the exit that follows is no request's answer. */
  private stopping = false;
  private readonly endWaiters: (() => void)[] = [];
  private stream: ExecStream | undefined;
  /** When the last answer arrived (or the session opened): how long it has been idle. */
  lastUsed = Date.now();

  private constructor(
    readonly pod: string,
    private readonly nonce: string,
  ) {}

  static async open(api: KubeApi, target: { namespace: string; pod: string; container: string }, timeoutMs: number): Promise<ScriptSession> {
    const session = new ScriptSession(target.pod, randomBytes(16).toString('hex'));
    session.stream = await openExecStream(api, target, IN_POD_COMMAND, timeoutMs, {
      stdout: (c) => session.received('out', c),
      stderr: (c) => session.received('err', c),
      end: (o) => session.ended(o),
    });
    session.stream.send(Buffer.from(`reccred ${session.nonce}\n`));
    session.stream.hold(false);
    return session;
  }

  get closed(): boolean {
    return this.ending !== undefined;
  }

  /** One request (its lines, newline-terminated); requests to one session run one after another. */
  request(payload: Buffer, timeoutMs: number): Promise<ScriptAnswer> {
    const run = this.queue.then(() => this.send(payload, timeoutMs));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Asks the script to stop and waits for its exit (bounded); the session is unusable afterwards. */
  async close(): Promise<void> {
    await this.queue;
    if (this.ending) return;
    const ended = new Promise<void>((r) => this.endWaiters.push(r));
    this.stopping = true;
    this.stream?.hold(true);
    this.stream?.send(Buffer.from('stop\n'));
    const timer = setTimeout(() => this.stream?.abandon('no exit status after stop'), STOP_GRACE_MS);
    await ended;
    clearTimeout(timer);
  }

  /** Drops the session at once (a request that timed out, a process that gives up). */
  abandon(detail: string): void {
    this.stream?.abandon(detail);
  }

  private send(payload: Buffer, timeoutMs: number): Promise<ScriptAnswer> {
    if (this.ending || this.stopping || !this.stream) return Promise.reject(new SessionEndedError(this.pod));
    const stream = this.stream;
    return new Promise<ScriptAnswer>((resolve, reject) => {
      const timer = timeoutMs > 0 ? setTimeout(() => stream.abandon(`no answer after ${timeoutMs}ms`), timeoutMs) : undefined;
      const done = () => {
        clearTimeout(timer);
        this.pending = undefined;
        this.lastUsed = Date.now();
        if (!this.ending) stream.hold(false);
      };
      this.pending = {
        resolve: (a) => {
          done();
          resolve(a);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      stream.hold(true);
      if (!stream.send(payload)) this.pending.reject(new SessionEndedError(this.pod));
    });
  }

  private received(which: 'out' | 'err', chunk: Buffer): void {
    if (which === 'out') this.out = Buffer.concat([this.out, chunk]);
    else this.err = Buffer.concat([this.err, chunk]);
    this.answerIfComplete();
  }

  private answerIfComplete(): void {
    if (!this.pending) return;
    const taken = takeAnswer(this.out, this.err, this.nonce);
    if (!taken) return;
    [this.out, this.err] = [taken.out, taken.err];
    this.pending.resolve(taken.answer);
  }

  private ended(outcome: Ending): void {
    this.ending = outcome;
    const pending = this.pending;
    if (pending) {
      // The script exits in the middle of a request only when it refuses it as malformed (64: nothing of it ran).
      // Any other end (the container killed, the stream cut) says nothing about how far the request got.
      if ('exitCode' in outcome && outcome.exitCode === ScriptExit.BadRequest) pending.resolve({ exitCode: outcome.exitCode, stdout: this.out, stderr: this.err });
      else pending.reject('error' in outcome ? outcome.error : new ExecOutcomeUnknownError(this.pod, `the in-pod script ended with exit ${outcome.exitCode} before answering`));
    }
    for (const w of this.endWaiters.splice(0)) w();
  }
}

/**
 * The first whole answer in what a session has received so far, and what is left after it; undefined until
 * both streams carry its end marker ("\nNONCE RC\n" on stdout, "\nNONCE\n" on stderr) whole.
 */
export function takeAnswer(out: Buffer, err: Buffer, nonce: string): { answer: ScriptAnswer; out: Buffer; err: Buffer } | undefined {
  const outEnd = out.indexOf(`\n${nonce} `);
  const errEnd = err.indexOf(`\n${nonce}\n`);
  if (outEnd < 0 || errEnd < 0) return undefined;
  const afterNonce = outEnd + 1 + nonce.length;
  const tail = /^ (\d{1,3})\n/.exec(out.subarray(afterNonce, afterNonce + 5).toString('latin1'));
  if (!tail) return undefined;
  return {
    answer: { exitCode: Number(tail[1]), stdout: out.subarray(0, outEnd), stderr: err.subarray(0, errEnd) },
    out: out.subarray(afterNonce + tail[0].length),
    err: err.subarray(errEnd + nonce.length + 2),
  };
}
