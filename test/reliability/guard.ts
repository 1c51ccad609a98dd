// The checks every reliability scenario shares, applied to every plugin run:
// - lockout guard (SPEC 3.4): failed REST authentications the sim saw during the run, per run;
// - secret hygiene (SPEC 3.5): every password ever in flight is looked for in the outputs, the sim's
//   audit trail (API URIs, exec commands, the argv of every process exec'd in a pod, REST paths), the argv
//   of every local process of the run (the plugin and all it starts, traced with strace: exact, not sampled;
//   kubectl's argv is the run's arguments), files the run left in its HOME and TMPDIR, and annotations/labels;
// - no local process: the plugin starts none (traced process creation), so the argv above is all there is;
// - injection guard: every process exec'd in a pod is one the constant in-pod script is meant to run.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CURL_ARGS, IN_POD_COMMAND, IN_POD_SCRIPT, MOUNTED_CREDENTIALS, POD_TOOLS } from '../../src/pod/in-pod-script.js';
import type { SimCluster } from '../sim/cluster.js';
import { parseTrace, processesOf, straceInstalled, type Trace } from '../sim/pods/exec-trace.js';
import { nsenterArgs } from '../sim/pods/sandbox.js';
import { leaksIn, pluginTarget, reccred, startReccred, type RunOptions, type RunResult } from '../e2e/harness.js';

export interface GuardOptions extends RunOptions {
  /** RECs whose REST authentications count (default: every REC). */
  recs?: string[];
  /**
   * The run starts from credentials that may be wrong (a reset resumed after a crash inside its PUT
   * checks the new password once; a deliberately wrong store): one failed authentication is allowed.
   * Otherwise none is.
   */
  mayFailOnce?: boolean;
  /** stdout legitimately holds a password (--reveal, or a user password printed once). */
  stdoutHasSecret?: boolean;
}

export interface GuardedRun extends RunResult {
  failedAuths: number;
  ms: number;
}

/** Seeded PRNG (mulberry32): scenario choices are printed with their seed so a failure can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const SEED = Number(process.env.RECCRED_SEED) || 20251125;

/**
 * Figures for the README's Safety section, printed at the end of each file. localProcessesTraced: processes of
 * the runs (the plugin's, and in development mode the entry script's helpers and tsx's esbuild), each traced
 * from its creation (the plugin's from its exec); localExecsTraced: the programs they exec'd. podExecsRecorded:
 * programs exec'd in the pods (nsenter, the script's shell, each tool); podExecSessions: the execs they ran in.
 */
export const tally = { runs: 0, maxFailedAuthsPerRun: 0, totalFailedAuths: 0, localProcessesTraced: 0, localExecsTraced: 0, podExecsRecorded: 0, podExecSessions: 0 };

export class Guard {
  readonly passwords = new Set<string>();
  readonly outputs: string[] = [];
  /** Path and argv of every local process the runs exec'd (from their traces). */
  private readonly localArgv = new Set<string>();
  readonly home: string;
  readonly tmp: string;
  /** The runs' process traces: not in HOME or TMPDIR, whose files are the plugin's own. */
  private readonly traces: string;
  private traceCount = 0;
  private readonly stopWatching: () => void;
  runs = 0;

  constructor(
    readonly sim: SimCluster,
    private readonly baseEnv: Record<string, string> = {},
  ) {
    // The plugin's HOME and TMPDIR: every file it writes lands where the scan looks.
    this.home = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-rel-home-'));
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-rel-tmp-'));
    this.traces = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-rel-trace-'));
    assert.ok(straceInstalled(), 'the guard traces every process of a run and in the pods: install strace (apt-get install strace)');
    for (const r of sim.recs) this.addPassword(sim.credentials(r.name)?.password);
    // Every password the store, a journal or a --to-secret Secret ever held.
    this.stopWatching = sim.store.onChange((e) => {
      if (e.resource !== 'secrets') return;
      const data = (e.object as { data?: Record<string, string> }).data ?? {};
      for (const v of Object.values(data)) {
        const text = Buffer.from(v, 'base64').toString('utf8');
        if (text.startsWith('{')) {
          try {
            const j = JSON.parse(text) as { oldPassword?: string; newPassword?: string };
            this.addPassword(j.oldPassword);
            this.addPassword(j.newPassword);
          } catch {
            /* not a journal */
          }
        }
      }
      if (data.password) this.addPassword(Buffer.from(data.password, 'base64').toString('utf8'));
    });
  }

