// Kubeconfigs whose user is the sim's exec credential plugin (exec-credential-plugin.mjs), and the plugin's
// log of its runs. The plugin mints its token from the API server's test-only path (MINT_PATH), guarded by a
// key the server passes it through the kubeconfig's exec.env.
import { accessSync, chmodSync, constants, existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ExecConfigInput, KubeconfigInput } from './kubeconfig.js';

/** The plugin's path; it is executable (`#!/usr/bin/env node`), so kubectl can run it as the command. */
export const EXEC_PLUGIN = fileURLToPath(new URL('./exec-credential-plugin.mjs', import.meta.url));

/** Where the plugin mints tokens: POST {user, groups?, ttlMs?} with header X-Sim-Mint-Key; 201 {token, expiresAt}. */
export const MINT_PATH = '/sim/v1/tokens';
export const MINT_KEY_HEADER = 'x-sim-mint-key';

export type ExecApiVersion = 'client.authentication.k8s.io/v1' | 'client.authentication.k8s.io/v1beta1';

export interface ExecKubeconfigOptions {
  /** Whose token the plugin mints: any name (its rights are the rules bound to it and its groups). */
  user: string;
  /** The token's groups; default the groups addUser gave the user. */
  groups?: string[];
  /** How long each minted token authenticates; default 15 minutes (as EKS tokens). */
  ttlMs?: number;
  /** exec.apiVersion; default client.authentication.k8s.io/v1. */
  apiVersion?: ExecApiVersion;
  /** exec.command; default EXEC_PLUGIN's absolute path. A missing command tests installHint. */
  command?: string;
  args?: string[];
  /** More exec.env entries, after the sim's own; their values are logged on every run. */
  env?: { name: string; value: string }[];
  provideClusterInfo?: boolean;
  /** Default 'Never' (v1 requires the field); null leaves it out. */
  interactiveMode?: ExecConfigInput['interactiveMode'] | null;
  installHint?: string;
  /** The plugin prints this on stderr and exits 1. */
  fail?: string;
  /** The plugin answers in this apiVersion whatever it was asked (client-go refuses a mismatch). */
  outputApiVersion?: string;
  /** No status.expirationTimestamp: the client keeps the token until a 401. */
  noExpiry?: boolean;
  /** The cluster's client.authentication.k8s.io/exec extension (spec.cluster.config with provideClusterInfo). */
  execExtension?: unknown;
  namespace?: string;
  clusterName?: string;
  /** The kubeconfig's path; default a new file in the API server's folder. */
  file?: string;
  /** The plugin's log; default the kubeconfig's path + '.exec-log'. */
  log?: string;
}

/** One run of the plugin, as it logged it. */
export interface ExecInvocation {
  time: number;
  pid: number;
  argv: string[];
  /** KUBERNETES_EXEC_INFO parsed (apiVersion, kind, spec.interactive, spec.cluster when provideClusterInfo); null when unset. */
  execInfo: { apiVersion?: string; kind?: string; spec?: { interactive?: boolean; cluster?: Record<string, unknown> } } | null;
  /** The values of the env entries given in ExecKubeconfigOptions.env (null when unset in the plugin's environment). */
  env: Record<string, string | null>;
  stdinIsTTY: boolean;
  user: string | null;
  /** The apiVersion it answered in. */
  apiVersion: string;
  expirationTimestamp?: string | null;
  error?: string;
}

export interface ExecKubeconfig {
  kubeconfig: string;
  log: string;
  /** Every run so far, oldest first. */
  invocations(): ExecInvocation[];
}

export function readExecLog(file: string): ExecInvocation[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ExecInvocation);
}

/** A checkout or copy can drop the executable bit; kubectl needs it to run the plugin as a command. */
export function ensurePluginExecutable(): void {
  try {
    accessSync(EXEC_PLUGIN, constants.X_OK);
  } catch {
    chmodSync(EXEC_PLUGIN, 0o755);
  }
}

export interface MintEndpoint {
  url: string;
  caFile: string;
  key: string;
}

/** The kubeconfig input for an exec user; the API server writes it (ApiServer.execKubeconfig). */
export function execKubeconfigInput(o: ExecKubeconfigOptions, server: { url: string; caFile: string }, mint: MintEndpoint, file: string, log: string): KubeconfigInput {
  const own = [
    { name: 'SIM_EXEC_MINT_URL', value: `${mint.url}${MINT_PATH}` },
    { name: 'SIM_EXEC_MINT_CA', value: mint.caFile },
    { name: 'SIM_EXEC_MINT_KEY', value: mint.key },
    { name: 'SIM_EXEC_USER', value: o.user },
    { name: 'SIM_EXEC_LOG', value: log },
    ...(o.groups ? [{ name: 'SIM_EXEC_GROUPS', value: o.groups.join(',') }] : []),
    ...(o.ttlMs !== undefined ? [{ name: 'SIM_EXEC_TTL_MS', value: String(o.ttlMs) }] : []),
    ...(o.fail !== undefined ? [{ name: 'SIM_EXEC_FAIL', value: o.fail }] : []),
    ...(o.outputApiVersion !== undefined ? [{ name: 'SIM_EXEC_OUTPUT_API_VERSION', value: o.outputApiVersion }] : []),
    ...(o.noExpiry ? [{ name: 'SIM_EXEC_NO_EXPIRY', value: '1' }] : []),
  ];
  const extra = o.env ?? [];
  if (extra.length) own.push({ name: 'SIM_EXEC_RECORD_ENV', value: extra.map((e) => e.name).join(',') });
  const interactiveMode = o.interactiveMode === undefined ? 'Never' : o.interactiveMode;
  const exec: ExecConfigInput = {
    apiVersion: o.apiVersion ?? 'client.authentication.k8s.io/v1',
    command: o.command ?? EXEC_PLUGIN,
    ...(o.args ? { args: o.args } : {}),
    env: [...own, ...extra],
    ...(o.provideClusterInfo !== undefined ? { provideClusterInfo: o.provideClusterInfo } : {}),
    ...(interactiveMode !== null ? { interactiveMode } : {}),
    ...(o.installHint !== undefined ? { installHint: o.installHint } : {}),
  };
  return {
    file,
    server: server.url,
    caFile: server.caFile,
    user: o.user,
    exec,
    ...(o.namespace !== undefined ? { namespace: o.namespace } : {}),
    ...(o.clusterName !== undefined ? { clusterName: o.clusterName } : {}),
    ...(o.execExtension !== undefined ? { execExtension: o.execExtension } : {}),
  };
}
