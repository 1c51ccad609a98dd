// Peak memory of a short command: its peak resident set size as the kernel reports it when the process is reaped
// (wait4's ru_maxrss), read through GNU time (`/usr/bin/time -f %M`, KB). A command of 100 ms is over before a
// sampler reading /proc/PID/status (VmHWM, as measured-process.ts does for long runs) can be sure to see its
// peak: after the last sample, the process is gone. GNU time itself is a small C program whose pre-exec size
// is negligible beside a Node or Go binary; the kernel carries the higher of the fork's and the exec'd
// program's peaks, so the figure is the command's.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const GNU_TIME = '/usr/bin/time';

export function peakRssAvailable(): boolean {
  try {
    fs.accessSync(GNU_TIME, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Asynchronous: the simulated API server runs in this process and must keep answering. */
function once(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-bench-rss-')), 'maxrss');
  return new Promise<number>((resolve, reject) => {
    const child = spawn(GNU_TIME, ['-f', '%M', '-o', out, cmd, ...args], { env, stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        const kb = Number(fs.readFileSync(out, 'utf8').trim().split('\n').pop());
        if (code !== 0 || !Number.isFinite(kb) || kb <= 0) reject(new Error(`${cmd} ${args.join(' ')} under ${GNU_TIME}: exit ${code}, maxrss ${kb}`));
        else resolve(kb);
      } catch (err) {
        reject(err as Error);
      } finally {
        fs.rmSync(path.dirname(out), { recursive: true, force: true });
      }
    });
  });
}

/** Peak RSS in KB, the median of `runs` runs (after one warm-up, so the page cache holds the binary). */
export async function peakRssKb(cmd: string, args: string[], env: NodeJS.ProcessEnv, runs = 5): Promise<number> {
  await once(cmd, args, env);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(await once(cmd, args, env));
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}
