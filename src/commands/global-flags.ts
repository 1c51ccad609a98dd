// Flags every command takes, spelled as kubectl spells them (SPEC 2), and the Vault connection for
// Vault-backed RECs (spelled after the vault CLI's environment).
import type { Argv } from 'yargs';
import { parseRequestTimeout } from '../duration/duration.js';
import { redactor } from '../output/redactor.js';
import type { ConnectionOptions } from '../kube/kubeconfig.js';
import type { SessionOptions } from '../rec/session.js';

/** The flags every command takes; the connection ones are kubectl's, named as `ConnectionOptions` names them (`--as-group` is `asGroup` here). */
export interface GlobalFlags extends Omit<ConnectionOptions, 'asGroups'> {
  vaultAddr?: string;
  vaultNamespace?: string;
  vaultCacert?: string;
  vaultTokenFile?: string;
  asGroup?: string[];
  requestTimeout?: string;
  output: 'text' | 'json' | 'yaml';
  verbose: number;
  color: boolean;
  quiet: boolean;
  yes: boolean;
}

/** A repeated single-valued flag: the last occurrence wins, as in kubectl. */
export const lastValue = (v: unknown): unknown => (Array.isArray(v) ? v.at(-1) : v);

export function withGlobalFlags<T>(y: Argv<T>) {
  return (
    y
      // kubectl (pflag) keeps a repeated flag's last value; an array flag takes one value per occurrence.
      .parserConfiguration({ 'greedy-arrays': false })
      .option('namespace', {
        coerce: lastValue,
        alias: 'n',
        type: 'string',
        description: 'Namespace of the REC (default: the kubeconfig context\'s, else "default")',
        global: true,
      })
      .option('kubeconfig', { coerce: lastValue, type: 'string', description: 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)', global: true })
      .option('context', { coerce: lastValue, type: 'string', description: 'The name of the kubeconfig context to use', global: true })
      .option('cluster', { coerce: lastValue, type: 'string', description: 'The name of the kubeconfig cluster to use', global: true })
      .option('user', {
        coerce: lastValue,
        type: 'string',
        description: 'The name of the kubeconfig user to use (in the user commands --user names the Redis user: pick the kubeconfig user with --context there)',
        global: true,
      })
      .option('server', { coerce: lastValue, alias: 's', type: 'string', description: 'The address and port of the Kubernetes API server', global: true })
      .option('token', {
        coerce: lastValue,
        type: 'string',
        description:
          'Bearer token for authentication to the API server. Visible to every user of this machine in the process list: prefer a kubeconfig (or KUBECONFIG) with a token file or an exec plugin',
        global: true,
      })
      .option('certificate-authority', { coerce: lastValue, type: 'string', description: 'Path to a cert file for the certificate authority', global: true })
      .option('client-certificate', { coerce: lastValue, type: 'string', description: 'Path to a client certificate file for TLS', global: true })
      .option('client-key', { coerce: lastValue, type: 'string', description: 'Path to a client key file for TLS', global: true })
      .option('insecure-skip-tls-verify', {
        coerce: lastValue,
        type: 'boolean',
        description: "If true, the server's certificate will not be checked for validity. This will make your HTTPS connections insecure",
        global: true,
      })
      .option('tls-server-name', {
        type: 'string',
        description: 'Server name to use for server certificate validation. If not set, the hostname of the server is used',
        global: true,
      })
      .option('as', {
        coerce: lastValue,
        type: 'string',
        description: 'Username to impersonate for the operation. User could be a regular user or a service account in a namespace',
        global: true,
      })
      .option('as-group', {
        type: 'string',
        array: true,
        description: 'Group to impersonate for the operation, this flag can be repeated to specify multiple groups',
        global: true,
      })
      .option('as-uid', { coerce: lastValue, type: 'string', description: 'UID to impersonate for the operation', global: true })
      .option('request-timeout', {
        coerce: lastValue,
        type: 'string',
        description: 'Timeout of each API request and exec session: a number of seconds or a duration such as 30s or 1m (0: none; unlike kubectl the default is not 0)',
        default: '60s',
        global: true,
      })
      .option('cache-dir', { coerce: lastValue, type: 'string', description: 'Accepted as kubectl accepts it; the plugin reads no discovery cache', global: true, hidden: false })
      .option('disable-compression', {
        coerce: lastValue,
        type: 'boolean',
        description: 'Accepted as kubectl accepts it; the plugin never asks for compressed responses',
        global: true,
      })
      .option('match-server-version', {
        coerce: lastValue,
        type: 'boolean',
        description: 'Accepted as kubectl accepts it; has no effect (the plugin has no Kubernetes client version)',
        global: true,
      })
      .group(
        [
          'kubeconfig',
          'context',
          'cluster',
          'user',
          'namespace',
          'server',
          'token',
          'certificate-authority',
          'client-certificate',
          'client-key',
          'insecure-skip-tls-verify',
          'tls-server-name',
          'as',
          'as-group',
          'as-uid',
          'request-timeout',
          'cache-dir',
          'disable-compression',
          'match-server-version',
        ],
        'Kubernetes connection (kubectl options, resolved as kubectl resolves them):',
      )
      .option('output', {
        coerce: lastValue,
        alias: 'o',
        choices: ['text', 'json', 'yaml'] as const,
        default: 'text' as const,
        description: 'Output format of the result on stdout',
        global: true,
      })
      .option('verbose', { alias: 'v', type: 'count', description: 'Diagnostics on stderr (repeat for more); never a secret', global: true })
      .option('color', { coerce: lastValue, type: 'boolean', default: true, description: 'Colour on a terminal (--no-color to disable)', global: true })
      .option('quiet', { coerce: lastValue, alias: 'q', type: 'boolean', default: false, description: 'No progress output', global: true })
      .option('yes', { coerce: lastValue, alias: 'y', type: 'boolean', default: false, description: 'Assume yes to confirmations', global: true })
      .option('vault-addr', {
        coerce: lastValue,
        type: 'string',
        description: "Vault address for Vault-backed RECs (default: $VAULT_ADDR; required, the operator ConfigMap's is only suggested)",
        global: true,
      })
      .option('vault-namespace', { coerce: lastValue, type: 'string', description: "Vault Enterprise namespace (default: $VAULT_NAMESPACE, else the operator's)", global: true })
      .option('vault-cacert', { coerce: lastValue, type: 'string', description: "CA certificate file for Vault's TLS (default: $VAULT_CACERT)", global: true })
      .option('vault-token-file', {
        coerce: lastValue,
        type: 'string',
        description: 'File holding the Vault token (default: $VAULT_TOKEN, else ~/.vault-token); never a token in argv',
        global: true,
      })
      .group(['vault-addr', 'vault-namespace', 'vault-cacert', 'vault-token-file'], 'Vault-backed RECs:')
  );
}

/**
 * The global flags as the typed options a session is opened with (durations parsed here, once).
 * `kubeconfigUser: false` where a command's own --user names something else (the Redis user).
 */
export function sessionOptions(flags: GlobalFlags, { kubeconfigUser = true }: { kubeconfigUser?: boolean } = {}): SessionOptions {
  // Registered before anything can print it: an error, a -v trace.
  redactor.add(flags.token);
  return {
    connection: {
      kubeconfig: flags.kubeconfig,
      context: flags.context,
      cluster: flags.cluster,
      user: kubeconfigUser ? flags.user : undefined,
      namespace: flags.namespace,
      server: flags.server,
      token: flags.token,
      certificateAuthority: flags.certificateAuthority,
      clientCertificate: flags.clientCertificate,
      clientKey: flags.clientKey,
      insecureSkipTlsVerify: flags.insecureSkipTlsVerify,
      tlsServerName: flags.tlsServerName,
      as: flags.as,
      asGroups: flags.asGroup,
      asUid: flags.asUid,
    },
    requestTimeoutMs: parseRequestTimeout(flags.requestTimeout ?? '60s'),
    output: flags.output,
    verbose: flags.verbose,
    color: flags.color,
    quiet: flags.quiet,
    vault: { addr: flags.vaultAddr, namespace: flags.vaultNamespace, caCertFile: flags.vaultCacert, tokenFile: flags.vaultTokenFile },
  };
}
