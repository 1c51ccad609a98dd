// Runs the constant in-pod script with a real sh, as exec does: stdin written, never ended (exec v4).
import { spawn } from 'node:child_process';
import { IN_POD_SCRIPT } from '../../src/pod/in-pod-script.js';

/** `env`: the environment the pod's shell gets (default: this process's). */
export function runInPodScript(stdin: Buffer, env?: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', IN_POD_SCRIPT], { env, stdio: ['pipe', 'pipe', 'pipe'] });
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
