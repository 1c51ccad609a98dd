// Start-up of the linux-x64 single executable beside kubectl, all in one run on the same machine:
// median wall time of RUNS runs after WARMUP, for `--help`, and for `get` against the simulated cluster
// next to `kubectl get secret` on the same cluster. Targets (issue 5): --help within 2.5x of
// `kubectl version --client`, get within 3x of `kubectl get secret`. The kubectl is the real binary
// (support/kubectl.ts), not a dispatcher in front of it that would add a process and a /version request.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { binaryPath, buildBinaries } from '../build-binaries.js';
import { findTarget } from '../sea/runtime.js';
import { startSimCluster } from '../../test/sim/cluster.js';
import { realKubectl } from './support/kubectl.js';
import { standalone } from './support/machine.js';

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

async function time(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await once(cmd, args, env);
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await once(cmd, args, env));
  return median(samples);
}

export async function run(): Promise<string> {
  const linux = findTarget('linux-amd64');
  const exe = process.env.RECCRED_EXECUTABLE ?? binaryPath(linux);
  if (!fs.existsSync(exe)) await buildBinaries({ targets: [linux] });
  const kubectl = await realKubectl();
  const sim = await startSimCluster({ recs: [{ name: 'rec' }], pods: 1, tracePodExecs: false });
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-bench-kubectl-'));
  try {
    const env = { ...process.env, KUBECONFIG: sim.kubeconfig };
    const rows: Array<[string, number, string]> = [];
    const nodeZero = await time(process.execPath, ['-e', '0'], env);
    const kubectlVersion = await time(kubectl.path, ['version', '--client'], env);
    const kubectlGet = await time(kubectl.path, ['get', 'secret', 'rec', '--cache-dir', cacheDir], env);
    const help = await time(exe, ['--help'], env);
    const version = await time(exe, ['version'], env);
    const get = await time(exe, ['get', 'rec'], env);
    rows.push([`\`node -e 0\` (Node ${process.versions.node}, for scale)`, nodeZero, '']);
    const k = path.basename(kubectl.path);
    rows.push([`\`${k} version --client\``, kubectlVersion, '1.00 (reference)']);
    rows.push(['`kubectl-reccred --help`', help, `${(help / kubectlVersion).toFixed(2)} of kubectl version (target ≤ 2.5)`]);
    rows.push(['`kubectl-reccred version`', version, `${(version / kubectlVersion).toFixed(2)} of kubectl version`]);
    rows.push([`\`${k} get secret rec\` (sim)`, kubectlGet, '1.00 (reference)']);
    rows.push(['`kubectl-reccred get rec` (sim)', get, `${(get / kubectlGet).toFixed(2)} of kubectl get secret (target ≤ 3)`]);
    return [
      `### Start-up (median of ${RUNS} runs after ${WARMUP} warm-up, ${os.cpus().length} cores, executable ${path.basename(path.dirname(exe))})`,
      '',
      `Reference: \`${kubectl.path}\` ${kubectl.version}, run directly.`,
      '',
      '| command | median ms | ratio |',
      '|---|---:|---|',
      ...rows.map(([c, ms, ratio]) => `| ${c} | ${ms.toFixed(0)} | ${ratio} |`),
    ].join('\n');
  } finally {
    await sim.stop();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.stdout.write(await standalone(run));