  addPassword(p: string | undefined): void {
    // Short values ("x") would match everywhere and prove nothing; every real password is 8+.
    if (p && p.length >= 8) this.passwords.add(p);
  }

  /** Runs the plugin, then applies the lockout guard to this run. */
  async run(args: string[], options: GuardOptions = {}): Promise<GuardedRun> {
    const { result } = this.start(args, options);
    return result;
  }

  start(args: string[], options: GuardOptions = {}): { result: Promise<GuardedRun>; child: ReturnType<typeof startReccred>['child'] } {
    const mark = this.sim.audit.mark();
    const started = Date.now();
    const env = { HOME: this.home, TMPDIR: this.tmp, ...this.baseEnv, ...options.env };
    const traceFile = path.join(this.traces, `run-${++this.traceCount}.strace`);
    const { child, result } = startReccred(this.sim, args, { ...options, env, traceProcesses: traceFile });
    // A plugin that refuses early (1 MB on stdin) closes the pipe before it is all written: EPIPE is expected.
    child.stdin?.on('error', () => undefined);
    const guarded = result.then((r): GuardedRun => {
      const what = `kubectl reccred ${args.join(' ')} (exit ${r.code}${r.killed ? ', killed' : ''})`;
      const trace = parseTrace(readTrace(traceFile, r.killed));
      fs.rmSync(traceFile, { force: true });
      for (const e of trace.execs) this.localArgv.add(`${e.path} ${e.argv.join(' ')}`);
      // Killed before kubectl exec'd the plugin: nothing of it ran (a kill aimed at a cluster event can land any time).
      const neverStarted = r.killed && trace.execs.length === 0;
      const local = neverStarted ? { processes: 0, execs: 0 } : assertPluginStartsNothing(trace, args, what);
      this.outputs.push(r.stderr);
      if (!options.stdoutHasSecret) this.outputs.push(r.stdout);
      for (const rec of this.sim.recs) this.addPassword(this.sim.credentials(rec.name)?.password);
      const failedAuths = this.sim.audit
        .since(mark)
        .filter((e) => e.kind === 'rest' && (e.auth === 'failed' || e.auth === 'locked') && (!options.recs || options.recs.includes(e.rec))).length;
      assert.ok(failedAuths <= (options.mayFailOnce ? 1 : 0), `lockout guard: ${failedAuths} failed REST authentications in one run of ${what}`);
      // No run, killed or not, may end on a stack trace (SPEC 2: a message that says what to do).
      assert.doesNotMatch(r.stderr, /^\s+at .+\(.*:\d+:\d+\)$/m, `stack trace in the stderr of ${what}:\n${r.stderr}`);
      // Counted only once the run passed its checks: the printed figures are of runs that passed.
      tally.totalFailedAuths += failedAuths;
      tally.maxFailedAuthsPerRun = Math.max(tally.maxFailedAuthsPerRun, failedAuths);
      tally.localProcessesTraced += local.processes;
      tally.localExecsTraced += local.execs;
      this.runs += 1;
      tally.runs += 1;
      return { ...r, failedAuths, ms: Date.now() - started };
    });
    return { child, result: guarded };
  }

