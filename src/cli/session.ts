// Everything a command needs to talk to the cluster, built once from the global flags.
import { Cluster } from '../kube/cluster.js';
import { KubeApi } from '../kube/api-client.js';
import { resolveKubeconfig } from '../kube/kubeconfig.js';
import { setLongestRequest } from '../journal/lease.js';
import { Progress } from '../output/progress.js';
import { parseDuration } from './duration.js';
import type { GlobalFlags } from './global-flags.js';

export interface Session {
  flags: GlobalFlags;
  api: KubeApi;
  cluster: Cluster;
  namespace: string;
  timeoutMs: number;
  progress: Progress;
  trace: (level: number, line: string) => void;
}

export async function openSession(flags: GlobalFlags): Promise<Session> {
  const trace = (level: number, line: string) => {
    if (flags.verbose >= level) process.stderr.write(`[v${level}] ${line}\n`);
  };
  const resolved = resolveKubeconfig({ kubeconfig: flags.kubeconfig, context: flags.context, namespace: flags.namespace });
  trace(1, `context ${resolved.contextName}, namespace ${resolved.namespace}, from ${resolved.source}`);
  const timeoutMs = parseDuration(flags.requestTimeout ?? '60s', '--request-timeout');
  const api = await KubeApi.connect(resolved, timeoutMs, (l) => trace(2, l));
  setLongestRequest(timeoutMs || 300_000);
  return {
    flags,
    api,
    cluster: new Cluster(api, resolved.namespace),
    namespace: resolved.namespace,
    timeoutMs: timeoutMs || 300_000,
    progress: Progress.forStream(flags.quiet, !flags.color),
    trace,
  };
}
