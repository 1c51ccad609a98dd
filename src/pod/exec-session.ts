// One exec session over the API server's WebSocket, spoken directly: channel-prefixed binary frames
// (0 stdin, 1 stdout, 2 stderr, 3 status). client-node's Exec is not used: it offers the old
// v1-v3 protocols too (in v1 the status channel carries plain text), throws from inside the socket's
// message handler on a status frame that is not JSON (an uncaught exception: the process dies mid-run),
// and resolves when the socket opens rather than when the command ends.
// A session whose status is missing or unreadable says nothing about whether the command ran.
import type https from 'node:https';
import querystring from 'node:querystring';
import type WebSocket from 'ws';
import { z } from 'zod';
import type { KubeApi } from '../kube/api-client.js';
import { redactor } from '../output/redactor.js';

/** The session ended without a usable status: the command may or may not have run. */
export class ExecOutcomeUnknownError extends Error {
  constructor(
    readonly pod: string,
    detail: string,
  ) {
    super(`the exec session to pod ${pod} ended without an exit status (${detail}); the command may or may not have run`);
    this.name = 'ExecOutcomeUnknownError';
  }
}

/** The API server refused the session or the runtime could not start the command. */
export class ExecRefusedError extends Error {
  constructor(
    readonly pod: string,
    readonly httpStatus: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'ExecRefusedError';
  }
}

/**
 * The only protocols offered: both carry a JSON metav1.Status on channel 3 (SPEC 5). v5 (Kubernetes
 * 1.30+) first; v4 for older API servers. Stdin is never half-closed, so v4 loses nothing.
 */
export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;

const ExecStatus = z
  .object({
    status: z.string().optional(),
    reason: z.string().optional(),
    message: z.string().optional(),
    details: z
      .object({ causes: z.array(z.object({ reason: z.string().optional(), message: z.string().optional() }).loose()).optional() })
      .loose()
      .optional(),
  })
  .loose();

export type ExecStatusOutcome =
  | { kind: 'exit'; exitCode: number }
  /** The runtime reports a failure that is not the command's exit code (it could not start it). */
  | { kind: 'failed'; message: string }
  | { kind: 'unknown'; detail: string };

const quoted = (text: string) => JSON.stringify(redactor.excerpt(text, 120));

/**
 * What a channel-3 frame says about the command. Strict: only `Success`, or `NonZeroExitCode` with
 * exactly one ExitCode cause that is a whole number from 1 to 255, is an exit code. Anything else that
 * claims an exit (text, an empty or odd cause) is "unknown", never success.
 */
export function parseExecStatus(frame: string): ExecStatusOutcome {
  let json: unknown;
  try {
    json = JSON.parse(frame);
  } catch {
    return { kind: 'unknown', detail: `the status channel carried text, not a Status: ${quoted(frame)}` };
  }
  const parsed = ExecStatus.safeParse(json);
  if (!parsed.success) {
    return { kind: 'unknown', detail: `the status channel carried something other than a Status: ${quoted(frame)}` };
  }
  const s = parsed.data;
  if (s.status === 'Success') return { kind: 'exit', exitCode: 0 };
  if (s.status !== 'Failure') return { kind: 'unknown', detail: `a Status with status ${quoted(s.status ?? '')}` };
  if (s.reason === 'NonZeroExitCode') {
    const causes = (s.details?.causes ?? []).filter((c) => c.reason === 'ExitCode');
    const text = causes.length === 1 ? causes[0]?.message : undefined;
    // Number('') is 0 and Number(' 1') is 1: only plain digits are an exit code.
    const code = text !== undefined && /^\d{1,3}$/.test(text) ? Number(text) : NaN;
    if (!(code >= 1 && code <= 255)) {
      return {
        kind: 'unknown',
        detail: `a NonZeroExitCode Status without a usable exit code (${causes.length === 1 ? `cause ${quoted(text ?? '')}` : `${causes.length} ExitCode causes`})`,
      };
    }
    return { kind: 'exit', exitCode: code };
  }
  return { kind: 'failed', message: redactor.scrub(s.message ?? s.reason ?? 'unknown error') };
}

const toBuffer = (d: WebSocket.RawData): Buffer => (Buffer.isBuffer(d) ? d : Array.isArray(d) ? Buffer.concat(d) : Buffer.from(d));

function statusMessage(body: string): string {
  try {
    const m = (JSON.parse(body) as { message?: unknown }).message;
    if (typeof m === 'string') return m;
  } catch {
    // not a Status: the text itself
  }
  return body.trim();
}

/** What a running exec session reports, each callback at most once for `end`. */
export interface ExecHandlers {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
  /** The command's exit code, or why it is unknown (ExecOutcomeUnknownError) or never ran (ExecRefusedError). */
  end(outcome: { exitCode: number } | { error: Error }): void;
}

/** An open exec session: stdin is written frame by frame and never half-closed (SPEC 5). */
export interface ExecStream {
  /** False when the session can no longer take input: nothing was sent. */
  send(data: Buffer): boolean;
  /** Whether the open session keeps the process alive: an idle one must not delay its exit. */
  hold(keepAlive: boolean): void;
  /** Ends the session as unknown (a timeout, a client that gives up): the socket is closed at once. */
  abandon(detail: string): void;
}

