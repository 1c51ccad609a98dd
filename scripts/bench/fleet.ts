// Fleet rotation benchmark (issues 7 and 22): wall time, peak memory and CPU of rotating 1, 10, 50 and 100 RECs at
// once (RECCRED_BENCH_SIZES=1,10 for a quick check), with the exec sessions they opened in all and per REC, against the
// simulated cluster with 20 ms latency per API round trip and per exec and its kubelet at 2 s. Targets (issue 22, for
// 100 RECs; every row shows them): settle + 30 s, 200 MB. One rotation in detail, beside the manual procedure, is
// rotation.ts. `run()` returns a markdown report; run this file directly to print it.
//
// The plugin runs as a user runs it, in a process of its own (support/executable.ts), with its default poll interval.
// Peak memory is that process's VmHWM (peak resident set size) from /proc, read every 25 ms until it exits. The
// plugin's CPU and the simulated cluster's are accounted apart (support/measured-process.ts).
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startSimCluster, type SimCluster } from '../../test/sim/cluster.js';
import { countAudit } from './support/audit-counts.js';
import { benchExecutable, pluginEnv, type BenchExecutable } from './support/executable.js';
import { measuredSection, standalone } from './support/machine.js';
import { runMeasured, type MeasuredRun } from './support/measured-process.js';
import { recordTarget, verdict } from './support/targets.js';

const LATENCY_MS = 20;
const SETTLE_S = 10;
/** RECCRED_BENCH_SIZES (e.g. `1,10`) limits the fleet sizes for a quick check. */
const SIZES = sizes(process.env.RECCRED_BENCH_SIZES ?? '1,10,50,100');
const NAMESPACES = 10;
const TARGET_SIZE = 100;
const EXTRA_S = 30;
const PEAK_MB = 200;
const SECTION = 'fleet';

function sizes(text: string): number[] {
  const list = text.split(',').map((x) => Number(x.trim()));
  if (!list.length || list.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`RECCRED_BENCH_SIZES: expected positive integers separated by commas, got ${JSON.stringify(text)}`);
  return list;
}

function runPlugin(exe: BenchExecutable, sim: SimCluster, args: string[]): Promise<MeasuredRun> {
  return runMeasured(sim, exe.path, args, { env: pluginEnv(sim.kubeconfig) });
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

async function fleetRotations(exe: BenchExecutable): Promise<string> {
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
      const r = await runPlugin(exe, sim, ['rotate', '-A', '-l', `bench-${n}=yes`, '--settle', `${SETTLE_S}s`, '-q', '-o', 'json']);
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
      const inTime = r.wallMs <= (SETTLE_S + EXTRA_S) * 1000;
      const inMemory = r.peakRssKb <= PEAK_MB * 1024;
      if (n === TARGET_SIZE) {
        recordTarget({
          section: SECTION,
          figure: `${n} RECs, settle ${SETTLE_S} s, ${LATENCY_MS} ms latency: wall time`,
          value: `settle + ${secs(r.wallMs - SETTLE_S * 1000)}`,
          target: `≤ settle + ${EXTRA_S} s`,
          met: inTime,
        });
        recordTarget({ section: SECTION, figure: `${n} RECs: peak memory (RSS)`, value: mb(r.peakRssKb), target: `≤ ${PEAK_MB} MB`, met: inMemory });
      }
      rows.push(
        `| ${n} | ${secs(r.wallMs)} | ${secs(r.wallMs - SETTLE_S * 1000)} | ${mb(r.peakRssKb)} | ${secs(r.clientCpuMs)} | ${secs(r.simCpuMs)} | ${execs} | ${(execs / n).toFixed(1)} | ${(r.simCpuMs / Math.max(1, execs)).toFixed(0)} ms | ${(busy * 100).toFixed(0)} % | ${operatorFailures() - failuresBefore} | ${n === TARGET_SIZE ? `${verdict(inTime)} / ${verdict(inMemory)}` : '—'} |`,
      );
    }
    if (!SIZES.includes(TARGET_SIZE)) {
      const why = `not measured: RECCRED_BENCH_SIZES=${SIZES.join(',')}`;
      recordTarget({
        section: SECTION,
        figure: `${TARGET_SIZE} RECs, settle ${SETTLE_S} s, ${LATENCY_MS} ms latency: wall time`,
        value: why,
        target: `≤ settle + ${EXTRA_S} s`,
        met: undefined,
      });
      recordTarget({ section: SECTION, figure: `${TARGET_SIZE} RECs: peak memory (RSS)`, value: why, target: `≤ ${PEAK_MB} MB`, met: undefined });
    }
  } finally {
    await sim.stop();
  }
  return [
    `### Fleet rotation (1 pod per REC, ${NAMESPACES} namespaces, settle ${SETTLE_S} s, ${LATENCY_MS} ms latency, --concurrency 10)`,
    '',
    `Plugin: ${exe.label}, \`rotate -A -l ... --settle ${SETTLE_S}s -q -o json\`, its default poll interval; the simulated kubelet mounts a changed Secret after 2 s.`,
    '',
    `| RECs | wall time | minus settle | peak memory (RSS) | plugin CPU | simulated cluster CPU | exec sessions | exec sessions per REC | cluster CPU per exec session | CPU busy (both / cores × wall) | operator auth failures | target (for ${TARGET_SIZE} RECs): ≤ settle + ${EXTRA_S} s / ≤ ${PEAK_MB} MB |`,
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Plugin CPU is the plugin process's user+sys time from wait4; simulated cluster CPU is this process (API server,`,
    'REST APIs, kubelet, operator) with the pod execs it reaped (nsenter, sh, curl) and the pod sandboxes, the plugin',
    `excluded. Both share the machine's ${os.cpus().length} CPUs: every exec starts real processes, work a real cluster does on its`,
    'own nodes. Cluster CPU per exec session divides all of its CPU by the exec sessions (an upper bound for one exec).',
    'When CPU busy nears 100 % the run is bound by the CPUs, not by the plugin or its concurrency.',
  ].join('\n');
}

export function run(): Promise<string> {
  return measuredSection(async () => fleetRotations(await benchExecutable()));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.stdout.write(await standalone(run));
}
