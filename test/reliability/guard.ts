// The checks every reliability scenario shares, applied to every plugin run:
// - lockout guard (SPEC 3.4): failed REST authentications the sim saw during the run, per run;
// - secret hygiene (SPEC 3.5): every password ever in flight is looked for in the outputs, the sim's
//   audit trail (API URIs, exec commands, pod argv, REST paths), local process argv (sampled from /proc
//   while the run lasts), files the run left in its HOME and TMPDIR, and annotations/labels;
// - injection guard: every command that ran in a pod is one the plugin is meant to run.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CURL_ARGS, IN_POD_SCRIPT } from '../../src/pod/in-pod-script.js';
import type { SimCluster } from '../sim/cluster.js';
import { leaksIn, reccred, startReccred, type RunOptions, type RunResult } from '../e2e/harness.js';

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

/** Figures for the README's Safety section, printed at the end of each file. */
export const tally = { runs: 0, maxFailedAuthsPerRun: 0, totalFailedAuths: 0 };

export class Guard {
  readonly passwords = new Set<string>();
  readonly outputs: string[] = [];
  private readonly argvSeen = new Set<string>();
  readonly home: string;
  readonly tmp: string;
  private readonly stopWatching: () => void;
  runs = 0;

  constructor(
    readonly sim: SimCluster,
    private readonly baseEnv: Record<string, string> = {},
  ) {
    // The plugin's HOME and TMPDIR: every file it writes lands where the scan looks.
    this.home = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-rel-home-'));
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-rel-tmp-'));
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
    const { child, result } = startReccred(this.sim, args, { ...options, env });
    // A plugin that refuses early (1 MB on stdin) closes the pipe before it is all written: EPIPE is expected.
    child.stdin?.on('error', () => undefined);
    const sampler = setInterval(() => this.sampleArgv(), 150);
    const guarded = result.then((r): GuardedRun => {
      clearInterval(sampler);
      this.sampleArgv();
      this.runs += 1;
      tally.runs += 1;
      this.outputs.push(r.stderr);
      if (!options.stdoutHasSecret) this.outputs.push(r.stdout);
      for (const rec of this.sim.recs) this.addPassword(this.sim.credentials(rec.name)?.password);
      const failedAuths = this.sim.audit
        .since(mark)
        .filter((e) => e.kind === 'rest' && (e.auth === 'failed' || e.auth === 'locked') && (!options.recs || options.recs.includes(e.rec))).length;
      tally.totalFailedAuths += failedAuths;
      tally.maxFailedAuthsPerRun = Math.max(tally.maxFailedAuthsPerRun, failedAuths);
      const what = `kubectl reccred ${args.join(' ')} (exit ${r.code}${r.killed ? ', killed' : ''})`;
      assert.ok(failedAuths <= (options.mayFailOnce ? 1 : 0), `lockout guard: ${failedAuths} failed REST authentications in one run of ${what}`);
      // No run, killed or not, may end on a stack trace (SPEC 2: a message that says what to do).
      assert.doesNotMatch(r.stderr, /^\s+at .+\(.*:\d+:\d+\)$/m, `stack trace in the stderr of ${what}:\n${r.stderr}`);
      return { ...r, failedAuths, ms: Date.now() - started };
    });
    return { child, result: guarded };
  }

  /** Every local process's argv while a run lasts (the plugin, kubectl, pod sandboxes' curl and sh). */
  private sampleArgv(): void {
    let pids: string[];
    try {
      pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
    } catch {
      return;
    }
    for (const pid of pids) {
      try {
        const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (argv) this.argvSeen.add(argv.replace(/\0/g, ' '));
      } catch {
        /* gone */
      }
    }
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
   * SPEC 3.5 over everything this guard saw, and the injection guard over pod argv.
   * Returns the figures checked so the caller can print them.
   */
  assertClean(since: number): { passwords: number; texts: number } {
    this.sim.collectArgv();
    assertOnlyExpectedPodCommands(this.sim);
    const texts = [
      ...this.sim.audit.texts(),
      ...this.outputs,
      ...this.argvSeen,
      ...this.filesUnder(this.home),
      ...this.filesUnder(this.tmp),
      ...this.newTmpEntries(since),
      ...this.metadataTexts(),
    ];
    assert.ok(this.passwords.size > 0, 'the guard saw the passwords it looks for');
    assert.deepEqual(leaksIn(texts, [...this.passwords]), [], 'no password in any output, URI, argv, temp file, annotation or label');
    return { passwords: this.passwords.size, texts: texts.length };
  }

  dispose(): void {
    this.stopWatching();
    fs.rmSync(this.home, { recursive: true, force: true });
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}

/**
 * The injection guard: every argv recorded in a pod (the sim wraps sh/dash, bash and curl) is the
 * constant script or `curl -q -K -`. A password or username that escaped its quoting would show up here
 * as another command.
 */
export function assertOnlyExpectedPodCommands(sim: SimCluster): void {
  sim.collectArgv();
  for (const e of sim.audit.events()) {
    if (e.kind === 'exec') assert.deepEqual(e.command, ['sh', '-c', IN_POD_SCRIPT], 'the exec command is the constant script');
    if (e.kind !== 'argv') continue;
    const [argv0, ...rest] = e.argv;
    const base = path.basename(argv0 ?? '');
    const ok =
      (['sh', 'dash', 'bash'].includes(base) && rest.length === 2 && rest[0] === '-c' && rest[1] === IN_POD_SCRIPT) || (base === 'curl' && rest.join(' ') === CURL_ARGS.join(' '));
    assert.ok(ok, `unexpected command in pod ${e.pod}: ${JSON.stringify(e.argv).slice(0, 300)}`);
  }
}

export function printTally(label: string, extra: Record<string, number> = {}): void {
  // Printed, not asserted: the README's Safety figures are read from these lines.
  process.stdout.write(`      [figures] ${label}: ${JSON.stringify({ ...tally, ...extra })}\n`);
}

export { reccred };
