// Runs the plugin the way a user does: `kubectl reccred ...` through the real kubectl, with the
// plugin found on PATH, against the simulated cluster. RECCRED_EXECUTABLE selects a built single
// executable instead of the development entry (CI runs the suite through both).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import type { AuditEvent } from '../sim/audit.js';
import type { SimCluster } from '../sim/cluster.js';
import { straceArgs } from '../sim/pods/exec-trace.js';
import type { StoreEvent } from '../sim/kube/store.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface PluginRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let binDir: string | undefined;
/** The plugin the tests run: the single executable RECCRED_EXECUTABLE names, else the development entry. */
export const pluginTarget = (): string => (process.env.RECCRED_EXECUTABLE ? path.resolve(process.env.RECCRED_EXECUTABLE) : path.join(repo, 'bin', 'kubectl-reccred'));
/** A folder holding only `kubectl-reccred`, put first on PATH. */
export function pluginBinDir(): string {
  if (binDir) return binDir;
  binDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-bin-'));
  fs.symlinkSync(pluginTarget(), path.join(binDir, 'kubectl-reccred'));
  return binDir;
}

const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * A folder holding a `kubectl-reccred` that runs the plugin under strace (test/sim/pods/exec-trace.ts), put
 * before pluginBinDir() on PATH. kubectl exec()s it, it execs strace -DD, which makes the same process exec the
 * plugin as a tracee: the pid kubectl started is still the plugin's, and the tracer (strace's grandchild, in its
 * own process group) is never in the way of a kill.
 */
function tracingBinDir(log: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-traced-bin-'));
  const strace = ['strace', ...straceArgs(log, 'processes'), pluginTarget()].map(shQuote).join(' ');
  fs.writeFileSync(path.join(dir, 'kubectl-reccred'), `#!/bin/sh\nexec ${strace} "$@"\n`, { mode: 0o755 });
  return dir;
}

export type KillEvent = { store?: StoreEvent; audit?: AuditEvent };

export interface RunOptions {
  stdin?: string | Buffer;
  kubeconfig?: string;
  env?: Record<string, string>;
  /** SIGKILL the plugin, synchronously, when the sim sees this event (before it answers the request). */
  killWhen?: (e: KillEvent) => boolean;
  kubectl?: string;
  /**
   * Trace every process creation and exec of the plugin, from its own exec on (anything it starts, and the
   * development entry's sh and node), into this file (test/sim/pods/exec-trace.ts). kubectl is not traced.
   */
  traceProcesses?: string;
}

export interface RunResult extends PluginRun {
  killed: boolean;
}

/** A kubeconfig of one cluster, one user and their context "ctx" in `namespace`, written readable by its owner only. */
export function writeKubeconfig(file: string, cluster: Record<string, unknown>, user: Record<string, unknown>, namespace: string): string {
  fs.writeFileSync(
    file,
    yaml.dump({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'ctx',
      clusters: [{ name: 'sim', cluster }],
      users: [{ name: 'u', user }],
      contexts: [{ name: 'ctx', context: { cluster: 'sim', user: 'u', namespace } }],
    }),
    { mode: 0o600 },
  );
  return file;
}

export function reccred(sim: SimCluster, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return startReccred(sim, args, options).result;
}

