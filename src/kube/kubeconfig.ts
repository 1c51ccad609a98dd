// Resolve the cluster, user and namespace exactly as kubectl would for the same flags and KUBECONFIG.
// client-node's own merge differs (later current-context wins, duplicate names throw), so the files are
// merged here with kubectl's rules and handed to client-node already resolved.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { z } from 'zod';
import { usageError } from '../errors/exit-codes.js';
import { checkExecConfig } from './exec-credential.js';

const Fields = z.record(z.string(), z.unknown());
const KubeconfigFile = z
  .object({
    'current-context': z.string().optional().nullable(),
    clusters: z.array(z.object({ name: z.string(), cluster: Fields.nullish() })).nullish(),
    users: z.array(z.object({ name: z.string(), user: Fields.nullish() })).nullish(),
    contexts: z.array(z.object({ name: z.string(), context: Fields.nullish() })).nullish(),
  })
  .loose();

/**
 * Where and as whom to connect: the kubeconfig selection and kubectl's override flags (`kubectl options`).
 * Paths given here are relative to the working directory, as kubectl takes them.
 */
export interface ConnectionOptions {
  kubeconfig?: string;
  context?: string;
  cluster?: string;
  user?: string;
  namespace?: string;
  server?: string;
  token?: string;
  certificateAuthority?: string;
  clientCertificate?: string;
  clientKey?: string;
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string;
  as?: string;
  asGroups?: string[];
  asUid?: string;
}

export interface ResolvedConfig {
  /** The kubeconfig shapes (one cluster, one user) with the override flags merged in, paths made absolute. */
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
      // kubectl: an explicit --kubeconfig must exist; missing files in KUBECONFIG are skipped, unreadable ones are errors.
      const code = (err as NodeJS.ErrnoException).code;
      if (options.kubeconfig || code !== 'ENOENT') throw usageError(`cannot read kubeconfig ${file}: ${code ?? String(err)}`);
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

  const { clusterDefined, ...resolved } = mergeSelection(options, { clusters, users, contexts, currentContext });
  const noServer = !clusterDefined && nonEmpty(options.server) === undefined;
  // client-go's DeferredLoadingClientConfig (tools/clientcmd/merged_client_builder.go, loader.go IsDefaultConfig):
  // a selection that names no cluster falls back to the pod's service account, unless impersonation was
  // asked for (it is part of the config client-go compares, so kubectl then stays on its default server).
  const impersonating = [options.as, options.asUid, ...(options.asGroups ?? [])].some((v) => nonEmpty(v) !== undefined);
  if (noServer && !impersonating && inClusterPossible(env)) return inClusterConfig(options, env);
  if (noServer) {
    throw usageError(
      loaded === 0 ? `no kubeconfig found (looked at ${files.join(', ')})` : 'the kubeconfig selects no cluster (no current context, or its cluster is not defined)',
      'pass --kubeconfig FILE, --context NAME or --server URL, or set KUBECONFIG',
    );
  }
  validate(resolved);
  return { ...resolved, source: files.join(path.delimiter), inCluster: false };
}

interface Loaded {
  clusters: Map<string, Entry>;
  users: Map<string, Entry>;
  contexts: Map<string, Entry>;
  currentContext: string;
}

/**
 * The context, cluster and user as client-go's DirectClientConfig merges them with the override flags
 * (tools/clientcmd/client_config.go getContext, getCluster, getAuthInfo): a named --context, --cluster or
 * --user must exist; the context's own references may dangle (they resolve to nothing).
 */