/**
 * Opens an exec session: resolves once the upgrade is answered with 101; a refused upgrade rejects with
 * ExecRefusedError (nothing ran). Everything after that arrives through `handlers`.
 */
export async function openExecStream(
  api: KubeApi,
  target: { namespace: string; pod: string; container: string },
  command: string[],
  timeoutMs: number,
  handlers: ExecHandlers,
): Promise<ExecStream> {
  const query = querystring.stringify({ stdout: true, stderr: true, stdin: true, tty: false, command, container: target.container });
  const url = `${api.server.replace(/^http/, 'ws')}/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${encodeURIComponent(target.pod)}/exec?${query}`;
  // Credentials (token, client certificate, exec plugin); a new connection, its TLS session resumed.
  const opts: https.RequestOptions = {};
  await api.authorize(opts, 'upgrade');
  // ws (and zlib, which it loads) only once a session opens: get and the commands that exec nothing never load it.
  const { default: WebSocketClient } = await import('ws');

  return await new Promise<ExecStream>((resolveOpen, rejectOpen) => {
    let ended = false;
    let opened = false;
    let socket: { ref(): unknown; unref(): unknown } | undefined;
    // The upgrade has no timeout of its own in ws: an API server that stops answering would hang the run.
    const ws = new WebSocketClient(url, [...EXEC_PROTOCOLS], { ...(opts as WebSocket.ClientOptions), ...(timeoutMs > 0 ? { handshakeTimeout: timeoutMs } : {}) });

    const finish = (outcome: { exitCode: number } | { error: Error }) => {
      if (ended) return;
      ended = true;
      if (ws.readyState === WebSocketClient.OPEN) ws.close(1000);
      else if (ws.readyState === WebSocketClient.CONNECTING) ws.terminate();
      if (!opened) {
        rejectOpen('error' in outcome ? outcome.error : new ExecOutcomeUnknownError(target.pod, 'ended before it opened'));
        return;
      }
      handlers.end(outcome);
    };
    const unknown = (detail: string) => finish({ error: new ExecOutcomeUnknownError(target.pod, detail) });

    ws.on('unexpected-response', (req, res) => {
      // The upgrade was answered with a Status instead of 101: nothing ran.
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if ((size += c.length) <= 64 * 1024) chunks.push(c);
      });
      const refuse = () => {
        req.destroy();
        const detail = statusMessage(Buffer.concat(chunks).toString('utf8'));
        finish({
          error: new ExecRefusedError(
            target.pod,
            res.statusCode,
            `the API server refused the exec upgrade (HTTP ${String(res.statusCode)})${detail ? `: ${redactor.excerpt(detail, 300)}` : ''}`,
          ),
        });
      };
      res.on('end', refuse);
      res.on('error', refuse);
    });
    // Registered for the socket's whole life: an 'error' event without a listener would be thrown.
    ws.on('error', (e: Error) => {
      if (ended) return;
      if (ws.readyState !== WebSocketClient.OPEN && /handshake has timed out/i.test(e.message)) {
        // The upgrade was sent and never answered: the API server may still run the command later.
        unknown(`no answer to the exec upgrade within ${timeoutMs}ms`);
        return;
      }
      if (!opened) {
        finish({ error: new ExecRefusedError(target.pod, undefined, redactor.scrub(e.message)) });
        return;
      }
      unknown(`socket error: ${redactor.scrub(e.message)}`);
    });
    // The upgraded connection itself, for hold(): ws documents the handshake response, whose socket it is.
    ws.on('upgrade', (res) => (socket = res.socket));
    ws.on('open', () => {
      opened = true;
      resolveOpen({
        hold: (keepAlive) => {
          if (keepAlive) socket?.ref();
          else socket?.unref();
        },
        send: (data) => {
          if (ended || ws.readyState !== WebSocketClient.OPEN) return false;
          // The request, but never the end of stdin: over v4 ending it closes the socket and loses the status.
          ws.send(Buffer.concat([Buffer.from([STDIN]), data]));
          return true;
        },
        abandon: unknown,
      });
    });
    ws.on('message', (data, isBinary) => {
      if (ended) return;
      // Both protocols send binary frames only; a text frame carries nothing this session reads.
      if (!isBinary) return;
      const frame = toBuffer(data);
      if (frame.length === 0) return;
      const payload = frame.subarray(1);
      if (frame[0] === STDOUT) handlers.stdout(Buffer.from(payload));
      else if (frame[0] === STDERR) handlers.stderr(Buffer.from(payload));
      else if (frame[0] === STATUS) {
        const outcome = parseExecStatus(payload.toString('utf8'));
        if (outcome.kind === 'unknown') unknown(outcome.detail);
        else if (outcome.kind === 'failed') finish({ error: new ExecRefusedError(target.pod, undefined, `exec in pod ${target.pod} failed: ${outcome.message}`) });
        else finish({ exitCode: outcome.exitCode });
      }
      // 4 (resize) and 255 (v5 close signal) carry nothing this session needs.
    });
    ws.on('close', (code: number) => unknown(`socket closed with code ${code}`));
  });
}
