// Where a Vault-backed REC's credentials live and how to reach Vault: the path and cache time come
// from the operator's ConfigMap (as the operator reads them), the address and token only from the
// flags or the environment the vault CLI uses. The ConfigMap is editable by whoever may update
// ConfigMaps in the REC namespace: an address taken from it would hand them the user's token.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { usageError } from '../errors/exit-codes.js';
import type { VaultConnection } from './vault-client.js';

export const OPERATOR_CONFIGMAP = 'operator-environment-config';
/** The operator's default VAULT_CACHE_SECRET_EXPIRATION_SECONDS. */
const DEFAULT_CACHE_SECONDS = 120;

/** What the user chose for reaching Vault (--vault-* flags); the environment fills in the rest, as for the vault CLI. */
export interface VaultOptions {
  addr?: string;
  namespace?: string;
  caCertFile?: string;
  tokenFile?: string;
}

export interface VaultEntry {
  mount: string;
  path: string;
  /** How long the operator may keep serving what it read before (its secret cache). */
  cacheMs: number;
}

/** A setting from the environment or a flag, where an empty value counts as unset (as for the operator and the vault CLI). */
const nonEmpty = (value: string | undefined): string | undefined => (value === '' ? undefined : value);

/** KV v2 mount and path of the REC's credentials: <VAULT_SECRET_ROOT>/data/<VAULT_SECRET_PREFIX>/<secret name>. */
export function vaultEntry(operatorEnv: Record<string, string>, secretName: string): VaultEntry {
  const seconds = Number(operatorEnv.VAULT_CACHE_SECRET_EXPIRATION_SECONDS);
  return {
    mount: configuredPath(operatorEnv, 'VAULT_SECRET_ROOT', 'secret'),
    path: `${configuredPath(operatorEnv, 'VAULT_SECRET_PREFIX', 'redisenterprise')}/${secretName}`,
    cacheMs: (Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_CACHE_SECONDS) * 1000,
  };
}

/** A path from the ConfigMap, kept inside its KV mount: the token must not reach other Vault endpoints through it. */
function configuredPath(operatorEnv: Record<string, string>, key: string, fallback: string): string {
  const value = (nonEmpty(operatorEnv[key]) ?? fallback).replace(/^\/+|\/+$/g, '');
  // eslint-disable-next-line no-control-regex -- control characters (NUL included) are what this refuses
  if (value.split('/').some((s) => s === '.' || s === '..') || /[?#%\\\x00-\x20\x7f]/.test(value)) {
    throw usageError(
      // eslint-disable-next-line no-control-regex -- control characters are masked before the value is shown
      `the operator's ConfigMap ${OPERATOR_CONFIGMAP} sets ${key} to "${value.slice(0, 100).replace(/[\x00-\x1f\x7f]/g, '?')}", which is not a plain Vault path`,
      'the operator reads the REC credentials there too: fix the ConfigMap',
    );
  }
  return value;
}

/** The address the operator's ConfigMap names, only to be suggested; undefined unless it is a plain host and port. */
function operatorSuggestion(operatorEnv: Record<string, string>): string | undefined {
  const host = operatorEnv.VAULT_SERVER_FQDN ?? '';
  const port = nonEmpty(operatorEnv.VAULT_SERVICE_PORT_HTTPS) ?? '8200';
  return /^[A-Za-z0-9.-]{1,253}$/.test(host) && /^\d{1,5}$/.test(port) ? `https://${host}:${port}` : undefined;
}

export function vaultConnection(options: VaultOptions, operatorEnv: Record<string, string>, timeoutMs: number, env = process.env): VaultConnection {
  // Only what the user chose; the ConfigMap's address is named in the hint, never contacted.
  const addr = nonEmpty(options.addr) ?? env.VAULT_ADDR;
  if (!addr) {
    const suggested = operatorSuggestion(operatorEnv);
    throw usageError(
      "this REC keeps its credentials in Vault, and no Vault address was given: set VAULT_ADDR or pass --vault-addr (the address in the operator's ConfigMap is not used on its own: whoever can edit that ConfigMap would receive your token)",
      suggested ? `the operator's ConfigMap suggests ${suggested}; if that is your Vault, export VAULT_ADDR=${suggested}` : 'e.g. export VAULT_ADDR=https://vault.example:8200',
    );
  }
  try {
    new URL(addr);
  } catch {
    throw usageError(`the Vault address "${addr.slice(0, 100)}" is not a URL`, 'e.g. --vault-addr https://vault.example:8200');
  }
  return {
    addr,
    token: vaultToken(options, env),
    namespace: options.namespace ?? env.VAULT_NAMESPACE ?? operatorEnv.VAULT_NAMESPACE ?? '',
    caCertFile: nonEmpty(options.caCertFile) ?? nonEmpty(env.VAULT_CACERT),
    timeoutMs,
  };
}

/** Like the vault CLI: VAULT_TOKEN, else ~/.vault-token. A token is never taken as an argument. */
function vaultToken(options: VaultOptions, env: NodeJS.ProcessEnv): string {
  if (options.tokenFile) return readToken(options.tokenFile, '--vault-token-file');
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
