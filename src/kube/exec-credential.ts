// Exec credential plugins (gke-gcloud-auth-plugin, aws eks get-token, kubelogin) run as client-go runs
// them (staging/src/k8s.io/client-go/plugin/pkg/client/auth/exec/exec.go): KUBERNETES_EXEC_INFO always
// set, the cluster in it only with provideClusterInfo, stdin handed over only in interactive mode, the
// plugin's stderr passed through, the install hint when the command is missing, and the credential kept
// until its expirationTimestamp (for the life of the process when it has none).
import { z } from 'zod';
import { failed, usageError } from '../errors/exit-codes.js';
import { redactor } from '../output/redactor.js';

const API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'] as const;

export const ExecConfigSchema = z.object({
  command: z.string().min(1, 'exec plugin: command must be specified'),
  args: z.array(z.string()).nullish(),
  env: z.array(z.object({ name: z.string(), value: z.string() })).nullish(),
  apiVersion: z.string().min(1, 'exec plugin: apiVersion must be specified'),
  installHint: z.string().nullish(),
  provideClusterInfo: z.boolean().nullish(),
  interactiveMode: z.enum(['Never', 'IfAvailable', 'Always']).nullish(),
});
export type ExecConfig = z.infer<typeof ExecConfigSchema>;

/** An exec stanza validated as client-go validates it (tools/clientcmd/validation.go validateAuthInfo), whether or not it will run. */
export function checkExecConfig(raw: unknown, userName: string): ExecConfig {
  const parsed = ExecConfigSchema.safeParse(raw);
  if (!parsed.success) throw usageError(`user "${userName}": ${parsed.error.issues[0]?.message ?? 'invalid exec plugin configuration'}`);
  const config = parsed.data;
  if (!(API_VERSIONS as readonly string[]).includes(config.apiVersion)) {
    throw usageError(`user "${userName}": exec plugin: invalid apiVersion "${config.apiVersion}"`, `use ${API_VERSIONS.join(' or ')}`);
  }
  // v1 requires interactiveMode; v1beta1 defaults it to IfAvailable.
  if (!config.interactiveMode && config.apiVersion.endsWith('/v1')) {
    throw usageError(`interactiveMode must be specified for ${userName} to use exec authentication plugin`);
  }
  return config;
}

const ExecCredentialSchema = z.object({
  apiVersion: z.string(),
  kind: z.literal('ExecCredential'),
  status: z.object({
    token: z.string().nullish(),
    clientCertificateData: z.string().nullish(),
    clientKeyData: z.string().nullish(),
    expirationTimestamp: z.string().nullish(),
  }),
});

/** What the plugin returned: a bearer token or a client certificate. */
export interface ExecCredential {
  token?: string;
  cert?: string;
  key?: string;
  /** ms since the epoch; undefined: valid for the life of the process. */
  expiresAt?: number;
}

/** The cluster as KUBERNETES_EXEC_INFO carries it (pkg/apis/clientauthentication/v1 Cluster). */
export interface ExecClusterInfo {
  server: string;
  'tls-server-name'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'certificate-authority-data'?: string;
  'proxy-url'?: string;
  'disable-compression'?: boolean;
  config?: unknown;
}

const INSTALL_DOCS = 'https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins';

/**
 * Refreshed a little before it expires: a request signed a moment before the expiry may reach the API
 * server after it. At most 10 s early, and never more than a tenth of the credential's lifetime.
 */
function refreshAt(cred: ExecCredential, obtainedAt: number): number {
  if (cred.expiresAt === undefined) return Infinity;
  return cred.expiresAt - Math.min(10_000, Math.max(0, (cred.expiresAt - obtainedAt) / 10));
}

export class ExecCredentialPlugin {
  private cached: { cred: ExecCredential; refreshAt: number } | undefined;
  private running: Promise<ExecCredential> | undefined;
  private readonly config: ExecConfig;

  constructor(
    raw: unknown,
    private readonly userName: string,
    private readonly cluster: ExecClusterInfo,
    private readonly stdinIsTerminal: boolean = process.stdin.isTTY,
  ) {
    this.config = checkExecConfig(raw, userName);
  }