function mergeSelection(options: ConnectionOptions, loaded: Loaded): Omit<ResolvedConfig, 'source' | 'inCluster'> & { clusterDefined: boolean } {
  const contextName = nonEmpty(options.context) ?? loaded.currentContext;
  const context = loaded.contexts.get(contextName);
  if (contextName && !context) {
    throw usageError(`context "${contextName}" does not exist in the kubeconfig`, 'list contexts with: kubectl config get-contexts');
  }
  const clusterName = nonEmpty(options.cluster) ?? refName(context?.value.cluster);
  const clusterEntry = loaded.clusters.get(clusterName);
  if (options.cluster && !clusterEntry) throw usageError(`cluster "${options.cluster}" does not exist in the kubeconfig`, 'list clusters with: kubectl config get-clusters');
  const userName = nonEmpty(options.user) ?? refName(context?.value.user);
  const userEntry = loaded.users.get(userName);
  if (options.user && !userEntry) throw usageError(`user "${options.user}" does not exist in the kubeconfig`, 'list users with: kubectl config get-users');

  const cluster: Record<string, unknown> = clusterEntry ? absolutize(clusterEntry.value, CLUSTER_PATHS, clusterEntry.dir) : {};
  const cwd = process.cwd();
  const caOverride = nonEmpty(options.certificateAuthority);
  setIfGiven(cluster, 'server', nonEmpty(options.server));
  // An --insecure-skip-tls-verify or --certificate-authority flag replaces the kubeconfig's whole trust
  // setting; --server or --tls-server-name replaces its tls-server-name (client_config.go getCluster).
  if (options.insecureSkipTlsVerify === true || caOverride !== undefined) {
    cluster['insecure-skip-tls-verify'] = options.insecureSkipTlsVerify === true;
    cluster['certificate-authority'] = caOverride === undefined ? undefined : path.resolve(cwd, caOverride);
    cluster['certificate-authority-data'] = undefined;
  }
  if (nonEmpty(options.tlsServerName) !== undefined || nonEmpty(options.server) !== undefined) cluster['tls-server-name'] = nonEmpty(options.tlsServerName);

  const user: Record<string, unknown> = userEntry ? absolutize(userEntry.value, USER_PATHS, userEntry.dir) : {};
  setIfGiven(user, 'token', nonEmpty(options.token));
  setIfGiven(user, 'client-certificate', nonEmpty(options.clientCertificate) && path.resolve(cwd, options.clientCertificate ?? ''));
  setIfGiven(user, 'client-key', nonEmpty(options.clientKey) && path.resolve(cwd, options.clientKey ?? ''));
  setIfGiven(user, 'as', nonEmpty(options.as));
  if (options.asGroups?.length) user['as-groups'] = [...options.asGroups];
  setIfGiven(user, 'as-uid', nonEmpty(options.asUid));

  // `||`, not `??`: an empty --namespace or context namespace means the default one, as in kubectl.
  // eslint-disable-next-line @typescript-eslint/prefer-nullish-coalescing
  const namespace = options.namespace || (typeof context?.value.namespace === 'string' && context.value.namespace) || 'default';
  return {
    clusterDefined: clusterEntry !== undefined,
    cluster: { name: clusterName, cluster: dropUndefined(cluster) },
    user: { name: userName, user: dropUndefined(user) },
    contextName,
    namespace,
  };
}

/** client-go's validateClusterInfo and validateAuthInfo (tools/clientcmd/validation.go), the checks a run can fail. */
function validate(config: Omit<ResolvedConfig, 'source' | 'inCluster'>): void {
  const c = config.cluster.cluster;
  const u = config.user.user;
  const hint = 'check the kubeconfig (kubectl config view --minify) and the connection flags';
  if (!nonEmpty(c.server as string | undefined)) throw usageError(`no server found for cluster "${config.cluster.name}"`, hint);
  const ca = nonEmpty(c['certificate-authority'] as string | undefined);
  if (c['insecure-skip-tls-verify'] === true && (ca !== undefined || nonEmpty(c['certificate-authority-data'] as string | undefined) !== undefined)) {
    throw usageError(
      `cluster "${config.cluster.name}" sets both a certificate authority and insecure-skip-tls-verify; specifying a root certificate file with the insecure flag is not allowed`,
      hint,
    );
  }
  if (ca !== undefined && nonEmpty(c['certificate-authority-data'] as string | undefined) !== undefined) {
    throw usageError(`certificate-authority-data and certificate-authority are both specified for ${config.cluster.name}`, hint);
  }
  if (ca !== undefined) readable(ca, `certificate-authority of cluster "${config.cluster.name}"`);
  const cert = nonEmpty(u['client-certificate'] as string | undefined);
  const key = nonEmpty(u['client-key'] as string | undefined);
  const certData = nonEmpty(u['client-certificate-data'] as string | undefined);
  const keyData = nonEmpty(u['client-key-data'] as string | undefined);
  if (cert !== undefined && certData !== undefined) throw usageError(`user "${config.user.name}" has both client-certificate-data and client-certificate`, hint);
  if (key !== undefined && keyData !== undefined) throw usageError(`user "${config.user.name}" has both client-key-data and client-key`, hint);
  if ((cert ?? certData) !== undefined && (key ?? keyData) === undefined) {
    throw usageError(`client-key-data or client-key must be specified for ${config.user.name} to use the clientCert authentication method`, hint);
  }
  // A key without a certificate is not validated, and not used (client-go's HasCertAuth wants both).
  if (cert !== undefined) readable(cert, `client-certificate of user "${config.user.name}"`);
  if (key !== undefined && (cert ?? certData) !== undefined) readable(key, `client-key of user "${config.user.name}"`);
  const methods = [
    ...(nonEmpty(u.token as string | undefined) !== undefined || nonEmpty(u.tokenFile as string | undefined) !== undefined ? ['token'] : []),
    ...(nonEmpty(u.username as string | undefined) !== undefined || nonEmpty(u.password as string | undefined) !== undefined ? ['basicAuth'] : []),
  ];
  if (methods.length > 1) throw usageError(`more than one authentication method found for user "${config.user.name}"; found [${methods.join(' ')}], only one is allowed`, hint);
  if (u.exec !== undefined && u['auth-provider'] !== undefined) throw usageError(`user "${config.user.name}" has both an auth-provider and an exec plugin`, hint);
  if (u.exec !== undefined) checkExecConfig(u.exec, config.user.name);
  // client-go's rest config refuses these before any request (transport/config.go, round_trippers.go).
  const impersonatesBeyondUser =
    (Array.isArray(u['as-groups']) && u['as-groups'].length > 0) ||
    nonEmpty(u['as-uid'] as string | undefined) !== undefined ||
    (typeof u['as-user-extra'] === 'object' && u['as-user-extra'] !== null && Object.keys(u['as-user-extra']).length > 0);
  if (impersonatesBeyondUser && nonEmpty(u.as as string | undefined) === undefined) {
    throw usageError(`requesting uid, groups or user-extra for ${config.user.name} without impersonating a user`, 'add --as USER');
  }
  // Over https a user with no credentials at all makes kubectl prompt for a username; the plugin never prompts.
  const secure = /^https:/i.test(String(c.server));
  // client_config.go canIdentifyUser: a username (a password alone is not), a certificate, a token, an auth-provider or an exec plugin.
  const identified =
    nonEmpty(u.username as string | undefined) !== undefined ||
    (cert ?? certData) !== undefined ||
    nonEmpty(u.token as string | undefined) !== undefined ||
    tokenFromFile(u, config.user.name) !== undefined ||
    u.exec !== undefined ||
    u['auth-provider'] !== undefined;
  if (secure && !identified) {
    throw usageError(
      `the kubeconfig gives no credentials for user "${config.user.name}"`,
      'pass --token or --user, choose a --context whose user has credentials, or log in (kubectl config view --minify)',
    );
  }
}

