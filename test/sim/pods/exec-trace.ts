// Exact records of process creation, by strace: every execve (path and argv) a command and all its descendants
// make, and (for the local check) every fork and clone. Used for each pod exec (the sandboxes record every
// process run in a pod, whatever its name) and around the plugin (the guard proves it starts no process).
// strings are printed as hex (-xx), so a path or argument parses back byte for byte, whatever it holds.
import { spawnSync } from 'node:child_process';

/** Exec'd programs only (pods), or process creation too (the local check: fork, vfork, clone, clone3). */
export type TraceScope = 'execs' | 'processes';

let installed: boolean | undefined;
/** strace is on PATH and can trace here (ptrace allowed). */
export function straceInstalled(): boolean {
  installed ??= spawnSync('strace', ['-f', '-qq', '-e', 'trace=none', '-o', '/dev/null', '--', 'true'], { timeout: 10_000 }).status === 0;
  return installed;
}

/**
 * strace's arguments before the traced command. -DD: the tracer runs as the command's grandchild in its own
 * process group, so the command keeps the pid spawn() returned (a SIGKILL to it, or to its group, hits the
 * command and its descendants, never the tracer, which stays to log the last events and exits after them)
 * and its exit code or signal is the command's own. The tracer keeps the inherited stderr pipe open until it
 * exits (strace points its own stdin and stdout at /dev/null, not stderr), so the log is complete when the
 * child's 'close' fires; a log found empty anyway is reported (PodSandboxes.lostTraces), never skipped.
 */
export function straceArgs(log: string, scope: TraceScope): string[] {
  // --seccomp-bpf: the tracees stop at the traced calls only. strace 6.1 with it misses a process's next traced
  // call after a thread other than the leader exec'd (Go's kubectl does when it execs the plugin, about 1 run
  // in 10 here): so the plugin is traced from its own exec on (harness.ts), never through kubectl's.
  const calls = scope === 'execs' ? 'execve,execveat' : 'execve,execveat,fork,vfork,clone,clone3';
  return ['-DD', '-f', '-qq', '--seccomp-bpf', '-e', `trace=${calls}`, '-e', 'signal=none', '-xx', '-s', '1048576', '-o', log, '--'];
}

export interface TracedExec {
  /** Thread id that called execve (the process id for a single-threaded caller). */
  tid: number;
  path: string;
  argv: string[];
  /** 0 when the program was loaded; -1 when execve failed (a PATH search tries several); undefined if not seen. */
  result?: number;
  /** Position in the log, for ordering. */
  at: number;
}

export interface TracedCreation {
  tid: number;
  /** undefined: the call never returned in the log (its caller was killed inside it). */
  child: number | undefined;
  /** CLONE_THREAD: a thread of the same process, not a new process. */
  thread: boolean;
  at: number;
}

export interface Trace {
  execs: TracedExec[];
  creations: TracedCreation[];
  /** The first traced process (the command strace started). */
  root: number | undefined;
}

const HEX_STRING = String.raw`"((?:\\x[0-9a-f]{2})*)"(?:\.\.\.)?`;
const decode = (hex: string) => Buffer.from(hex.replace(/\\x/g, ''), 'hex').toString('utf8');

/** execve("path", ["argv0", ...], ...) or execveat(fd, "path", [...], ...). */
function parseExec(call: string, text: string): { path: string; argv: string[] } | undefined {
  const m = new RegExp(`^${call}\\((?:[^,]+, )?${HEX_STRING}, (\\[(?:${HEX_STRING}(?:, )?)*(?:\\.\\.\\.)?\\]|NULL)`).exec(text);
  if (!m) return undefined;
  const argv = [...(m[2] ?? '').matchAll(new RegExp(HEX_STRING, 'g'))].map((a) => decode(a[1] ?? ''));
  return { path: decode(m[1] ?? ''), argv };
}

const CREATES = ['fork', 'vfork', 'clone', 'clone3'];
const isThread = (call: string) => (/flags=([A-Z0-9_|]+)/.exec(call)?.[1] ?? '').split('|').includes('CLONE_THREAD');

/** The call's return value; for a pid in another PID namespace, the pid strace notes for its own namespace. */
function resultOf(text: string): number | undefined {
  const m = /\)\s+=\s+(-?\d+)(?: \/\* (\d+) in strace's PID NS \*\/)?(?:\s.*)?$/.exec(text);
  return m ? Number(m[2] ?? m[1]) : undefined;
}

/** Parses `strace -f -xx` output (see straceArgs). A line cut short (the log of a killed run) is skipped. */
export function parseTrace(text: string): Trace {
  const trace: Trace = { execs: [], creations: [], root: undefined };
  const pending = new Map<number, { call: string; entry: string; at: number; exec?: TracedExec }>();
  const lines = text.split('\n');
  lines.forEach((line, at) => {
    const m = /^(\d+)\s+(.*)$/.exec(line);
    if (!m) return;
    const tid = Number(m[1]);
    trace.root ??= tid;
    let body = m[2] ?? '';
    let call: string;
    let entry: string;
    const resumed = /^<\.\.\. (\w+) resumed>(.*)$/.exec(body);
    let exec: TracedExec | undefined;
    if (resumed) {
      const p = pending.get(tid);
      pending.delete(tid);
      // A thread other than the leader that execs takes the leader's id: its result arrives under that id.
      if (!p || p.call !== resumed[1]) return;
      call = p.call;
      entry = p.entry;
      exec = p.exec;
      body = `${p.entry}${resumed[2] ?? ''}`;
    } else {
      const c = /^(\w+)\(/.exec(body);
      if (!c) return;
      call = c[1]!;
      entry = body;
    }
    const unfinished = body.endsWith('<unfinished ...>');
    if ((call === 'execve' || call === 'execveat') && !exec) {
      const parsed = parseExec(call, entry);
      if (!parsed) return;
      exec = { tid, ...parsed, at };
      trace.execs.push(exec);
    }
    if (unfinished) {
      pending.set(tid, { call, entry: body.slice(0, -'<unfinished ...>'.length).trimEnd(), at, ...(exec ? { exec } : {}) });
      return;
    }
    const result = resultOf(body);
    if (exec) {
      if (result !== undefined) exec.result = result < 0 ? -1 : result;
      return;
    }
    if (CREATES.includes(call) && result !== undefined && result > 0) {
      trace.creations.push({ tid, child: result, thread: isThread(body), at });
    }
  });
  // A creation cut short by a kill still says what it was making: a process or a thread.
  for (const [tid, p] of pending) {
    if (CREATES.includes(p.call)) trace.creations.push({ tid, child: undefined, thread: isThread(p.entry), at: p.at });
  }
  return trace;
}

/** The process (thread group) of each thread id in the trace: a thread belongs to its creator's process. */
export function processesOf(trace: Trace): (tid: number) => number {
  const creator = new Map(trace.creations.flatMap((c) => (c.thread && c.child !== undefined ? [[c.child, c.tid] as const] : [])));
  const of = (tid: number): number => {
    for (let t = tid, hops = 0; hops < 100_000; hops++) {
      const up = creator.get(t);
      if (up === undefined) return t;
      t = up;
    }
    return tid;
  };
  return of;
}
