// Where a Vault-backed REC's credentials live and how to reach Vault: the path and cache time come
// from the operator's ConfigMap (as the operator reads them), the address and token from the flags
// or the environment the vault CLI uses.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { usageError } from '../cli/exit-codes.js';
import type { VaultConnection } from './vault-client.js';

export const OPERATOR_CONFIGMAP = 'operator-environment-config';
/** The operator's default VAULT_CACHE_SECRET_EXPIRATION_SECONDS. */
const DEFAULT_CACHE_SECONDS = 120;

export interface VaultFlags {
  vaultAddr?: string;
  vaultNamespace?: string;
  vaultCacert?: string;
  vaultTokenFile?: string;
}

export interface VaultEntry {
  mount: string;
  path: string;
  /** How long the operator may keep serving what it read before (its secret cache). */
  cacheMs: number;
}

/** KV v2 mount and path of the REC's credentials: <VAULT_SECRET_ROOT>/data/<VAULT_SECRET_PREFIX>/<secret name>. */
export function vaultEntry(operatorEnv: Record<string, string>, secretName: string): VaultEntry {
  const trim = (s: string) => s.replace(/^\/+|\/+$/g, '');
  const seconds = Number(operatorEnv.VAULT_CACHE_SECRET_EXPIRATION_SECONDS);
  return {
    mount: trim(operatorEnv.VAULT_SECRET_ROOT || 'secret'),
    path: `${trim(operatorEnv.VAULT_SECRET_PREFIX || 'redisenterprise')}/${secretName}`,
    cacheMs: (Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_CACHE_SECONDS) * 1000,
  };
}

export function vaultConnection(flags: VaultFlags, operatorEnv: Record<string, string>, timeoutMs: number, env = process.env): VaultConnection {
  const fromOperator = operatorEnv.VAULT_SERVER_FQDN
    ? `https://${operatorEnv.VAULT_SERVER_FQDN}:${operatorEnv.VAULT_SERVICE_PORT_HTTPS || '8200'}`
    : undefined;
  const addr = flags.vaultAddr || env.VAULT_ADDR || fromOperator;
  if (!addr) throw usageError('this REC keeps its credentials in Vault, and no Vault address is known', 'set VAULT_ADDR or pass --vault-addr');
  try {
    new URL(addr);
  } catch {
    throw usageError(`the Vault address "${addr.slice(0, 100)}" is not a URL`, 'e.g. --vault-addr https://vault.example:8200');
  }
  return {
    addr,
    token: vaultToken(flags, env),
    namespace: flags.vaultNamespace ?? env.VAULT_NAMESPACE ?? operatorEnv.VAULT_NAMESPACE ?? '',
    caCertFile: flags.vaultCacert || env.VAULT_CACERT || undefined,
    timeoutMs,
  };
}

/** Like the vault CLI: VAULT_TOKEN, else ~/.vault-token. A token is never taken as an argument. */
function vaultToken(flags: VaultFlags, env: NodeJS.ProcessEnv): string {
  if (flags.vaultTokenFile) return readToken(flags.vaultTokenFile, '--vault-token-file');
  if (env.VAULT_TOKEN) return env.VAULT_TOKEN.trim();
  const helperFile = path.join(os.homedir(), '.vault-token');
  if (fs.existsSync(helperFile)) return readToken(helperFile, helperFile);
  throw usageError('no Vault token: this REC keeps its credentials in Vault', 'set VAULT_TOKEN, log in with the vault CLI (~/.vault-token), or pass --vault-token-file PATH');
}

function readToken(file: string, what: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw usageError(`cannot read the Vault token from ${what}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const token = text.trim();
  if (!token) throw usageError(`${what} is empty`);
  return token;
}