/**
 * Without an inline token, client-go reads the token file while it builds the config and fails if it cannot
 * (client_config.go getUserIdentificationPartialConfig); an empty file is no credential.
 */
function tokenFromFile(u: Record<string, unknown>, userName: string): string | undefined {
  const file = nonEmpty(u.tokenFile as string | undefined);
  if (file === undefined || nonEmpty(u.token as string | undefined) !== undefined) return undefined;
  try {
    return nonEmpty(fs.readFileSync(file, 'utf8').trim());
  } catch (err) {
    throw usageError(`cannot read the tokenFile of user "${userName}" ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function readable(file: string, what: string): void {
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (err) {
    throw usageError(`unable to read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

const nonEmpty = (v: string | undefined): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function setIfGiven(target: Record<string, unknown>, key: string, value: string | undefined | false): void {
  if (typeof value === 'string' && value !== '') target[key] = value;
}

function dropUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

/** A context's `cluster` or `user` as a name to look up (a YAML scalar; missing: ''). */
function refName(value: unknown): string {
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a mapping there is malformed and matches no entry whatever its text
  return String(value ?? '');
}

function inClusterPossible(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT && fs.existsSync(`${SA_DIR}/token`));
}

/** rest.InClusterConfig with the flags kubectl's inClusterClientConfig honours (--server, --token, --certificate-authority, -n). */
function inClusterConfig(options: ConnectionOptions, env: NodeJS.ProcessEnv): ResolvedConfig {
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const server = nonEmpty(options.server) ?? `https://${host.includes(':') ? `[${host}]` : host}:${env.KUBERNETES_SERVICE_PORT ?? '443'}`;
  let namespace = options.namespace ?? env.POD_NAMESPACE;
  if (!namespace) {
    try {
      namespace = fs.readFileSync(`${SA_DIR}/namespace`, 'utf8').trim();
    } catch {
      namespace = 'default';
    }
  }
  const token = nonEmpty(options.token);
  const ca = nonEmpty(options.certificateAuthority);
  return {
    cluster: { name: 'in-cluster', cluster: { server, 'certificate-authority': ca === undefined ? `${SA_DIR}/ca.crt` : path.resolve(ca) } },
    user: { name: 'in-cluster', user: token === undefined ? { tokenFile: `${SA_DIR}/token` } : { token } },
    contextName: 'in-cluster',
    namespace: namespace || 'default',
    source: 'in-cluster service account',
    inCluster: true,
  };
}
