// Start-up of the plugin's single executable beside kubectl and Node, all in one run on the same machine (issue 22):
// median wall time of RUNS runs after WARMUP, and peak memory (support/peak-rss.ts), for `--help` next to
// `kubectl version --client`, and for `get` against the simulated cluster next to `kubectl get secret` on the same
// cluster. Targets: --help ≤ 1.3× kubectl version --client, get ≤ 1.5× kubectl get secret, --help's peak memory
// ≤ 70 MB. The kubectl is the real binary (support/kubectl.ts), not a dispatcher in front of it that would add a
// process and a /version request; `node -e 0` of the bench's Node and of the runtime the executable is built on
// give the floor any Node program starts from.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { hostTarget, NODE_VERSION, runtimeBinary } from '../sea/runtime.js';
import { startSimCluster } from '../../test/sim/cluster.js';
import { benchExecutable } from './support/executable.js';
import { realKubectl } from './support/kubectl.js';
import { measuredSection, standalone } from './support/machine.js';
import { peakRssAvailable, peakRssKb } from './support/peak-rss.js';
import { recordTarget } from './support/targets.js';

const RUNS = 15;
const WARMUP = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

// Asynchronous on purpose: the simulated API server runs in this process and must keep answering.
function once(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`));
    });
  });
}

interface Command {
  cmd: string;
  args: string[];
  /** What its output must show: a command that exits 0 but prints nothing useful would time as fast. */
  shows?: RegExp;
}

/** Asynchronous: the simulated API server runs in this process and must keep answering. */
async function checkOutput(c: Command, env: NodeJS.ProcessEnv): Promise<void> {
  if (!c.shows) return;
  const { stdout } = await promisify(execFile)(c.cmd, c.args, { env });
  if (!c.shows.test(stdout)) throw new Error(`bench: \`${c.cmd} ${c.args.join(' ')}\` printed no ${String(c.shows)}:\n${stdout.slice(0, 500)}`);
}

/**
 * Median wall time of each command, run in rounds (each command once per round, WARMUP rounds first): a burst of
 * other work on the machine then slows every command alike instead of the one it happened to fall on, which keeps
 * the ratios honest on a shared machine.
 */
async function medianTimes(commands: Command[], env: NodeJS.ProcessEnv): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) for (const c of commands) await once(c.cmd, c.args, env);
  const samples = commands.map((): number[] => []);
  for (let i = 0; i < RUNS; i++) for (const [j, c] of commands.entries()) samples[j]!.push(await once(c.cmd, c.args, env));
  return samples.map(median);
}

interface Measured {
  ms: number;
  peakKb: number | undefined;
}

/** Median wall times (the commands taking turns), then each command's peak memory. */
async function measureAll<T extends readonly Command[]>(commands: readonly [...T], env: NodeJS.ProcessEnv, withRss: boolean): Promise<{ [K in keyof T]: Measured }> {
  for (const c of commands) await checkOutput(c, env);
  const times = await medianTimes([...commands], env);
  const out: Measured[] = [];
  for (const [i, c] of commands.entries()) out.push({ ms: times[i]!, peakKb: withRss ? await peakRssKb(c.cmd, c.args, env) : undefined });
  return out as { [K in keyof T]: Measured };
}

const HELP_RATIO = 1.3;
const GET_RATIO = 1.5;
const HELP_PEAK_MB = 70;
const LATENCY_MS = 20;
const SECTION = 'start-up';

interface Row {
  command: string;
  ms: number;
  peakKb: number | undefined;
  note: string;
}

export function run(): Promise<string> {
  return measuredSection(measure);
}

