// pods/{name}/exec over WebSocket, as the API server (and behind it the kubelet) serves it:
// channel-prefixed binary frames (0 stdin, 1 stdout, 2 stderr, 3 status, 4 resize), the v5
// close-stdin signal [255, 0], and a final metav1.Status on channel 3 before a 1000 close.
import type { IncomingMessage } from 'node:http';
import { constants } from 'node:os';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { AuditLog } from '../audit.js';
import type { ExecStatusFault, Faults } from '../faults.js';
import type { ExecProcess, PodExecutor } from '../pods/executor.js';
import type { KubeStore } from './store.js';
import { ApiError, badRequest, notFound } from './status.js';

export type ExecProtocol = 'v5' | 'v4';
const WS_PROTOCOL: Record<ExecProtocol, string> = { v5: 'v5.channel.k8s.io', v4: 'v4.channel.k8s.io' };

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const CLOSE_SIGNAL = 255;
/** After the command exits, how long to wait for its output pipes to drain (a background child may hold them). */
const DRAIN_GRACE_MS = 1000;

export interface ExecTarget {
  namespace: string;
  pod: string;
  query: URLSearchParams;
  user: string;
}

export interface ExecDeps {
  store: KubeStore;
  executor: PodExecutor;
  audit: AuditLog;
  faults: Faults;
  protocols: () => ExecProtocol[];
}

export interface ValidExec {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  user: string;
}

const flag = (q: URLSearchParams, k: string) => ['true', '1'].includes(q.get(k) ?? '');

/** The checks the API server makes before it upgrades; throws the Status a client would get. */
export function validateExec(t: ExecTarget, deps: ExecDeps): ValidExec {
  if (deps.faults.refuseExec) {
    throw new ApiError(403, 'Forbidden', `pods "${t.pod}" is forbidden: exec is refused on this cluster (simulated fault)`, { name: t.pod, kind: 'pods' });
  }
  const pod = deps.store.get('pods', t.namespace, t.pod);
  if (!pod) throw notFound('pods', '', t.pod);
  const spec = (pod['spec'] ?? {}) as { containers?: Array<{ name: string }> };
  const names = (spec.containers ?? []).map((c) => c.name);
  let container = t.query.get('container') ?? '';
  if (!container) {
    if (names.length !== 1) {
      throw badRequest(`a container name must be specified for pod ${t.pod}, choose one of: [${names.join(' ')}]`);
    }
    container = names[0]!;
  }
  if (!names.includes(container)) throw badRequest(`container ${container} is not valid for pod ${t.pod}`);
  const phase = (pod['status'] as { phase?: string } | undefined)?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') {
    throw badRequest(`cannot exec into a container in a completed pod; current phase is ${phase}`);
  }
  const command = t.query.getAll('command');
  if (!command.length) throw badRequest('you must specify at least 1 command');
  const v: ValidExec = {
    namespace: t.namespace,
    pod: t.pod,
    container,
    command,
    stdin: flag(t.query, 'stdin'),
    stdout: flag(t.query, 'stdout'),
    stderr: flag(t.query, 'stderr'),
    user: t.user,
  };
  if (!v.stdin && !v.stdout && !v.stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
  return v;
}

