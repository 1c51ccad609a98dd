// Fleet rotation benchmark (issue 7): API round trips and exec sessions of one rotation beside the
// documented manual procedure, wall time of one rotation minus its settle, and wall time and peak memory
// of rotating 1, 10, 50 and 100 RECs at once, against the simulated cluster with 20 ms latency per API
// round trip and per exec. `run()` returns a markdown report; run this file directly to print it.
//
// The plugin runs as a user runs it, in a process of its own: RECCRED_EXECUTABLE if set, else the release
// bundle built fresh from the sources (what the single executable runs), else bin/kubectl-reccred (the
// sources through tsx, which alone adds about 3 s of start-up and 90 MB). Peak memory is that process's
// VmHWM (peak resident set size) from /proc, read every 25 ms until it exits.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ROTATION_PERMISSIONS } from '../../src/procedures/preflight.js';
import type { AuditEvent } from '../../test/sim/audit.js';
import { startSimCluster, type SimCluster } from '../../test/sim/cluster.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LATENCY_MS = 20;
const SETTLE_S = 10;
const SIZES = [1, 10, 50, 100];
const NAMESPACES = 10;
/** The manual procedure of manage-rec-credentials.md ("Change the REC password for the current username"). */
const MANUAL = {
  // kubectl get secret (GET); 2 x kubectl exec (GET pod + exec upgrade each); kubectl apply (GET + PATCH).
  // `kubectl create secret --dry-run -o yaml` is client-side. Discovery requests are not counted.
  api: 7,
  exec: 2,
  rest: 2,
};

interface PluginRun {
  code: number | null;
  wallMs: number;
  peakRssKb: number;
  /** CPU time of the plugin process. */
  cpuMs: number;
  /** CPU time of this process (the simulated API server, REST APIs, kubelet) and of its reaped children (pod execs: nsenter, sh, curl). */
  simCpuMs: number;
  stdout: string;
  stderr: string;
}

interface Plugin {
  command: string;
  prefix: string[];
  label: string;
  cleanup: () => void;
}

async function plugin(): Promise<Plugin> {
  if (process.env.RECCRED_EXECUTABLE) {
    const command = path.resolve(process.env.RECCRED_EXECUTABLE);
    return { command, prefix: [], label: `executable ${path.basename(command)}`, cleanup: () => {} };
  }
  try {
    const { buildBundle } = await import('../build-bundle.js');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'reccred-bench-'));
    const built = await buildBundle(path.join(dir, 'kubectl-reccred.cjs'));
    return {
      command: process.execPath,
      prefix: [built.path],
      label: 'release bundle (node + the bundle the single executable embeds)',
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch {
    return { command: path.join(repo, 'bin', 'kubectl-reccred'), prefix: [], label: 'bin/kubectl-reccred (sources through tsx)', cleanup: () => {} };
  }
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** utime + stime (own, or of reaped children) of a process, in ms. */
function cpuOf(pid: number | 'self', children = false): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const [u, s] = children ? [fields[13], fields[14]] : [fields[11], fields[12]];
    return (Number(u) + Number(s)) * TICK_MS;
  } catch {
    return undefined;
  }
}

