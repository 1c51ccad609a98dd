// One exec session for one command, its whole stdin sent at once, collected until its exit status: how the
// exec-session tests drive openExecStream (the plugin itself talks to the in-pod script through ScriptSession).
import type { KubeApi } from '../../src/kube/api-client.js';
import { openExecStream } from '../../src/pod/exec-session.js';

export interface ExecResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** One command, its whole stdin sent at once, until its exit status (or the timeout, then unknown). */
export async function execInPod(
  api: KubeApi,
  target: { namespace: string; pod: string; container: string },
  command: string[],
  stdinPayload: Buffer,
  timeoutMs: number,
): Promise<ExecResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let timer: NodeJS.Timeout | undefined;
  let done: (outcome: { exitCode: number } | { error: Error }) => void = () => undefined;
  const ended = new Promise<{ exitCode: number } | { error: Error }>((r) => (done = r));
  const stream = await openExecStream(api, target, command, timeoutMs, {
    stdout: (c) => out.push(c),
    stderr: (c) => err.push(c),
    end: (o) => done(o),
  });
  stream.send(stdinPayload);
  if (timeoutMs > 0) timer = setTimeout(() => stream.abandon(`no exit status after ${timeoutMs}ms`), timeoutMs);
  const outcome = await ended;
  clearTimeout(timer);
  if ('error' in outcome) throw outcome.error;
  return { exitCode: outcome.exitCode, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
}
