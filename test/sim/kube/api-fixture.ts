// Fixtures for testing the simulated API server with the real kubectl: a pod executor that runs commands on this
// machine, the REC objects a test starts from, a child-process runner, and where the versioned kubectl binaries are.
import { execFileSync, spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { PodExecutor } from '../pods/executor.js';
import type { KubeObject, KubeStore } from './store.js';

/** Runs the command on this machine: these tests are about the API server and its clients, not the pod sandbox. */
export const localShell: PodExecutor = {
  exec(r) {
    const child = spawn(r.command[0]!, r.command.slice(1), { stdio: 'pipe' });
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on('exit', (code, signal) => resolve({ code, signal }));
      child.on('error', () => resolve({ code: 127, signal: null }));
    });
    return { stdin: child.stdin, stdout: child.stdout, stderr: child.stderr, exit, kill: () => child.kill('SIGKILL') };
  },
};

/** The Secret `rec` in namespace default; `data` in plain text (stored base64-encoded). */
export interface RecSecret {
  labels?: Record<string, string>;
  data: Record<string, string>;
}

export function recSecret(secret: RecSecret): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'rec', namespace: 'default', ...(secret.labels ? { labels: secret.labels } : {}) },
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

export interface RecSeedOptions {
  /** No Secret unless given. */
  secret?: RecSecret;
  /** Running pods in namespace default; by default rec-0 with the operator's labels. */
  pods?: { name: string; labels: Record<string, string> }[];
  /** Every pod's status.podIP; none unless given. */
  podIP?: string;
  /** Give every pod the operator's bootstrapper container beside redis-enterprise-node, as on a real REC pod. */
  bootstrapper?: boolean;
}

/** Namespace default, optionally the Secret rec, the pods, and the REC rec (3 nodes, Running, 7.8.2-34). */
export function seedRecObjects(store: KubeStore, options: RecSeedOptions = {}): void {
  store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' }, status: { phase: 'Active' } });
  if (options.secret) store.create('secrets', recSecret(options.secret));
  const containers = [{ name: 'redis-enterprise-node', image: 'redislabs/redis' }, ...(options.bootstrapper ? [{ name: 'bootstrapper', image: 'redislabs/operator' }] : [])];
  for (const { name, labels } of options.pods ?? [{ name: 'rec-0', labels: { app: 'redis-enterprise', 'redis.io/cluster': 'rec' } }]) {
    store.create('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default', labels },
      spec: { containers: containers.map((c) => ({ ...c })) },
      status: {
        phase: 'Running',
        ...(options.podIP !== undefined ? { podIP: options.podIP } : {}),
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: containers.map((c) => ({ name: c.name, ready: true, restartCount: 0 })),
      },
    });
  }
  store.create('redisenterpriseclusters', {
    apiVersion: 'app.redislabs.com/v1',
    kind: 'RedisEnterpriseCluster',
    metadata: { name: 'rec', namespace: 'default' },
    spec: { nodes: 3 },
    status: { state: 'Running', specStatus: 'Valid', redisEnterpriseVersion: '7.8.2-34' },
  });
}

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `bin` to its end. Without `input` its stdin is /dev/null; `env` replaces the whole environment
 * (default: this process's).
 */
export function runProcess(bin: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (child.stdin) {
      child.stdin.on('error', () => {}); // a command that exits without reading its input
      child.stdin.end(options.input);
    }
  });
}

let kubectlDir: string | undefined;

/** kubectl.VERSION (e.g. '1.33'): `kubectl` on PATH dispatches on the server's /version; the versioned binaries sit beside its real path. */
export function kubectlBinary(version: string): string {
  kubectlDir ??= dirname(realpathSync(execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim()));
  return join(kubectlDir, `kubectl.${version}`);
}
