// The REC credentials in Vault KV v2, written with check-and-set so a concurrent writer is detected.
import { refused, usageError } from '../errors/exit-codes.js';
import type { Cluster } from '../kube/cluster.js';
import { redactor } from '../output/redactor.js';
import { StoreConflictError, StoreMissingError, type CredentialStore, type StoredCredentials } from './credential-store.js';
import { VaultClient, VaultError } from '../vault/vault-client.js';
import { OPERATOR_CONFIGMAP, vaultConnection, vaultEntry, type VaultEntry, type VaultOptions } from '../vault/vault-settings.js';

// With the u flag a paired surrogate is one code point, so this finds only unpaired ones.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

export class VaultStore implements CredentialStore {
  readonly type = 'vault' as const;
  readonly location: string;

  constructor(
    readonly client: VaultClient,
    readonly entry: VaultEntry,
  ) {
    this.location = `vault ${entry.mount}/data/${entry.path}`;
  }

  private lastRead: { version: string; data: Record<string, unknown> } | undefined;

  private async readVersion(): Promise<{ version: string; data: Record<string, unknown> } | undefined> {
    const got = await this.client.kvRead(this.entry.mount, this.entry.path);
    return got && { version: String(got.version), data: got.data };
  }

  /** The operator serves a cached copy this long, so no settle may be shorter. */
  get minimumSettleMs(): number {
    return this.entry.cacheMs;
  }

  async read(): Promise<StoredCredentials> {
    const got = await this.client.kvRead(this.entry.mount, this.entry.path);
    if (!got) throw new StoreMissingError(this.location, 'does not exist');
    this.lastRead = { version: String(got.version), data: got.data };
    const { username, password } = got.data;
    // Known from here on: whatever is printed next (a refused login, a preflight error) is scrubbed of it.
    if (typeof password === 'string') redactor.add(password);
    if (typeof username !== 'string' || typeof password !== 'string' || !username || !password) {
      throw new StoreMissingError(this.location, 'lacks the username or password key');
    }
    for (const [key, value] of [
      ['username', username],
      ['password', password],
    ] as const) {
      // JSON can carry a lone surrogate ("\ud800"), which no UTF-8 encoding represents: it would be
      // sent as U+FFFD, an altered password that fails a login. Refused before any login instead.
      if (LONE_SURROGATE.test(value)) {
        throw usageError(
          `key "${key}" of ${this.location} is not valid Unicode text (it holds a lone surrogate); the plugin does not send an altered copy of it`,
          'the REST API takes credentials as UTF-8 text: store the value there as UTF-8 (the one the cluster accepts), then run the command again',
        );
      }
    }
    return { username, password, version: String(got.version) };
  }

  async write(credentials: { username: string; password: string }, expectedVersion: string): Promise<StoredCredentials> {
    // Keys other than these two belong to someone else: carry them over from the read this write
    // follows (check-and-set refuses the write if the entry moved on since).
    const current = this.lastRead?.version === expectedVersion ? this.lastRead : await this.readVersion();
    if (current?.version !== expectedVersion) throw new StoreConflictError(this.location);
    const others = Object.fromEntries(Object.entries(current.data).filter((e): e is [string, string] => typeof e[1] === 'string'));
    try {
      const data = { ...others, username: credentials.username, password: credentials.password };
      const version = await this.client.kvWrite(this.entry.mount, this.entry.path, data, Number(expectedVersion));
      return { ...credentials, version: String(version) };
    } catch (err) {
      if (err instanceof VaultError && err.casMismatch) throw new StoreConflictError(this.location);
      throw err;
    }
  }
}

/**
 * The Vault entry the operator of `cluster`'s namespace reads for `secretName`, at the path its ConfigMap
 * configures (content/operate/kubernetes/security/vault.md); Vault is reached with the run's own address and token.
 */
export async function operatorVaultStore(cluster: Cluster, vault: VaultOptions, timeoutMs: number, secretName: string, where = ''): Promise<VaultStore> {
  const operatorEnv = await cluster.getConfigMap(OPERATOR_CONFIGMAP);
  if (!operatorEnv) {
    throw refused(
      `${where}the REC keeps its secrets in Vault, and the operator's ConfigMap ${cluster.namespace}/${OPERATOR_CONFIGMAP} cannot be read`,
      'it names the Vault path (VAULT_SECRET_ROOT, VAULT_SECRET_PREFIX); you need "get configmaps" in the REC namespace',
    );
  }
  return new VaultStore(new VaultClient(vaultConnection(vault, operatorEnv, timeoutMs)), vaultEntry(operatorEnv, secretName));
}
