// Where the operator reads the REC admin credentials from: a Kubernetes Secret or a Vault KV v2 entry.
export interface StoredCredentials {
  username: string;
  password: string;
  /** Opaque version for check-and-set writes (a resourceVersion, or a Vault KV version). */
  version: string;
}

export interface CredentialStore {
  readonly type: 'kubernetes' | 'vault';
  /** Human-readable location, e.g. "secret redis/rec". */
  readonly location: string;
  /** A settle shorter than this would let the operator act on a cached copy (Vault's secret cache). */
  readonly minimumSettleMs: number;
  read(): Promise<StoredCredentials>;
  /** Writes both keys, refusing (StoreConflictError) if the entry changed since `expectedVersion`. */
  write(credentials: { username: string; password: string }, expectedVersion: string): Promise<StoredCredentials>;
}

export class StoreConflictError extends Error {
  constructor(location: string) {
    super(`${location} was changed by someone else while this operation was writing it`);
    this.name = 'StoreConflictError';
  }
}

export class StoreMissingError extends Error {
  constructor(location: string, detail: string) {
    super(`${location} ${detail}`);
    this.name = 'StoreMissingError';
  }
}