  /** Texts of every file under a folder (bounded), for the temp-file scan. */
  private filesUnder(dir: string, out: string[] = [], depth = 0): string[] {
    if (depth > 6) return out;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return out;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) this.filesUnder(p, out, depth + 1);
      else if (e.isFile()) {
        try {
          if (fs.statSync(p).size < 4 * 1024 * 1024) out.push(`${p}: ${fs.readFileSync(p, 'latin1')}`, `${p}: ${fs.readFileSync(p, 'utf8')}`);
        } catch {
          /* unreadable */
        }
      }
    }
    return out;
  }

  /** New top-level entries of os.tmpdir() since `since` (ms), except the sim's own folder (pod credentials live there). */
  private newTmpEntries(since: number): string[] {
    const out: string[] = [];
    for (const name of fs.readdirSync(os.tmpdir())) {
      const p = path.join(os.tmpdir(), name);
      if (p === this.sim.dir || p === this.home || p === this.tmp || name.startsWith('reccred-sim-') || name.startsWith('rs-')) continue;
      try {
        const st = fs.statSync(p);
        if (st.isFile() && st.mtimeMs >= since && st.size < 4 * 1024 * 1024) out.push(`${p}: ${fs.readFileSync(p, 'utf8')}`);
      } catch {
        /* gone or unreadable */
      }
    }
    return out;
  }

  /** Annotations and labels of every object the sim holds. */
  private metadataTexts(): string[] {
    const out: string[] = [];
    for (const resource of ['secrets', 'pods', 'configmaps', 'redisenterpriseclusters', 'namespaces'] as const) {
      for (const o of this.sim.store.list(resource)) {
        const m = o.metadata as { annotations?: unknown; labels?: unknown; name: string };
        out.push(`${resource}/${m.name}: ${JSON.stringify({ a: m.annotations ?? {}, l: m.labels ?? {} })}`);
      }
    }
    return out;
  }

  /**
   * SPEC 3.5 over everything this guard saw, and the injection guard over every process exec'd in the pods.
   * Returns the figures checked so the caller can print them.
   */
  assertClean(since: number): { passwords: number; texts: number; podExecs: number } {
    this.sim.collectArgv();
    const pod = assertOnlyExpectedPodCommands(this.sim);
    tally.podExecsRecorded += pod.execs;
    tally.podExecSessions += pod.sessions;
    const texts = [
      ...this.sim.audit.texts(),
      ...this.outputs,
      ...this.localArgv,
      ...this.filesUnder(this.home),
      ...this.filesUnder(this.tmp),
      ...this.newTmpEntries(since),
      ...this.metadataTexts(),
    ];
    assert.ok(this.passwords.size > 0, 'the guard saw the passwords it looks for');
    assert.deepEqual(leaksIn(texts, [...this.passwords]), [], 'no password in any output, URI, argv, temp file, annotation or label');
    return { passwords: this.passwords.size, texts: texts.length, podExecs: pod.execs };
  }

  dispose(): void {
    this.stopWatching();
    fs.rmSync(this.home, { recursive: true, force: true });
    fs.rmSync(this.tmp, { recursive: true, force: true });
    fs.rmSync(this.traces, { recursive: true, force: true });
  }
}

/**
 * What the constant in-pod script (src/pod/in-pod-script.ts) runs besides shell builtins, with the only
 * argument shapes it passes: the script itself, and each of POD_TOOLS. A password or username that escaped
 * its quoting, or a secret handed to a tool as an argument, shows up as another program or another shape.
 */
const SCRIPT_EXECS: Record<string, (args: string[]) => boolean> = {
  sh: (a) => a.length === 2 && a[0] === '-c' && a[1] === IN_POD_SCRIPT,
  curl: (a) => a.join('\0') === CURL_ARGS.join('\0'),
  // sha256sum "$@": the paths of the mounted credential files there are, in this order, never their contents.
  sha256sum: (a) => [['username'], ['password'], ['username', 'password']].some((names) => a.join('\0') === names.map((n) => `${MOUNTED_CREDENTIALS}/${n}`).join('\0')),
  // head -c "$len" | curl ...: the length of the config that follows on stdin.
  head: (a) => a.length === 2 && a[0] === '-c' && /^\d+$/.test(a[1] ?? ''),
};
/** The folders of the pods' PATH (the sandbox's), where the shell finds each tool. */
const POD_PATH_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/**
 * The injection guard, over every process exec'd in every pod (each exec runs under strace: every execve is
 * recorded whatever the program, failed PATH lookups included): the sim's own nsenter line, which runs the
 * exec's command; then only the script and its tools, in the shapes above (failed PATH lookups too). Returns
 * the programs started (execs that loaded) and the exec sessions they ran in.
 */
