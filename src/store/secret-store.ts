// The REC credential Secret, patched directly (merge patch with a resourceVersion precondition).
import { KubeApiError } from '../kube/api-client.js';
import type { Cluster } from '../kube/cluster.js';
import { decodeSecretKey } from '../kube/resources.js';
import { redactor } from '../output/redactor.js';
import { StoreConflictError, StoreMissingError, type CredentialStore, type StoredCredentials } from './credential-store.js';

export const ROTATED_AT = 'reccred.redis.io/rotated-at';
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

export class SecretStore implements CredentialStore {
  readonly type = 'kubernetes' as const;
  readonly location: string;
  readonly minimumSettleMs = 0;

  constructor(
    private readonly cluster: Cluster,
    readonly secretName: string,
  ) {
    this.location = `secret ${cluster.namespace}/${secretName}`;
  }

  async read(): Promise<StoredCredentials> {
    const secret = await this.cluster.getSecret(this.secretName);
    if (!secret) throw new StoreMissingError(this.location, 'does not exist');
    const username = decodeSecretKey(secret, 'username');
    const password = decodeSecretKey(secret, 'password');
    // Known from here on: whatever is printed next (a refused login, a preflight error) is scrubbed of it.
    redactor.add(password);
    if (!username || !password) throw new StoreMissingError(this.location, 'lacks the username or password key');
    return { username, password, version: secret.metadata.resourceVersion ?? '' };
  }

  async write(credentials: { username: string; password: string }, expectedVersion: string): Promise<StoredCredentials> {
    try {
      const s = await this.cluster.patchSecret(
        this.secretName,
        {
          data: { username: b64(credentials.username), password: b64(credentials.password) },
          // When, not what: `status` shows it as the last rotation.
          annotations: { [ROTATED_AT]: new Date().toISOString() },
        },
        expectedVersion,
      );
      return { ...credentials, version: s.metadata.resourceVersion ?? '' };
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) throw new StoreConflictError(this.location);
      throw err;
    }
  }
}