async function measure(): Promise<string> {
  const exe = await benchExecutable();
  const kubectl = await realKubectl();
  const seaNode = runtimeBinary(hostTarget());
  const sim = await startSimCluster({ recs: [{ name: 'rec' }], pods: 1, tracePodExecs: false });
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-bench-kubectl-'));
  const withRss = peakRssAvailable();
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: sim.kubeconfig };
    // This machine's proxy CA bundle: Node 20 reads it at every start (about 85 ms here), Node 22 only when TLS needs it.
    delete env.NODE_EXTRA_CA_CERTS;
    const k = path.basename(kubectl.path);
    const [nodeZero, seaNodeZero, kubectlVersion, kubectlGet, help, version, get] = await measureAll(
      [
        { cmd: process.execPath, args: ['-e', '0'] },
        { cmd: seaNode, args: ['-e', '0'] },
        { cmd: kubectl.path, args: ['version', '--client'], shows: /Client Version/ },
        { cmd: kubectl.path, args: ['get', 'secret', 'rec', '--cache-dir', cacheDir], shows: /^rec\s/m },
        { cmd: exe.path, args: ['--help'], shows: /reccred/ },
        { cmd: exe.path, args: ['version'], shows: /\d+\.\d+\.\d+/ },
        { cmd: exe.path, args: ['get', 'rec'], shows: /\brec\b/ },
      ],
      env,
      withRss,
    );
    // The same two reads with every API request 20 ms away (the other sections' latency, no target): kubectl makes
    // one request, get its three, the REC first, then the pods and the Secret at once.
    sim.faults.apiLatencyMs = LATENCY_MS;
    const [kubectlGetFar, getFar] = await measureAll(
      [
        { cmd: kubectl.path, args: ['get', 'secret', 'rec', '--cache-dir', cacheDir], shows: /^rec\s/m },
        { cmd: exe.path, args: ['get', 'rec'], shows: /\brec\b/ },
      ],
      env,
      false,
    );
    const helpRatio = help.ms / kubectlVersion.ms;
    const getRatio = get.ms / kubectlGet.ms;
    const helpTime = recordTarget({
      section: SECTION,
      figure: `\`kubectl-reccred --help\` / \`${k} version --client\` (wall time)`,
      value: `${helpRatio.toFixed(2)}× (${help.ms.toFixed(0)} / ${kubectlVersion.ms.toFixed(0)} ms)`,
      target: `≤ ${HELP_RATIO}×`,
      met: helpRatio <= HELP_RATIO,
    });
    const getTime = recordTarget({
      section: SECTION,
      figure: `\`kubectl-reccred get rec\` / \`${k} get secret rec\` (wall time, same simulated cluster)`,
      value: `${getRatio.toFixed(2)}× (${get.ms.toFixed(0)} / ${kubectlGet.ms.toFixed(0)} ms)`,
      target: `≤ ${GET_RATIO}×`,
      met: getRatio <= GET_RATIO,
    });
    const helpPeak =
      help.peakKb === undefined
        ? 'not measured (no GNU time at /usr/bin/time)'
        : `${recordTarget({
            section: SECTION,
            figure: '`kubectl-reccred --help` peak memory (RSS)',
            value: mb(help.peakKb),
            target: `≤ ${HELP_PEAK_MB} MB`,
            met: help.peakKb <= HELP_PEAK_MB * 1024,
          })} (target ≤ ${HELP_PEAK_MB} MB)`;

    const rows: Row[] = [
      { command: `\`node -e 0\` (Node ${process.versions.node}, the bench's)`, ...nodeZero, note: 'for scale' },
      { command: `\`node -e 0\` (Node ${NODE_VERSION}, the runtime the executable is built on)`, ...seaNodeZero, note: "for scale: the executable's floor" },
      { command: `\`${k} version --client\``, ...kubectlVersion, note: 'reference' },
      {
        command: '`kubectl-reccred --help`',
        ...help,
        note: `${helpRatio.toFixed(2)}× kubectl version: ${helpTime} (target ≤ ${HELP_RATIO}×); peak memory ${helpPeak}`,
      },
      { command: '`kubectl-reccred version`', ...version, note: `${(version.ms / kubectlVersion.ms).toFixed(2)}× kubectl version (no target)` },
      { command: `\`${k} get secret rec\` (simulated cluster)`, ...kubectlGet, note: 'reference' },
      { command: '`kubectl-reccred get rec` (simulated cluster)', ...get, note: `${getRatio.toFixed(2)}× kubectl get secret: ${getTime} (target ≤ ${GET_RATIO}×)` },
      { command: `\`${k} get secret rec\` (${LATENCY_MS} ms API latency)`, ...kubectlGetFar, note: 'reference: 1 API request' },
      {
        command: `\`kubectl-reccred get rec\` (${LATENCY_MS} ms API latency)`,
        ...getFar,
        note: `${(getFar.ms / kubectlGetFar.ms).toFixed(2)}× kubectl get secret (no target): 3 API requests, 2 one after the other`,
      },
    ];
    return [
      `### Start-up (median of ${RUNS} runs after ${WARMUP} warm-up, the commands taking turns)`,
      '',
      `Plugin: ${exe.label}. Reference: \`${kubectl.path}\` ${kubectl.version}, run directly. Peak memory: ${
        withRss ? `peak RSS (wait4's ru_maxrss through GNU time), median of 5 runs after 1 warm-up` : 'not measured: no GNU time at /usr/bin/time'
      }. \`get\` runs against a simulated cluster of 1 REC with 1 pod in this process (no added latency for the target; then ${LATENCY_MS} ms before every API response, as in the other sections); kubectl with a warm discovery cache. Every command runs without NODE_EXTRA_CA_CERTS (set on this machine for its proxy).`,
      '',
      '| command | median wall ms | peak memory (RSS) | ratio, target |',
      '|---|---:|---:|---|',
      ...rows.map((r) => `| ${r.command} | ${r.ms.toFixed(0)} | ${r.peakKb === undefined ? 'n/a' : mb(r.peakKb)} | ${r.note} |`),
    ].join('\n');
  } finally {
    await sim.stop();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.stdout.write(await standalone(run));
