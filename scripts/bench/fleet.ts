// Fleet rotation benchmark (issue 7): API round trips and exec sessions of one rotation beside the
// documented manual procedure as measured by manual.ts (the same commands run against the same simulated
// cluster and counted from the same audit log), wall time of one rotation minus its settle, and wall time,
// peak memory and CPU of rotating 1, 10, 50 and 100 RECs at once (RECCRED_BENCH_SIZES=1,10 for a quick
// check), against the simulated cluster with 20 ms latency per API round trip and per exec. `run()` returns
// a markdown report; run this file directly to print it.
//
// The plugin runs as a user runs it, in a process of its own: RECCRED_EXECUTABLE if set, else the release
// bundle built fresh from the sources (what the single executable runs), else bin/kubectl-reccred (the
// sources through tsx, which alone adds about 3 s of start-up and 90 MB). Peak memory is that process's
// VmHWM (peak resident set size) from /proc, read every 25 ms until it exits. The plugin's CPU and the
// simulated cluster's are accounted apart (support/measured-process.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ROTATION_PERMISSIONS } from '../../src/procedures/preflight.js';
import { startSimCluster, type SimCluster } from '../../test/sim/cluster.js';
import { manualProcedure, ONE_REC } from './manual.js';
import { countAudit } from './support/audit-counts.js';
import { standalone } from './support/machine.js';
import { runMeasured, type MeasuredRun } from './support/measured-process.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LATENCY_MS = 20;
const SETTLE_S = 10;
/** RECCRED_BENCH_SIZES (e.g. `1,10`) limits the fleet sizes for a quick check. */
const SIZES = sizes(process.env.RECCRED_BENCH_SIZES ?? '1,10,50,100');
const NAMESPACES = 10;