function offered(req: IncomingMessage, header: string): string[] {
  const raw = req.headers[header];
  return (Array.isArray(raw) ? raw.join(',') : (raw ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The refusal an old (or v5-less) cluster gives; the SPDY fallback POST gets the same Status. */
export function protocolRefusal(requested: string[], allowed: ExecProtocol[]): ApiError {
  return badRequest(
    `unable to upgrade connection: none of the requested protocols [${requested.join(' ')}] is supported; ` +
      `this server supports [${allowed.map((p) => WS_PROTOCOL[p]).join(' ')}] over WebSocket`,
  );
}

/** The client's first offered protocol the server allows, else the Status to refuse with. */
export function chooseProtocol(req: IncomingMessage, allowed: ExecProtocol[]): string {
  const requested = offered(req, 'sec-websocket-protocol');
  const allowedNames = allowed.map((p) => WS_PROTOCOL[p]);
  const chosen = requested.find((p) => allowedNames.includes(p));
  if (!chosen) throw protocolRefusal(requested, allowed);
  return chosen;
}

/** The SPDY fallback (POST with Upgrade: SPDY/3.1): never served, answered with a Status. */
export function spdyRefusal(req: IncomingMessage, allowed: ExecProtocol[]): ApiError {
  return protocolRefusal(offered(req, 'x-stream-protocol-version'), allowed);
}

/** How the kubelet words a non-zero exit (containerd's "error executing command %v, exit code %d"). */
export function exitStatus(command: string[], code: number): Record<string, unknown> {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** The status frame an ExecStatusFault sends: it names no usable exit code. */
function faultyStatus(kind: ExecStatusFault['status']): string {
  if (kind === 'text') return 'error: an error occurred while running the command';
  return JSON.stringify({
    metadata: {},
    status: 'Failure',
    message: 'command terminated with non-zero exit code',
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: '' }] },
  });
}

const frame = (channel: number, data: Buffer | string) => Buffer.concat([Buffer.from([channel]), typeof data === 'string' ? Buffer.from(data) : data]);

const toBuffer = (d: RawData): Buffer => (Buffer.isBuffer(d) ? d : Array.isArray(d) ? Buffer.concat(d) : Buffer.from(d as ArrayBuffer));

function ended(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve) => {
    const s = stream as NodeJS.ReadableStream & { readableEnded?: boolean; destroyed?: boolean };
    if (s.readableEnded || s.destroyed) return resolve();
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
}

export class ExecEndpoint {
  private readonly wss = new WebSocketServer({
    noServer: true,
    // The protocol was chosen before upgrading (see chooseProtocol); ws must echo exactly that one.
    handleProtocols: (_offered, req) => (req as IncomingMessage & { chosenProtocol?: string }).chosenProtocol ?? false,
  });
  private readonly live = new Set<{ ws: WebSocket; proc: ExecProcess }>();

  constructor(private readonly deps: ExecDeps) {}

  /** Upgrades a validated request and runs the session; resolves once the 101 is sent. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, exec: ValidExec, protocol: string): Promise<void> {
    (req as IncomingMessage & { chosenProtocol?: string }).chosenProtocol = protocol;
    // Recorded so tests can check what a client offers (a real audit log does not keep it).
    const protocols = offered(req, 'sec-websocket-protocol');
    return new Promise((resolve) => {
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        resolve();
        this.session(ws, exec, protocols);
      });
    });
  }

  private session(ws: WebSocket, exec: ValidExec, protocols: string[]): void {
    const { deps } = this;
    const v5 = ws.protocol === WS_PROTOCOL.v5;
    const drop = deps.faults.dropExecBeforeStatus > 0;
    if (drop) deps.faults.dropExecBeforeStatus -= 1;

    deps.audit.record({
      kind: 'exec',
      time: Date.now(),
      user: exec.user,
      namespace: exec.namespace,
      pod: exec.pod,
      container: exec.container,
      command: exec.command,
      protocols,
    });
    const output = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    let proc: ExecProcess;
    try {
      proc = deps.executor.exec({ namespace: exec.namespace, pod: exec.pod, container: exec.container, command: exec.command, stdin: exec.stdin });
    } catch (e) {
      const status = { metadata: {}, status: 'Failure', message: `error executing command in container: ${(e as Error).message}`, reason: 'InternalError', code: 500 };
      ws.send(frame(STATUS, JSON.stringify(status)), () => ws.close(1000));
      return;
    }
    const entry = { ws, proc };
    this.live.add(entry);
    let finished = false;
    // A fault that cuts the session in the middle: once set, nothing more reaches the client.
    let cut = false;
    // A request (a stdin frame after the first) armed by dropExecRequest: cut at its first REST call or output.
    let cutNext = false;
    let frames = 0;
    const cutNow = (how: 'drop' | ExecStatusFault['status']) => {
      if (cut) return;
      cut = true;
      deps.audit.record({ kind: 'exec-cut', time: Date.now(), namespace: exec.namespace, pod: exec.pod });
      if (how === 'drop') ws.terminate();
      else if (ws.readyState === ws.OPEN) ws.send(frame(STATUS, faultyStatus(how)), () => ws.close(1000));
      proc.kill();
    };
    // The REST calls this session's command makes, as the pod's REST API records them: where a fault cuts in,
    // after the call ran and before its reply reaches the client.
    const stopWatching = deps.audit.onRecord((e) => {
      if (e.kind !== 'rest' || e.pod !== exec.pod || cut || finished) return;
      const call = `${e.method} ${e.path}`;
      if (cutNext) {
        cutNow('drop');
        return;
      }
      const dropAt = deps.faults.dropExecAtRest.find((f) => f.remaining > 0 && f.match.test(call));
      if (dropAt) {
        dropAt.remaining -= 1;
        cutNow('drop');
        return;
      }
      const fault = deps.faults.execStatusFaults.find((f) => f.remaining > 0 && f.match.test(call));
      if (fault) {
        fault.remaining -= 1;
        cutNow(fault.status);
      }
    });

    proc.stdin.on('error', () => {}); // EPIPE when the command exits without reading its input
    if (!exec.stdin) proc.stdin.end();

    ws.on('message', (data) => {
      const buf = toBuffer(data);
      if (buf.length < 1 || cut) return;
      const channel = buf[0];
      if (channel === STDIN) {
        if (exec.stdin && !proc.stdin.writableEnded && buf.length > 1) {
          frames += 1;
          // The first frame opens the conversation; each later one is a request (the sim's own record), but for
          // the plugin's "stop", which asks for nothing and could lose nothing.
          if (frames > 1 && buf.subarray(1).toString('latin1') !== 'stop\n') {
            if (deps.faults.dropExecRequest > 0) {
              deps.faults.dropExecRequest -= 1;
              cutNext = true;
            }
            deps.audit.record({ kind: 'exec-stdin', time: Date.now(), namespace: exec.namespace, pod: exec.pod, frame: frames });
          }
          proc.stdin.write(buf.subarray(1));
        }
      } else if (channel === CLOSE_SIGNAL && v5 && buf[1] === STDIN) {
        if (!proc.stdin.writableEnded) proc.stdin.end();
      }
      // Channel 4 (terminal resize) and anything else: ignored, there is no TTY.
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      this.live.delete(entry);
      if (!finished) proc.kill();
    });

    const send = (channel: number) => (d: Buffer | string) => {
      if (cutNext && channel === STDOUT) cutNow('drop');
      if (!cut && ws.readyState === ws.OPEN) ws.send(frame(channel, d));
    };
    const keep = (list: Buffer[], forward: (d: Buffer | string) => void) => (d: Buffer | string) => {
      list.push(Buffer.from(d));
      forward(d);
    };
    proc.stdout.on('data', exec.stdout ? keep(output.stdout, send(STDOUT)) : () => {});
    proc.stderr.on('data', exec.stderr ? keep(output.stderr, send(STDERR)) : () => {});

    void (async () => {
      const { code, signal } = await proc.exit;
      // Output written just before exit must reach the client before the status frame.
      await Promise.race([Promise.all([ended(proc.stdout), ended(proc.stderr)]), new Promise((r) => setTimeout(r, DRAIN_GRACE_MS))]);
      finished = true;
      this.live.delete(entry);
      stopWatching();
      deps.audit.record({
        kind: 'exec-output',
        time: Date.now(),
        namespace: exec.namespace,
        pod: exec.pod,
        stdout: Buffer.concat(output.stdout).toString('utf8'),
        stderr: Buffer.concat(output.stderr).toString('utf8'),
      });
      if (cut || ws.readyState !== ws.OPEN) return;
      if (drop) {
        ws.terminate();
        return;
      }
      const rc = code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1);
      ws.send(frame(STATUS, JSON.stringify(exitStatus(exec.command, rc))), () => ws.close(1000));
    })();
  }

  /**
   * Cuts every open exec stream, as an API server restart (or a proxy in front of it) does: the connections
   * reset, the commands in the pods end, and a client's next exec is a new request, authorized afresh. A
   * shutdown drains ordinary requests but "long running requests are outside of this scope"
   * (kubernetes/kubernetes staging/src/k8s.io/apiserver/pkg/server/lifecycle_signals.go); authorization runs once
   * per request, before the handler upgrades it (staging/src/k8s.io/apiserver/pkg/endpoints/filters/authorization.go).
   */
  cutAll(): number {
    const open = [...this.live];
    for (const { ws } of open) ws.terminate();
    return open.length;
  }

  close(): void {
    for (const { ws, proc } of this.live) {
      proc.kill();
      ws.terminate();
    }
    this.live.clear();
    this.wss.close();
  }
}