export function assertOnlyExpectedPodCommands(sim: SimCluster): { execs: number; sessions: number } {
  sim.collectArgv();
  assert.ok(sim.sandboxes.tracesExecs, 'pod execs are traced (every process run in a pod is recorded): install strace');
  for (const tool of POD_TOOLS) assert.ok(SCRIPT_EXECS[tool], `the guard knows the argument shape of ${tool}, which the in-pod script runs`);
  let execs = 0;
  let sessions = 0;
  let execSessions = 0;
  for (const e of sim.audit.events()) {
    if (e.kind === 'exec') {
      assert.deepEqual(e.command, IN_POD_COMMAND, 'the exec command is the constant script');
      execSessions += 1;
    }
    if (e.kind !== 'argv') continue;
    const shown = `${e.path ?? '(wrapper)'} ${JSON.stringify(e.argv).slice(0, 300)}`;
    assert.ok(e.path !== undefined, `argv in pod ${e.pod} recorded by a wrapper, not by tracing: ${shown}`);
    const [argv0 = '', ...rest] = e.argv;
    const base = path.basename(e.path);
    if (!e.failed) execs += 1;
    if (base === 'nsenter' && argv0 === 'nsenter') {
      // The simulator's side of the exec (the container runtime's, on a real node): enter the pod, run the command.
      const expected = ['nsenter', ...nsenterArgs(sim.sandboxes.mode, Number(rest[1])), ...IN_POD_COMMAND];
      assert.deepEqual(e.argv, expected, `unexpected nsenter line in pod ${e.pod}: ${shown}`);
      if (!e.failed) sessions += 1;
      continue;
    }
    const shape = SCRIPT_EXECS[argv0];
    const ok = shape !== undefined && base === argv0 && POD_PATH_DIRS.includes(path.dirname(e.path)) && shape(rest);
    assert.ok(ok, `unexpected process exec'd in pod ${e.pod}: ${shown}`);
  }
  // Every traced exec's log reached the audit (a simulator that stopped recording would otherwise pass).
  assert.equal(sessions, sim.sandboxes.tracedSessions, 'each traced exec session is in the audit, from its nsenter line on');
  assert.deepEqual(sim.sandboxes.lostTraces, [], 'every exec that was not killed left a trace of what it ran');
  assert.ok(execSessions === 0 || sessions > 0, `${execSessions} exec requests and no traced exec session`);
  assert.ok(sessions <= execSessions, `${sessions} traced exec sessions but ${execSessions} exec requests`);
  return { execs, sessions };
}

/** The development entry (bin/kubectl-reccred) is a sh script: its $(dirname "$(readlink -f "$0")"), then exec node. */
const isEntryHelper = (argv: string[]) => (argv[0] === 'dirname' && argv.length === 2) || (argv[0] === 'readlink' && argv.length === 3 && argv[1] === '-f');
/** tsx compiles the TypeScript sources through esbuild's service process (development entry only). */
const isEsbuildService = (p: string, argv: string[]) =>
  /\/node_modules\/(@esbuild\/[a-z0-9-]+\/bin|esbuild\/bin)\/esbuild$/.test(p) &&
  argv.length === 3 &&
  argv[0] === p &&
  /^--service=[\d.]+$/.test(argv[1] ?? '') &&
  argv[2] === '--ping';