function peakRss(pid: number): number | undefined {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB/m);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function runPlugin(p: Plugin, sim: SimCluster, args: string[]): Promise<PluginRun> {
  const started = Date.now();
  const simCpu0 = process.cpuUsage();
  const kids0 = cpuOf('self', true) ?? 0;
  let cpuMs = 0;
  const child = spawn(p.command, [...p.prefix, ...args], {
    env: { ...process.env, KUBECONFIG: sim.kubeconfig },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let peakRssKb = 0;
  // The launcher script execs node, so the pid stays the plugin's; VmHWM is the peak so far.
  const sample = () => {
    const v = child.pid ? peakRss(child.pid) : undefined;
    if (v !== undefined) peakRssKb = Math.max(peakRssKb, v);
    const c = child.pid ? cpuOf(child.pid) : undefined;
    if (c !== undefined) cpuMs = Math.max(cpuMs, c);
  };
  const timer = setInterval(sample, 25);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => {
    child.on('exit', () => sample());
    child.on('close', (code) => {
      clearInterval(timer);
      const own = process.cpuUsage(simCpu0);
      const simCpuMs = (own.user + own.system) / 1000 + ((cpuOf('self', true) ?? 0) - kids0);
      resolve({ code, wallMs: Date.now() - started, peakRssKb, cpuMs, simCpuMs, stdout, stderr });
    });
  });
}

function labelRecs(sim: SimCluster): void {
  for (const [i, r] of sim.recs.entries()) {
    const o = sim.store.mustGet('redisenterpriseclusters', r.namespace, r.name);
    const labels: Record<string, string> = { ...(o.metadata.labels ?? {}) };
    for (const n of SIZES) if (i < n) labels[`bench-${n}`] = 'yes';
    sim.store.update('redisenterpriseclusters', { ...o, metadata: { ...o.metadata, labels, resourceVersion: undefined } });
  }
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

function fail(what: string, r: PluginRun): never {
  throw new Error(`${what} exited ${r.code}:\n${r.stderr.slice(-3000)}`);
}

async function singleRotation(p: Plugin): Promise<string[]> {
  const sim = await startSimCluster({ recs: [{ name: 'rec' }], pods: 3, latencyMs: LATENCY_MS, syncDelayMs: 2000 });
  try {
    const mark = sim.audit.mark();
    const r = await runPlugin(p, sim, ['rotate', 'rec', '--settle', `${SETTLE_S}s`, '-q']);
    if (r.code !== 0) fail('single rotation', r);
    const events = sim.audit.since(mark);
    const api = events.filter((e): e is Extract<AuditEvent, { kind: 'api' }> => e.kind === 'api');
    const execs = events.filter((e) => e.kind === 'exec').length;
    const rest = events.filter((e) => e.kind === 'rest').length;
    const upgrades = api.filter((e) => e.uri.includes('/exec?')).length;
    const verified = sim.credentials('rec')!.password !== undefined && sim.redis('rec').findUser(sim.credentials('rec')!.username)!.passwords.length === 1;
    if (!verified) throw new Error('single rotation: the cluster does not accept exactly the stored password');
    return [
      '### One rotation (1 REC, 3 pods, 20 ms latency)',
      '',
      '| | plugin (`rotate`) | manual procedure (documented) |',
      '|---|---|---|',
      `| Kubernetes API round trips | ${api.length} (${api.length - upgrades} requests + ${upgrades} exec upgrades) | ${MANUAL.api} (4 kubectl commands) |`,
      `| exec sessions | ${execs} | ${MANUAL.exec} |`,
      `| REST API calls (inside pods) | ${rest} | ${MANUAL.rest} |`,
      `| wall time minus the ${SETTLE_S} s settle | ${secs(r.wallMs - SETTLE_S * 1000)} (process start to exit) | 5 min settle + typing |`,
      `| peak memory (RSS) | ${mb(r.peakRssKb)} | |`,
      '',
      `The plugin's extra calls are its safety: ${ROTATION_PERMISSIONS.length} access reviews, the journal (create, updates, delete), hashes of`,
      "every pod's mounted credentials before and after (polling until they match), and an authentication check",
      'before and after each change. The manual procedure checks none of this.',
      '',
    ];
  } finally {
    await sim.stop();
  }
}

async function fleetRotations(p: Plugin): Promise<string[]> {
  const max = Math.max(...SIZES);
  const sim = await startSimCluster({
    recs: Array.from({ length: max }, (_, i) => ({ name: `rec-${i}` })),
    namespaces: NAMESPACES,
    pods: 1,
    fleet: true,
    latencyMs: LATENCY_MS,
    syncDelayMs: 2000,
  });
  const rows: string[] = [];
  try {
    labelRecs(sim);
    for (const n of SIZES) {
      const r = await runPlugin(p, sim, ['rotate', '-A', '-l', `bench-${n}=yes`, '--settle', `${SETTLE_S}s`, '-q', '-o', 'json']);
      if (r.code !== 0) fail(`rotation of ${n} RECs`, r);
      const doc = JSON.parse(r.stdout) as { summary: { succeeded: number } };
      if (doc.summary.succeeded !== n) throw new Error(`rotation of ${n} RECs: ${doc.summary.succeeded} succeeded`);
      const failures = sim.recs.slice(0, n).reduce((s, rec) => s + sim.operator.failures(rec.name).length, 0);
      const target = (SETTLE_S + 30) * 1000;
      rows.push(
        `| ${n} | ${secs(r.wallMs)} | ${secs(r.wallMs - SETTLE_S * 1000)} | ${mb(r.peakRssKb)} | ${secs(r.cpuMs)} | ${secs(r.simCpuMs)} | ${failures} | ${r.wallMs < target ? 'yes' : 'NO'} / ${r.peakRssKb < 200 * 1024 ? 'yes' : 'NO'} |`,
      );
    }
  } finally {
    await sim.stop();
  }
  return [
    `### Fleet rotation (1 pod per REC, ${NAMESPACES} namespaces, settle ${SETTLE_S} s, 20 ms latency, --concurrency 10)`,
    '',
    '| RECs | wall time | minus settle | peak memory (RSS) | plugin CPU | simulated cluster CPU | operator auth failures | target met: < settle + 30 s / < 200 MB |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Machine: ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(1)} at the end (shared). The simulated cluster runs on the`,
    'same CPUs: every exec starts real nsenter, sh and curl processes (about 100 ms of CPU each), which a real',
    'cluster spends on its own nodes. When its CPU time approaches the wall time the run is CPU-bound, not',
    'bound by the plugin or its concurrency.',
    '',
  ];
}

export async function run(): Promise<string> {
  const p = await plugin();
  try {
    const single = await singleRotation(p);
    const fleet = await fleetRotations(p);
    return [`## Fleet rotation (plugin: ${p.label})`, '', ...single, ...fleet].join('\n');
  } finally {
    p.cleanup();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.stdout.write(`${await run()}\n`);
}