function sizes(text: string): number[] {
  const list = text.split(',').map((x) => Number(x.trim()));
  if (!list.length || list.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`RECCRED_BENCH_SIZES: expected positive integers separated by commas, got ${JSON.stringify(text)}`);
  return list;
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

function runPlugin(p: Plugin, sim: SimCluster, args: string[]): Promise<MeasuredRun> {
  return runMeasured(sim, p.command, [...p.prefix, ...args], { env: { ...process.env, KUBECONFIG: sim.kubeconfig } });
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

function fail(what: string, r: MeasuredRun): never {
  throw new Error(`${what} exited ${r.code}:\n${r.stderr.slice(-3000)}`);
}

async function singleRotation(p: Plugin): Promise<string[]> {
  const manual = await manualProcedure();
  const sim = await startSimCluster(ONE_REC);
  try {
    const before = sim.credentials('rec')!;
    const mark = sim.audit.mark();
    const r = await runPlugin(p, sim, ['rotate', 'rec', '--settle', `${SETTLE_S}s`, '-q']);
    if (r.code !== 0) fail('single rotation', r);
    sim.collectArgv();
    const after = sim.credentials('rec')!;
    const user = sim.redis('rec').findUser(after.username);
    if (after.password === before.password || user?.passwords.length !== 1 || user.passwords[0] !== after.password) {
      throw new Error('single rotation: the cluster does not accept exactly the new stored password');
    }
    const c = countAudit(sim.audit.since(mark), [before.password, after.password]);
    const m = manual.total;
    const trips = (x: { requests: number; execUpgrades: number }) => `${x.requests + x.execUpgrades} (${x.requests} requests + ${x.execUpgrades} exec upgrades)`;
    return [
      `### One rotation (1 REC, ${ONE_REC.pods} pods, ${ONE_REC.latencyMs} ms latency)`,
      '',
      `| | plugin (\`rotate\`) | manual procedure (run by manual.ts, kubectl ${manual.kubectl.version}) |`,
      '|---|---|---|',
      `| Kubernetes API round trips | ${trips(c)} | ${trips(m)} |`,
      `| discovery requests (not counted above) | ${c.discovery} | ${m.discovery} (kubectl's cache empty at the start; apply asks for OpenAPI) |`,
      `| exec sessions | ${c.execSessions} | ${m.execSessions} |`,
      `| REST API calls (inside pods) | ${c.rest} | ${m.rest} |`,
      `| wall time | ${secs(r.wallMs - SETTLE_S * 1000)} beyond the ${SETTLE_S} s settle (process start to exit) | ${secs(m.wallMs)} running the commands, plus the documented 5 min wait (not run) and typing |`,
      `| client CPU (user+sys) | ${secs(r.clientCpuMs)} | ${secs(m.clientCpuMs)} (kubectl, sh, base64) |`,
      `| simulated cluster CPU (the client excluded) | ${secs(r.simCpuMs)} | ${secs(m.simCpuMs)} |`,
      `| peak memory (RSS) | ${mb(r.peakRssKb)} | |`,
      `| audit records holding a password (API URIs, exec commands, argv in the pods) | ${c.passwordRecords} | ${m.passwordRecords} (curl's argv in the pod) |`,
      `| operator authentication failures | ${sim.operator.failures('rec').length} | ${manual.operatorFailures} |`,
      '',
      `The plugin's extra calls are its safety: ${ROTATION_PERMISSIONS.length} access reviews, the journal (create, updates, delete), hashes of`,
      "every pod's mounted credentials before and after (polling until they match), and an authentication check",
      'before and after each change. The manual procedure checks none of this. Both runs end with the Secret holding',
      'the new password and the cluster accepting it and no other (checked).',
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
    const operatorFailures = () => sim.recs.reduce((sum, rec) => sum + sim.operator.failures(rec.name).length, 0);
    for (const n of SIZES) {
      const failuresBefore = operatorFailures();
      const mark = sim.audit.mark();
      const r = await runPlugin(p, sim, ['rotate', '-A', '-l', `bench-${n}=yes`, '--settle', `${SETTLE_S}s`, '-q', '-o', 'json']);
      if (r.code !== 0) fail(`rotation of ${n} RECs`, r);
      const doc = JSON.parse(r.stdout) as { summary: { succeeded: number } };
      if (doc.summary.succeeded !== n) throw new Error(`rotation of ${n} RECs: ${doc.summary.succeeded} succeeded`);
      for (const rec of sim.recs.slice(0, n)) {
        const stored = sim.credentials(rec.name)!;
        const user = sim.redis(rec.name).findUser(stored.username);
        if (user?.passwords.length !== 1 || user.passwords[0] !== stored.password)
          throw new Error(`rotation of ${n} RECs: ${rec.name} does not accept exactly its stored password`);
      }
      const execs = countAudit(sim.audit.since(mark), []).execSessions;
      const busy = (r.clientCpuMs + r.simCpuMs) / (r.wallMs * os.cpus().length);
      const target = (SETTLE_S + 30) * 1000;
      rows.push(
        `| ${n} | ${secs(r.wallMs)} | ${secs(r.wallMs - SETTLE_S * 1000)} | ${mb(r.peakRssKb)} | ${secs(r.clientCpuMs)} | ${secs(r.simCpuMs)} | ${execs} | ${(r.simCpuMs / Math.max(1, execs)).toFixed(0)} ms | ${(busy * 100).toFixed(0)} % | ${operatorFailures() - failuresBefore} | ${r.wallMs < target ? 'yes' : 'NO'} / ${r.peakRssKb < 200 * 1024 ? 'yes' : 'NO'} |`,
      );
    }
  } finally {
    await sim.stop();
  }
  return [
    `### Fleet rotation (1 pod per REC, ${NAMESPACES} namespaces, settle ${SETTLE_S} s, ${LATENCY_MS} ms latency, --concurrency 10)`,
    '',
    '| RECs | wall time | minus settle | peak memory (RSS) | plugin CPU | simulated cluster CPU | exec sessions | cluster CPU per exec session | CPU busy (both / cores × wall) | operator auth failures | target met: < settle + 30 s / < 200 MB |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Plugin CPU is the plugin process's user+sys time from wait4; simulated cluster CPU is this process (API server,`,
    'REST APIs, kubelet, operator) with the pod execs it reaped (nsenter, sh, curl) and the pod sandboxes, the plugin',
    `excluded. Both share the machine's ${os.cpus().length} CPUs: every exec starts real processes, work a real cluster does on its`,
    'own nodes. Cluster CPU per exec session divides all of its CPU by the exec sessions (an upper bound for one exec).',
    'When CPU busy nears 100 % the run is bound by the CPUs, not by the plugin or its concurrency.',
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
  process.stdout.write(await standalone(run));
}
