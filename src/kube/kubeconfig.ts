// Resolve the cluster, user and namespace exactly as kubectl would for the same flags and KUBECONFIG.
// client-node's own merge differs (later current-context wins, duplicate names throw), so the files are
// merged here with kubectl's rules and handed to client-node already resolved.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { z } from 'zod';
import { usageError } from '../errors/exit-codes.js';

const Fields = z.record(z.string(), z.unknown());
const KubeconfigFile = z
  .object({
    'current-context': z.string().optional().nullable(),
    clusters: z.array(z.object({ name: z.string(), cluster: Fields.nullish() })).nullish(),
    users: z.array(z.object({ name: z.string(), user: Fields.nullish() })).nullish(),
    contexts: z.array(z.object({ name: z.string(), context: Fields.nullish() })).nullish(),
  })
  .loose();

export interface ConnectionOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

export interface ResolvedConfig {
  /** Raw kubeconfig shape (clusters/users/contexts, one each), paths made absolute. */
  cluster: { name: string; cluster: Record<string, unknown> };
  user: { name: string; user: Record<string, unknown> };
  contextName: string;
  namespace: string;
  /** Where the config came from, for error messages. */
  source: string;
  inCluster: boolean;
}

interface Entry {
  name: string;
  value: Record<string, unknown>;
  dir: string;
}

// Fields that hold file paths, resolved relative to the file that defines them (as kubectl does).
const CLUSTER_PATHS = ['certificate-authority'];
const USER_PATHS = ['client-certificate', 'client-key', 'tokenFile'];

function absolutize(value: Record<string, unknown>, keys: string[], dir: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...value };
  for (const k of keys) {
    const v = out[k];
    if (typeof v === 'string' && v !== '' && !path.isAbsolute(v)) out[k] = path.join(dir, v);
  }
  const exec = out.exec as Record<string, unknown> | undefined;
  if (exec && typeof exec.command === 'string' && exec.command.includes('/') && !path.isAbsolute(exec.command)) {
    out.exec = { ...exec, command: path.join(dir, exec.command) };
  }
  return out;
}

function kubeconfigPaths(options: ConnectionOptions, env: NodeJS.ProcessEnv): string[] {
  if (options.kubeconfig) return [options.kubeconfig];
  if (env.KUBECONFIG) {
    const sep = process.platform === 'win32' ? ';' : ':';
    return [...new Set(env.KUBECONFIG.split(sep).filter(Boolean))];
  }
  return [path.join(env.HOME ?? os.homedir(), '.kube', 'config')];
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export function resolveKubeconfig(options: ConnectionOptions, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const files = kubeconfigPaths(options, env);
  const clusters = new Map<string, Entry>();
  const users = new Map<string, Entry>();
  const contexts = new Map<string, Entry>();
  let currentContext = '';
  let loaded = 0;

  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      // kubectl: an explicit --kubeconfig must exist; missing files in KUBECONFIG are skipped.
      if (options.kubeconfig) throw usageError(`cannot read kubeconfig ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      continue;
    }
    let parsed: z.infer<typeof KubeconfigFile>;
    try {
      parsed = KubeconfigFile.parse(yaml.load(text) ?? {});
    } catch (err) {
      throw usageError(`kubeconfig ${file} is not valid: ${err instanceof z.ZodError ? (err.issues[0]?.message ?? err.message) : String(err)}`);
    }
    loaded += 1;
    const dir = path.dirname(path.resolve(file));
    // kubectl: the first file to set a value wins; later duplicates are ignored.
    if (!currentContext && parsed['current-context']) currentContext = parsed['current-context'];
    for (const c of parsed.clusters ?? []) if (!clusters.has(c.name)) clusters.set(c.name, { name: c.name, value: c.cluster ?? {}, dir });
    for (const u of parsed.users ?? []) if (!users.has(u.name)) users.set(u.name, { name: u.name, value: u.user ?? {}, dir });
    for (const c of parsed.contexts ?? []) if (!contexts.has(c.name)) contexts.set(c.name, { name: c.name, value: c.context ?? {}, dir });
  }

  if (loaded === 0 && !options.kubeconfig && env.KUBERNETES_SERVICE_HOST && fs.existsSync(`${SA_DIR}/token`)) {
    return inClusterConfig(options, env.KUBERNETES_SERVICE_HOST, env);
  }

  const contextName = options.context ?? currentContext;
  if (!contextName) {
    throw usageError(
      loaded === 0 ? `no kubeconfig found (looked at ${files.join(', ')})` : 'no current context is set in the kubeconfig',
      'pass --kubeconfig FILE or --context NAME, or set KUBECONFIG',
    );
  }
  const context = contexts.get(contextName);
  if (!context) throw usageError(`context "${contextName}" does not exist in the kubeconfig`, 'list contexts with: kubectl config get-contexts');
  const clusterName = refName(context.value.cluster);
  const cluster = clusters.get(clusterName);
  if (!cluster) throw usageError(`cluster "${clusterName}" of context "${contextName}" does not exist in the kubeconfig`);
  const userName = refName(context.value.user);
  const user = users.get(userName) ?? { name: userName, value: {}, dir: cluster.dir };
  // `||`, not `??`: an empty --namespace or context namespace means the default one, as in kubectl.
  // eslint-disable-next-line @typescript-eslint/prefer-nullish-coalescing
  const namespace = options.namespace || (typeof context.value.namespace === 'string' && context.value.namespace) || 'default';
  return {
    cluster: { name: cluster.name, cluster: absolutize(cluster.value, CLUSTER_PATHS, cluster.dir) },
    user: { name: user.name, user: absolutize(user.value, USER_PATHS, user.dir) },
    contextName,
    namespace,
    source: files.join(process.platform === 'win32' ? ';' : ':'),
    inCluster: false,
  };
}

/** A context's `cluster` or `user` as a name to look up (a YAML scalar; missing: ''). */
function refName(value: unknown): string {
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a mapping there is malformed and matches no entry whatever its text
  return String(value ?? '');
}

function inClusterConfig(options: ConnectionOptions, host: string, env: NodeJS.ProcessEnv): ResolvedConfig {
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let namespace = options.namespace;
  if (!namespace) {
    try {
      namespace = fs.readFileSync(`${SA_DIR}/namespace`, 'utf8').trim();
    } catch {
      namespace = 'default';
    }
  }
  return {
    cluster: { name: 'in-cluster', cluster: { server, 'certificate-authority': `${SA_DIR}/ca.crt` } },
    user: { name: 'in-cluster', user: { tokenFile: `${SA_DIR}/token` } },
    contextName: 'in-cluster',
    namespace: namespace || 'default',
    source: 'in-cluster service account',
    inCluster: true,
  };
}