export function startReccred(sim: SimCluster, args: string[], options: RunOptions = {}): { child: ChildProcess; result: Promise<RunResult> } {
  const traced = options.traceProcesses === undefined ? undefined : tracingBinDir(options.traceProcesses);
  const env = {
    ...process.env,
    PATH: [...(traced ? [traced] : []), pluginBinDir(), process.env.PATH].join(path.delimiter),
    KUBECONFIG: options.kubeconfig ?? sim.kubeconfig,
    RECCRED_POLL_MS: '200',
    // Takeovers wait a lease duration (a change in flight too): kept short so resumes after a kill are quick.
    RECCRED_LEASE_MS: '2000',
    ...options.env,
  };
  const child: ChildProcess = spawn(options.kubectl ?? 'kubectl', ['reccred', ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const result = new Promise<RunResult>((resolve) => {
    let stdout = '';
    let stderr = '';
    let killed = false;
    const unsubscribe: Array<() => void> = [];
    if (options.killWhen) {
      const check = (e: KillEvent) => {
        if (!killed && options.killWhen!(e)) {
          killed = true;
          // kubectl exec()s the plugin, so this pid is the plugin's own (traced too: see tracingBinDir).
          child.kill('SIGKILL');
        }
      };
      unsubscribe.push(sim.store.onChange((store) => check({ store })));
      unsubscribe.push(sim.audit.onRecord((audit) => check({ audit })));
    }
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('close', (code, signal) => {
      unsubscribe.forEach((u) => u());
      if (traced) fs.rmSync(traced, { recursive: true, force: true });
      resolve({ code, signal, stdout, stderr, killed });
    });
    if (options.stdin !== undefined) child.stdin!.end(options.stdin);
    else child.stdin!.end();
  });
  return { child, result };
}

/** Journal phase carried by a store event on the journal Secret, if any. */
export function journalPhaseOf(e: StoreEvent | undefined): string | undefined {
  if (!e || e.resource !== 'secrets' || !e.object.metadata.name.endsWith('-reccred-journal')) return undefined;
  if (e.type === 'DELETED') return 'deleted';
  const data = (e.object as { data?: Record<string, string> }).data?.['journal.json'];
  if (!data) return undefined;
  return JSON.parse(Buffer.from(data, 'base64').toString('utf8')).phase;
}

export function journalExists(sim: SimCluster, namespace: string, rec: string): boolean {
  return sim.store.get('secrets', namespace, `${rec}-reccred-journal`) !== undefined;
}

/**
 * The REC's own components (operator, services rigger) must never meet a password the cluster refuses: a
 * refused login counts towards the admin's lockout. Registers hooks on the calling suite that fail any test
 * during which one did, except tests that call the returned `expect()` (a deliberately wrong store, a paused
 * operator's documented reset window).
 */
export function guardOperatorLogins(simOf: () => SimCluster | undefined): { expect: () => void } {
  let before = new Map<string, number>();
  let expected = false;
  beforeEach(() => {
    const sim = simOf();
    before = new Map((sim?.recs ?? []).map((r) => [r.name, sim?.operator.failures(r.name).length ?? 0]));
    expected = false;
  });
  afterEach(function () {
    const sim = simOf();
    if (expected || !sim || this.currentTest?.state === 'failed') return;
    sim.operator.tickAll(); // a round now: the test may have ended between two of the components' logins
    const fresh = sim.recs.flatMap((r) => sim.operator.failures(r.name).slice(before.get(r.name) ?? 0));
    assert.deepEqual(
      fresh.map((f) => `${f.rec}: ${f.username} from ${f.source} ${f.reason}`),
      [],
      `the REC's components met refused credentials during "${this.currentTest?.title ?? ''}"`,
    );
  });
  return { expect: () => (expected = true) };
}

/** The passwords the cluster accepts for a user, straight from the sim's state. */
export function validPasswords(sim: SimCluster, rec: string, email: string): string[] {
  const user = sim.redis(rec).findUser(email);
  return user ? [...user.passwords] : [];
}

/**
 * The base64 of any text that contains `secret`, whatever bytes precede it: for each of the three
 * alignments, the characters that depend on the secret's bytes alone (an Authorization header carries
 * `user:password`, so the password sits at an offset the username decides).
 */
export function base64Cores(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const cores: string[] = [];
  for (let k = 0; k < 3; k++) {
    const text = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
    // Character c encodes bits 6c..6c+5: keep those whose bits all lie inside the secret's bytes.
    const first = Math.ceil((8 * k) / 6);
    const last = Math.floor((8 * (k + bytes.length) - 6) / 6);
    if (last >= first) cores.push(text.slice(first, last + 1));
  }
  return cores;
}

export function leaksIn(texts: string[], secrets: string[]): string[] {
  const found: string[] = [];
  for (const s of secrets) {
    const b64 = base64Cores(s);
    const forms = [
      s,
      JSON.stringify(s).slice(1, -1),
      ...b64,
      ...b64.map((c) => c.replace(/\+/g, '-').replace(/\//g, '_')),
      // encodeURIComponent throws on a lone surrogate; URLSearchParams writes it as U+FFFD.
      /[\uD800-\uDFFF]/u.test(s) ? s : encodeURIComponent(s),
      new URLSearchParams({ s }).toString().slice(2),
    ];
    for (const t of texts) if (forms.some((f) => t.includes(f))) found.push(`${s.slice(0, 3)}… in ${t.slice(0, 120)}`);
  }
  return found;
}

/** Polls `check` every 50 ms until it holds; fails the test naming `what` after `timeoutMs`. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