  /** The current credential: cached until shortly before it expires, then the plugin runs again (once, however many requests wait). */
  async credential(): Promise<ExecCredential> {
    if (this.cached && Date.now() < this.cached.refreshAt) return this.cached.cred;
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private interactive(): boolean {
    const mode = this.config.interactiveMode ?? 'IfAvailable';
    if (mode === 'Never') return false;
    if (mode === 'Always' && !this.stdinIsTerminal) {
      throw failed('getting credentials: exec plugin cannot support interactive mode: standard input is not a terminal');
    }
    return this.stdinIsTerminal;
  }

  private async run(): Promise<ExecCredential> {
    const interactive = this.interactive();
    const info = {
      kind: 'ExecCredential',
      apiVersion: this.config.apiVersion,
      spec: { ...(this.config.provideClusterInfo ? { cluster: { config: null, ...this.cluster } } : {}), interactive },
    };
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const e of this.config.env ?? []) env[e.name] = e.value;
    env.KUBERNETES_EXEC_INFO = JSON.stringify(info);
    // Loaded here, not with the module: every session loads this module, few users run an exec plugin.
    const { spawn } = await import('node:child_process');
    const started = Date.now();
    const { stdout, code } = await new Promise<{ stdout: string; code: number | null }>((resolve, reject) => {
      // stdin only when interactive; stderr is the plugin's own channel to the user (a login prompt, a browser URL).
      const child = spawn(this.config.command, this.config.args ?? [], { env, stdio: [interactive ? 'inherit' : 'ignore', 'pipe', 'inherit'] });
      const out: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.on('error', (err: NodeJS.ErrnoException) => reject(this.startError(err)));
      child.on('close', (exitCode) => resolve({ stdout: Buffer.concat(out).toString('utf8'), code: exitCode }));
    });
    if (code !== 0) {
      throw failed(`getting credentials: exec: executable ${this.config.command} failed with exit code ${String(code)}`, 'run the credential plugin by hand to see why');
    }
    const cred = this.parse(stdout);
    this.cached = { cred, refreshAt: refreshAt(cred, started) };
    return cred;
  }

  private startError(err: NodeJS.ErrnoException): Error {
    // The hint is for a command looked up on PATH; a path that is missing is a plain start failure (exec.go).
    if (err.code === 'ENOENT' && !this.config.command.includes('/')) {
      const hint = this.config.installHint ? `\n\n${printable(this.config.installHint)}` : '';
      return failed(
        `getting credentials: exec: executable ${this.config.command} not found\n\nIt looks like you are trying to use a client-go credential plugin that is not installed.\n\nTo learn more about this feature, consult the documentation available at:\n      ${INSTALL_DOCS}${hint}`,
      );
    }
    return failed(`getting credentials: exec: ${this.config.command}: ${err.message}`);
  }

  private parse(stdout: string): ExecCredential {
    let json: unknown;
    try {
      json = JSON.parse(stdout);
    } catch {
      throw failed(`getting credentials: decoding stdout: the exec plugin of user "${this.userName}" did not print an ExecCredential`);
    }
    const parsed = ExecCredentialSchema.safeParse(json);
    if (!parsed.success) throw failed(`getting credentials: the exec plugin of user "${this.userName}" printed an invalid ExecCredential`);
    const { apiVersion, status } = parsed.data;
    if (apiVersion !== this.config.apiVersion) {
      throw failed(`getting credentials: exec plugin is configured to use API version ${this.config.apiVersion}, plugin returned version ${apiVersion}`);
    }
    const token = status.token ?? undefined;
    const cert = status.clientCertificateData ?? undefined;
    const key = status.clientKeyData ?? undefined;
    redactor.add(token, key);
    if (!token && !(cert && key)) {
      throw failed(`getting credentials: exec plugin didn't return a token or cert/key pair`);
    }
    if ((cert && !key) || (key && !cert)) throw failed('getting credentials: exec plugin returned only one of clientCertificateData and clientKeyData');
    let expiresAt: number | undefined;
    if (status.expirationTimestamp) {
      expiresAt = Date.parse(status.expirationTimestamp);
      if (Number.isNaN(expiresAt)) throw failed(`getting credentials: the exec plugin's expirationTimestamp is not a time: ${status.expirationTimestamp.slice(0, 40)}`);
    }
    return { ...(token ? { token } : {}), ...(cert && key ? { cert, key } : {}), ...(expiresAt !== undefined ? { expiresAt } : {}) };
  }
}

/**
 * client-go's cleanANSIEscapeCodes (tools/clientcmd/client_config.go): a kubeconfig's install hint is shown
 * with every character outside letters, marks, numbers, punctuation, symbols, separators and \t..\r written
 * as U+XXXX, so a kubeconfig cannot drive the terminal.
 */
function printable(text: string): string {
  return text.replace(/[^\p{L}\p{M}\p{N}\p{P}\p{S}\p{Z}\t\n\v\f\r]/gu, (c) => `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`);
}
