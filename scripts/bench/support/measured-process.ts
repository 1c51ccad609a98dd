// Runs one client process (the plugin, or kubectl and the shell commands of the manual procedure) against the
// simulated cluster, and accounts CPU to each side without overlap:
// - the client: its exact user+sys time as wait4 reports it. It runs under a `sh` whose `times` builtin prints
//   the sh's own and its reaped children's times (the kernel's rusage, in clock ticks) on fd 3;
// - the simulated cluster: this process (API server, REST APIs, kubelet, operator, Vault run here), plus the
//   children this process reaped during the run (the pod execs: nsenter, sh, curl) minus the client's sh and
//   everything under it, plus the pod sandboxes' resident processes (unshare, the forwarder or cat holding the
//   namespaces) and what they reaped, read from /proc before and after.
// Peak memory is the client process's VmHWM (peak resident set size) from /proc, read every 25 ms.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { SimCluster } from '../../../test/sim/cluster.js';

const TICK_MS = 10; // USER_HZ is 100 on Linux

export interface MeasuredRun {
  code: number | null;
  wallMs: number;
  /** Peak resident set size of the client process itself (not the sh around it). */
  peakRssKb: number;
  /** User+sys CPU of the client process and its descendants, from wait4. */
  clientCpuMs: number;
  /** User+sys CPU of the simulated cluster during the run, the client excluded. */
  simCpuMs: number;
  stdout: string;
  stderr: string;
}

/** Fields after the command name of /proc/PID/stat: [0] is field 3 (state). */
function statFields(pid: number | 'self'): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** utime+stime (fields 14, 15), optionally with cutime+cstime (16, 17: the children it reaped), in ms. */
function cpuOf(pid: number | 'self', which: 'own' | 'children' | 'both'): number {
  const f = statFields(pid);
  if (!f) return 0;
  const own = Number(f[11]) + Number(f[12]);
  const children = Number(f[13]) + Number(f[14]);
  return (which === 'own' ? own : which === 'children' ? children : own + children) * TICK_MS;
}

function commOf(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      for (const c of fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) if (c) out.push(Number(c));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/**
 * CPU so far of every pod sandbox's resident process tree: unshare (the namespace holder's parent) and every live
 * descendant, each with what it reaped, so a process is counted once whether it is alive or reaped.
 */
export function sandboxCpuMs(sim: SimCluster): number {
  let total = 0;
  for (const rec of sim.recs) {
    for (const pod of rec.pods) {
      const holder = sim.sandboxes.pid(rec.namespace, pod);
      if (!holder) continue;
      const parent = Number(statFields(holder)?.[1]);
      const root = commOf(parent) === 'unshare' ? parent : holder;
      const stack = [root];
      for (let pid = stack.pop(); pid !== undefined; pid = stack.pop()) {
        total += cpuOf(pid, 'both');
        stack.push(...childrenOf(pid));
      }
    }
  }
  return total;
}

function peakRss(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** `0m1.230000s` (dash) or `0m1.230s` (bash) -> ms. */
function parseTimes(text: string): { shell: number; children: number } {
  const lines = text.trim().split('\n');
  const ms = (line: string | undefined) => [...(line ?? '').matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + (Number(m[1]) * 60 + Number(m[2])) * 1000, 0);
  const last = lines.length - 1;
  if (last < 1) throw new Error(`bench: no times output from the client's sh: ${JSON.stringify(text)}`);
  return { shell: ms(lines[last - 1]), children: ms(lines[last]) };
}

// The client runs in the background so its pid is known at once ($!), with the sh's stdin (a non-interactive sh
// gives background jobs /dev/null otherwise) and without fd 3. `times` after `wait` covers the reaped client.
const WRAPPER = 'exec 4<&0; "$@" <&4 4<&- 3>&- & echo "pid $!" >&3; wait $!; s=$?; times >&3; exit $s';

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to the client's stdin, then closed; without it stdin is empty. */
  input?: string;
}

/** Asynchronous: the simulated API server runs in this process and must keep answering. */
export function runMeasured(sim: SimCluster, command: string, args: string[], o: RunOptions): Promise<MeasuredRun> {
  const started = Date.now();
  const self0 = process.cpuUsage();
  const reaped0 = cpuOf('self', 'children');
  const sandboxes0 = sandboxCpuMs(sim);
  const child = spawn('/bin/sh', ['-c', WRAPPER, 'sh', command, ...args], { env: o.env, cwd: o.cwd, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  child.stdin!.on('error', () => {});
  child.stdin!.end(o.input ?? '');
  let clientPid: number | undefined;
  let peakRssKb = 0;
  let fd3 = '';
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  (child.stdio[3] as NodeJS.ReadableStream).on('data', (d) => {
    fd3 += d;
    const m = /^pid (\d+)$/m.exec(fd3);
    if (m) clientPid = Number(m[1]);
  });
  const sample = () => {
    const v = clientPid === undefined ? undefined : peakRss(clientPid);
    if (v !== undefined) peakRssKb = Math.max(peakRssKb, v);
  };
  const timer = setInterval(sample, 25);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      const wallMs = Date.now() - started;
      const self = process.cpuUsage(self0);
      const reaped = cpuOf('self', 'children') - reaped0;
      const times = parseTimes(fd3.replace(/^pid \d+\n/m, ''));
      // The sh was reaped by this process, so its times are inside `reaped`: anything else means the split is wrong.
      if (reaped < times.shell + times.children - 2 * TICK_MS) {
        reject(new Error(`bench: CPU accounting: this process reaped ${reaped} ms, less than the client's sh reports (${times.shell + times.children} ms)`));
        return;
      }
      const simCpuMs = (self.user + self.system) / 1000 + (reaped - times.shell - times.children) + (sandboxCpuMs(sim) - sandboxes0);
      resolve({ code, wallMs, peakRssKb, clientCpuMs: times.children, simCpuMs, stdout, stderr });
    });
  });
}
