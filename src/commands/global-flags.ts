// Flags every command takes, spelled as kubectl spells them (SPEC 2), and the Vault connection for
// Vault-backed RECs (spelled after the vault CLI's environment).
import type { Argv } from 'yargs';
import { parseDuration } from '../duration/duration.js';
import type { SessionOptions } from '../rec/session.js';

export interface GlobalFlags {
  vaultAddr?: string;
  vaultNamespace?: string;
  vaultCacert?: string;
  vaultTokenFile?: string;
  namespace?: string;
  context?: string;
  kubeconfig?: string;
  requestTimeout?: string;
  output: 'text' | 'json' | 'yaml';
  verbose: number;
  color: boolean;
  quiet: boolean;
  yes: boolean;
}

export function withGlobalFlags<T>(y: Argv<T>) {
  return y
    .option('namespace', { alias: 'n', type: 'string', description: 'Namespace of the REC (default: the kubeconfig context\'s, else "default")', global: true })
    .option('context', { type: 'string', description: 'kubeconfig context to use', global: true })
    .option('kubeconfig', { type: 'string', description: 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)', global: true })
    .option('request-timeout', { type: 'string', description: 'Timeout of each API request and exec session, e.g. 30s (0: none)', default: '60s', global: true })
    .option('output', { alias: 'o', choices: ['text', 'json', 'yaml'] as const, default: 'text' as const, description: 'Output format of the result on stdout', global: true })
    .option('verbose', { alias: 'v', type: 'count', description: 'Diagnostics on stderr (repeat for more); never a secret', global: true })
    .option('color', { type: 'boolean', default: true, description: 'Colour on a terminal (--no-color to disable)', global: true })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, description: 'No progress output', global: true })
    .option('yes', { alias: 'y', type: 'boolean', default: false, description: 'Assume yes to confirmations', global: true })
    .option('vault-addr', {
      type: 'string',
      description: "Vault address for Vault-backed RECs (default: $VAULT_ADDR; required, the operator ConfigMap's is only suggested)",
      global: true,
    })
    .option('vault-namespace', { type: 'string', description: "Vault Enterprise namespace (default: $VAULT_NAMESPACE, else the operator's)", global: true })
    .option('vault-cacert', { type: 'string', description: "CA certificate file for Vault's TLS (default: $VAULT_CACERT)", global: true })
    .option('vault-token-file', { type: 'string', description: 'File holding the Vault token (default: $VAULT_TOKEN, else ~/.vault-token); never a token in argv', global: true })
    .group(['vault-addr', 'vault-namespace', 'vault-cacert', 'vault-token-file'], 'Vault-backed RECs:');
}

/** The global flags as the typed options a session is opened with (durations parsed here, once). */
export function sessionOptions(flags: GlobalFlags): SessionOptions {
  return {
    kubeconfig: flags.kubeconfig,
    context: flags.context,
    namespace: flags.namespace,
    requestTimeoutMs: parseDuration(flags.requestTimeout ?? '60s', '--request-timeout'),
    output: flags.output,
    verbose: flags.verbose,
    color: flags.color,
    quiet: flags.quiet,
    vault: { addr: flags.vaultAddr, namespace: flags.vaultNamespace, caCertFile: flags.vaultCacert, tokenFile: flags.vaultTokenFile },
  };
}
