// One exec session over the API server's WebSocket (client-node's Exec), with the two facts the
// library leaves to its caller: exec() resolves when the socket opens, not when the command ends, and a
// socket that closes without the status frame says nothing about whether the command ran.
import { PassThrough, Writable } from 'node:stream';
import WebSocket from 'ws';
import { z } from 'zod';
import type { KubeApi } from '../kube/api-client.js';

export interface ExecResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** The session ended without a status: the command may or may not have run. */
export class ExecOutcomeUnknownError extends Error {
  constructor(readonly pod: string, detail: string) {
    super(`the exec session to pod ${pod} ended without an exit status (${detail}); the command may or may not have run`);
    this.name = 'ExecOutcomeUnknownError';
  }
}

/** The API server refused the session or the runtime could not start the command. */
export class ExecRefusedError extends Error {
  constructor(readonly pod: string, readonly httpStatus: number | undefined, message: string) {
    super(message);
    this.name = 'ExecRefusedError';
  }
}

const ExecStatus = z
  .object({
    status: z.string().optional(),
    reason: z.string().optional(),
    message: z.string().optional(),
    details: z.object({ causes: z.array(z.object({ reason: z.string().optional(), message: z.string().optional() })).optional() }).passthrough().optional(),
  })
  .passthrough();

function collector(chunks: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    },
  });
}

/**
 * client-node's Exec, with its WebSocket opened through the session's shared agent (TLS session reuse).
 * The socket factory is an internal of client-node's WebSocketHandler (the version is pinned); without it
 * the default agent is used, which works, only slower.
 */
function execClient<E>(ExecClass: new (config: KubeApi['kubeConfig']) => E, api: KubeApi, timeoutMs: number): E {
  const exec = new ExecClass(api.kubeConfig);
  const handler = (exec as { handler?: { socketFactory?: unknown } }).handler;
  if (handler && 'socketFactory' in handler) {
    handler.socketFactory = (uri: string, protocols: string[], opts: WebSocket.ClientOptions) => {
      api.shareAgent(opts as never);
      // client-node sets no timeout on the upgrade: an API server that stops answering would hang the run.
      return new WebSocket(uri, protocols, timeoutMs > 0 ? { ...opts, handshakeTimeout: timeoutMs } : opts);
    };
  }
  return exec;
}

export async function execInPod(
  api: KubeApi,
  target: { namespace: string; pod: string; container: string },
  command: string[],
  stdinPayload: Buffer,
  timeoutMs: number,
): Promise<ExecResult> {
  const { Exec } = await import('@kubernetes/client-node');
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdin = new PassThrough();
  let status: z.infer<typeof ExecStatus> | undefined;
  let statusSeen!: () => void;
  const statusArrived = new Promise<void>((resolve) => (statusSeen = resolve));

  let socket: Awaited<ReturnType<InstanceType<typeof Exec>['exec']>>;
  try {
    socket = await execClient(Exec, api, timeoutMs).exec(target.namespace, target.pod, target.container, command, collector(out), collector(err), stdin, false, (s) => {
      status = ExecStatus.parse(s);
      statusSeen();
    });
  } catch (e) {
    // client-node rejects with the ws ErrorEvent ({ message, error }), not an Error: "[object Object]" otherwise.
    const text = e instanceof Error ? e.message : typeof (e as { message?: unknown })?.message === 'string' ? (e as { message: string }).message : String(e);
    // The upgrade was sent and never answered: the API server may still run the command later.
    if (/handshake has timed out/i.test(text)) throw new ExecOutcomeUnknownError(target.pod, `no answer to the exec upgrade within ${timeoutMs}ms`);
    const code = Number(text.match(/Unexpected server response: (\d{3})/)?.[1]) || undefined;
    throw new ExecRefusedError(target.pod, code, text);
  }
  // Write the request but never end stdin: over v4 ending it closes the socket and loses the status.
  stdin.write(stdinPayload);

  const closed = new Promise<string>((resolve) => {
    socket.on('close', (code: number) => resolve(`socket closed with code ${code}`));
    socket.on('error', (e: Error) => resolve(`socket error: ${e.message}`));
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no exit status after ${timeoutMs}ms`), timeoutMs);
  });
  const outcome = await Promise.race([statusArrived.then(() => 'status'), closed, timedOut]);
  clearTimeout(timer);
  // The status frame may race the close event; give buffered frames a tick to land.
  if (outcome !== 'status' && !status) await new Promise((r) => setImmediate(r));
  socket.close();
  stdin.destroy();
  if (!status) throw new ExecOutcomeUnknownError(target.pod, outcome);

  if (status.status === 'Success') return { exitCode: 0, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
  const exitCause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (status.reason === 'NonZeroExitCode' && exitCause?.message !== undefined) {
    return { exitCode: Number(exitCause.message), stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
  }
  throw new ExecRefusedError(target.pod, undefined, `exec in pod ${target.pod} failed: ${status.message ?? status.reason ?? 'unknown error'}`);
}
