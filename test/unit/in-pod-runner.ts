// Runs the constant in-pod script with a real sh, as exec does: stdin written, never ended (exec v4).
import { spawn } from 'node:child_process';
import { IN_POD_SCRIPT } from '../../src/pod/in-pod-script.js';

/** `env`: the environment the pod's shell gets (default: this process's); `script`: a variant of the script to run. */
export function runInPodScript(stdin: Buffer, env?: NodeJS.ProcessEnv, script = IN_POD_SCRIPT): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', script], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // 'exit' can come before the last stdout bytes are read: resolve on 'close', once stdin (never ended) is let go.
    child.on('exit', () => child.stdin.destroy());
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    // The script may exit before reading everything: a write to a closed pipe is not a test failure.
    child.stdin.on('error', () => undefined);
    // Never end(): the script must not need EOF.
    child.stdin.write(stdin);
  });
}

/** The nonce these tests open each conversation with (the plugin draws 32 hex digits per session). */
export const NONCE = '0123456789abcdef0123456789abcdef';
export const hello = () => Buffer.from(`reccred ${NONCE}\n`);
export const restRequest = (config: string | Buffer) => {
  const text = config.toString();
  return Buffer.from(`rest ${text.split('\n').length - 1}\n${text}`);
};

export interface Answer {
  code: number;
  stdout: string;
  stderr: string;
}

/** The answers of a conversation's output, cut at the nonce markers (as ScriptSession reads them). */
export function answersOf(stdout: string, stderr: string): Answer[] {
  const outs = stdout.split(new RegExp(`\\n${NONCE} (\\d+)\\n`));
  const errs = stderr.split(`\n${NONCE}\n`);
  const answers: Answer[] = [];
  for (let i = 0; i + 1 < outs.length; i += 2) answers.push({ stdout: outs[i]!, code: Number(outs[i + 1]), stderr: errs[i / 2] ?? '' });
  return answers;
}

/** One conversation: hello, the requests, stop; the session's exit code and each answer. */
export async function converse(requests: Buffer[], env?: NodeJS.ProcessEnv, script?: string): Promise<{ code: number | null; answers: Answer[]; stdout: string; stderr: string }> {
  const res = await runInPodScript(Buffer.concat([hello(), ...requests, Buffer.from('stop\n')]), env, script);
  return { ...res, answers: answersOf(res.stdout, res.stderr) };
}

/** One request in a conversation of its own: its answer (the session must stop cleanly). */
export async function runOne(request: Buffer, env?: NodeJS.ProcessEnv, script?: string): Promise<Answer> {
  const res = await converse([request], env, script);
  if (res.code !== 0 || res.answers.length !== 1) throw new Error(`the conversation ended with exit ${res.code} after ${res.answers.length} answers: ${res.stderr}`);
  return res.answers[0]!;
}
