// Everything an operation needs to talk to the cluster, built once from typed options.
import { Cluster } from '../kube/cluster.js';
import { KubeApi } from '../kube/api-client.js';
import { resolveKubeconfig, type ConnectionOptions } from '../kube/kubeconfig.js';
import { setLongestRequest } from '../journal/lease.js';
import { Progress } from '../output/progress.js';
import type { OutputFormat } from '../output/result.js';
import type { VaultOptions } from '../vault/vault-settings.js';

/** Where and as whom to connect, and how to show progress: parsed once from the command line. */
export interface SessionOptions {
  /** The kubeconfig selection and kubectl's connection flags. */
  connection: ConnectionOptions;
  /** 0: no timeout. */
  requestTimeoutMs: number;
  output: OutputFormat;
  verbose: number;
  color: boolean;
  quiet: boolean;
  vault: VaultOptions;
}

export interface Session {
  options: SessionOptions;
  api: KubeApi;
  cluster: Cluster;
  namespace: string;
  timeoutMs: number;
  progress: Progress;
  trace: (level: number, line: string) => void;
}

export async function openSession(options: SessionOptions): Promise<Session> {
  const trace = (level: number, line: string) => {
    if (options.verbose >= level) process.stderr.write(`[v${level}] ${line}\n`);
  };
  const resolved = resolveKubeconfig(options.connection);
  const as = resolved.user.user.as;
  trace(
    1,
    `context ${resolved.contextName || '(none)'}, cluster ${resolved.cluster.name || '(none)'}, user ${resolved.user.name || '(none)'}${typeof as === 'string' ? ` as ${as}` : ''}, namespace ${resolved.namespace}, from ${resolved.source}`,
  );
  const timeoutMs = options.requestTimeoutMs;
  const api = await KubeApi.connect(resolved, timeoutMs, (l) => trace(2, l));
  setLongestRequest(timeoutMs || 300_000);
  return {
    options,
    api,
    cluster: new Cluster(api, resolved.namespace),
    namespace: resolved.namespace,
    timeoutMs: timeoutMs || 300_000,
    progress: Progress.forStream(options.quiet, !options.color),
    trace,
  };
}