/**
 * The plugin starts no process (so no argv but its own can carry a secret), checked on the run's trace of every
 * fork, clone and exec from the plugin's exec on (harness.ts tracingBinDir): that process makes no process
 * (threads aside) and execs nothing else. With RECCRED_EXECUTABLE (the single executable, as CI runs the suite)
 * that is all; through the development entry the sh script may run dirname and readlink before it execs node
 * (tsx), and tsx may start esbuild's service: exactly those, nothing more.
 */
export function assertPluginStartsNothing(trace: Trace, args: string[], what: string): { processes: number; execs: number } {
  const target = pluginTarget();
  const processOf = processesOf(trace);
  const start = trace.execs[0];
  assert.ok(start && start.path === target && start.result !== -1, `the trace of ${what} starts with the plugin's exec (${target})`);
  assert.deepEqual(start.argv, [target, ...args], `the plugin's argv is the arguments it was given (${what})`);
  const plugin = processOf(start.tid);
  const dev = !process.env.RECCRED_EXECUTABLE;
  const show = (p: number) =>
    JSON.stringify(
      trace.execs.filter((e) => processOf(e.tid) === p).map((e) => e.argv),
      null,
    ).slice(0, 400);
  // The plugin's own later execs: none, or (development entry) node running tsx on src/main.ts.
  const own = trace.execs.filter((e) => processOf(e.tid) === plugin && e.at > start.at);
  const node = own.find((e) => e.result === 0);
  for (const e of own) {
    const ok =
      dev &&
      path.basename(e.path) === 'node' &&
      e.argv[0] === 'node' &&
      e.argv[1] === '--import' &&
      /\/tsx\/dist\/esm\/index\.mjs$/.test(e.argv[2] ?? '') &&
      /\/src\/main\.ts$/.test(e.argv[3] ?? '') &&
      e.argv.slice(4).join('\0') === args.join('\0') &&
      e.at <= (node?.at ?? Infinity);
    assert.ok(ok, `the plugin exec'd ${e.path} ${JSON.stringify(e.argv).slice(0, 300)} (${what})`);
  }
  // Every process created below the plugin after its exec, with its creator.
  const below = new Map<number, { parent: number; at: number }>();
  const made = trace.creations.filter((c) => !c.thread && c.at > start.at).map((c) => ({ ...c, parent: processOf(c.tid) }));
  // Until nothing is added: a child's own lines may precede the line where its creator's clone returned.
  for (let size = -1; size !== below.size;) {
    size = below.size;
    for (const c of made) {
      if (c.parent !== plugin && !below.has(c.parent)) continue;
      // A fork or clone cut short when the run was killed: a process was being made all the same.
      assert.ok(c.child !== undefined, `the plugin was starting a process when it was killed (${what})`);
      below.set(c.child, { parent: c.parent, at: c.at });
    }
  }
  for (const [p, { parent, at }] of below) {
    const execs = trace.execs.filter((e) => processOf(e.tid) === p);
    const beforeNode = node !== undefined && at < node.at;
    const allowed =
      dev && execs.filter((e) => e.result !== -1).length === 1 && execs.every((e) => (beforeNode ? isEntryHelper(e.argv) : parent === plugin && isEsbuildService(e.path, e.argv)));
    assert.ok(allowed, `the plugin started a process (${what}): pid ${p}, exec'd ${show(p)}`);
  }
  const processes = 1 + trace.creations.filter((c) => !c.thread).length;
  // Loaded, or whose result the log could not show (an exec by a thread other than the leader, as Go's is).
  return { processes, execs: trace.execs.filter((e) => e.result !== -1).length };
}

export function printTally(label: string, extra: Record<string, number> = {}): void {
  // Printed, not asserted: the README's Safety figures are read from these lines.
  process.stdout.write(`      [figures] ${label}: ${JSON.stringify({ ...tally, ...extra })}\n`);
}

export { reccred };

/** A run's process trace; empty when the run was killed before strace (started by the plugin's wrapper) opened its log. */
function readTrace(file: string, killed: boolean): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (killed && (err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}
