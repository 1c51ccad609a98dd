// The journal: a Secret beside the REC that is at once the lock (created with create, so only one
// invocation can hold it) and the durable record of every password in flight (SPEC 3.2, 3.6).
import os from 'node:os';
import { z } from 'zod';
import { KubeApiError } from '../kube/api-client.js';
import type { Cluster } from '../kube/cluster.js';
import { decodeSecretKey } from '../kube/resources.js';
import { Lease, ownLease } from './lease.js';

export const Operation = z.enum(['rotate', 'change-user', 'reset', 'user-rotate', 'user-reset']);
export type Operation = z.infer<typeof Operation>;

export const Phase = z.enum([
  'recorded', // journal written; nothing changed in the cluster yet (or the first call's reply was lost)
  'added', // the cluster accepts the new password (or new user)
  'stored', // the store holds the new credentials
  'propagated', // every pod mounts them
  'removed', // the old password (or user) is gone
  'aborting', // rolling back; restoredAt says whether the store was restored
]);
export type Phase = z.infer<typeof Phase>;

export const JournalRecord = z.object({
  /** 2 when the record lists Active-Active participants or consumers to restart, 3 when a participant is in Vault: a plugin that predates them cannot read it, and refuses instead of finishing or aborting without the other clusters. */
  version: z.union([z.literal(1), z.literal(2), z.literal(3)]),
  operation: Operation,
  phase: Phase,
  rec: z.string(),
  username: z.string(),
  oldPassword: z.string(),
  newPassword: z.string(),
  /** change-user: the new admin user, and both users' ids. */
  newUsername: z.string().optional(),
  oldUserUid: z.number().optional(),
  newUserUid: z.number().optional(),
  /** user-*: the user's id, and the Secret (namespace/name:key) that receives the new password. */
  userUid: z.number().optional(),
  toSecret: z.string().optional(),
  /**
   * user-* of a user the operator manages: its RedisEnterpriseUser, the password Secret this operation
   * creates (named before the journal is written) and the Secrets the resource named when it started.
   */
  managedUser: z.object({ resource: z.string(), newSecret: z.string(), oldSecrets: z.array(z.string()) }).optional(),
  /** change-user: the DELETE of the old user may have been sent; it may complete later (action_uid), so there is no way back. */
  oldUserDeleteSentAt: z.string().optional(),
  /** reset: the PUT may have reached the cluster (a crash after this leaves it unknown). */
  replaceSentAt: z.string().optional(),
  /** reset: the one check after such a crash was refused (the PUT never applied, or the account is locked). */
  replaceRefusedAt: z.string().optional(),
  /** Who holds it, for people (user@host, pid); liveness is judged from the lease alone. */
  holder: z.string(),
  /** Absent in journals written before the lease: a taker then waits the default lease duration. */
  lease: Lease.optional(),
  startedAt: z.string(),
  /** The holder's clock at its last write: shown to people, never used to judge liveness. */
  heartbeatAt: z.string(),
  /**
   * Set by the fence before a change (a REST call, a store or REC write) and cleared by the next state
   * written: while set, a request the holder sent may still be running in a pod after the holder died.
   */
  changeFencedAt: z.string().optional(),
  storeUpdatedAt: z.string().optional(),
  /**
   * The run ended on purpose with both passwords valid (rotate --no-wait): the janitor leaves it alone until
   * maxOverlapMs (from startedAt) has passed. Cleared when a run takes the journal over.
   */
  pausedAt: z.string().optional(),
  /** rotate --max-overlap: the longest both passwords may stay valid, counted from startedAt. */
  maxOverlapMs: z.number().optional(),
  /**
   * user rotate: the workloads that read toSecret (rotate-user-passwords.md, "update the password in all database
   * connections"), the restartedAt value put on their pod templates (a resumed run restarts none twice), and when
   * their rollouts completed.
   */
  consumers: z.array(z.object({ kind: z.enum(['deployment', 'statefulset', 'daemonset']), name: z.string() })).optional(),
  consumersRestartedAt: z.string().optional(),
  consumersRolledOutAt: z.string().optional(),
  /** user abort: the same, back onto the old password. */
  consumersRestartedBackAt: z.string().optional(),
  consumersRolledBackAt: z.string().optional(),
  restoredAt: z.string().optional(),
  /** Rollback made sure the old password is a valid one again (the DELETE may have gone out before the crash). */
  oldPasswordEnsured: z.boolean().optional(),
  /** The phase an abort started from. */
  abortedFrom: Phase.optional(),
  settleMs: z.number(),
  /**
   * Active-Active: every cluster's copy of the REC's credentials (the RERC Secret), the REC's own cluster
   * first ('' context), in the order they are updated; updatedAt once that Secret holds the new credentials,
   * restoredAt once an abort put the old ones back.
   */
  participants: z
    .array(
      z.object({
        context: z.string(),
        namespace: z.string(),
        rerc: z.string(),
        secret: z.string(),
        /** A Vault-backed cluster: the namespace whose operator ConfigMap names the Vault path of `secret`. */
        vaultNamespace: z.string().optional(),
        reaadbs: z.array(z.string()),
        updatedAt: z.string().optional(),
        restoredAt: z.string().optional(),
      }),
    )
    .optional(),
  /** --allow-managed-secret: the controllers that write the store, which the operation was told to proceed despite. */
  managedSecretAllowed: z.array(z.string()).optional(),
});
export type JournalRecord = z.infer<typeof JournalRecord>;

const KEY = 'journal.json';

export class JournalHeldError extends Error {
  constructor(
    readonly record: JournalRecord | undefined,
    readonly journalName: string,
  ) {
    super(
      record
        ? `a ${record.operation} of REC ${record.rec} is already in progress (phase ${record.phase}), held by ${record.holder} since ${record.startedAt} (${ageOf(record.startedAt)} ago)`
        : `the journal ${journalName} exists but cannot be read`,
    );
    this.name = 'JournalHeldError';
  }
}

/** The holder of an existing journal is alive (its lease changes), so it is not taken over. */
export class LeaseHeldError extends JournalHeldError {
  constructor(
    record: JournalRecord,
    journalName: string,
    readonly detail: string,
  ) {
    super(record, journalName);
    this.message = `${this.message}; the holder is ${detail}`;
    this.name = 'LeaseHeldError';
  }
}

/** The journal changed under this run, or could not be renewed in time: another run may act now, so this one stops. */
export class LeaseLostError extends Error {
  constructor(name: string, detail: string) {
    super(`this run lost the lease on the journal ${name} (${detail}); it stopped before changing anything more`);
    this.name = 'LeaseLostError';
  }
}

export function ageOf(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
}

/** The holder fields of a record this process is about to hold. */
export function holderIdentity(): Pick<JournalRecord, 'holder' | 'lease'> {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // No passwd entry (a container's random UID): keep "unknown".
  }
  return { holder: `${user}@${os.hostname()} (pid ${process.pid})`, lease: ownLease() };
}

/** A new record in phase "recorded", held by this process. */
export function newJournalRecord(fields: Omit<JournalRecord, 'version' | 'phase' | 'holder' | 'lease' | 'startedAt' | 'heartbeatAt'>): JournalRecord {
  const now = new Date().toISOString();
  // 3 when a participant's secret is in Vault: a plugin that knows only version 2 would look for it in Kubernetes.
  const version = fields.participants?.some((p) => p.vaultNamespace !== undefined) ? 3 : fields.participants || fields.consumers ? 2 : 1;
  return { version, phase: 'recorded', ...fields, ...holderIdentity(), startedAt: now, heartbeatAt: now };
}

/** One journal per REC for the admin account; one per user for other users' passwords (they do not interfere). */
export const journalName = (rec: string, userUid?: number) => `${rec}-reccred-journal${userUid === undefined ? '' : `-user-${userUid}`}`;

export class Journal {
  private resourceVersion = '';
  readonly name: string;
  /** The record this process holds the lease with (the last one it wrote). */
  private held: JournalRecord | undefined;
  private lost: string | undefined;
  /** Writes go out one at a time, so renewals never race the procedure's own writes. */
  private writes: Promise<unknown> = Promise.resolve();
  private renewal: NodeJS.Timeout | undefined;
  private renewedAt = 0;
  private renewing = false;

  constructor(
    private readonly cluster: Cluster,
    readonly rec: string,
    readonly userUid?: number,
  ) {
    this.name = journalName(rec, userUid);
  }

  /** The journal of one non-admin user of the same REC. */
  forUser(uid: number): Journal {
    return new Journal(this.cluster, this.rec, uid);
  }

  /** The resourceVersion of the last read or write: a taker watches it for a lease duration. */
  get version(): string {
    return this.resourceVersion;
  }

  async read(): Promise<JournalRecord | undefined> {
    const secret = await this.cluster.getSecret(this.name);
    if (!secret) return undefined;
    const parsed = JournalRecord.safeParse(safeJson(decodeSecretKey(secret, KEY)));
    if (!parsed.success) throw new JournalHeldError(undefined, this.name);
    // While this run holds the lease, its preconditions stay on the version it wrote last: a read must
    // not make a journal another run has since written look like its own.
    if (!this.held) {
      this.resourceVersion = secret.metadata.resourceVersion ?? '';
      // A takeover this run lost to a renewal (a 409 before it held anything) is behind it: the next one may try.
      this.lost = undefined;
    }
    return parsed.data;
  }

  /** Takes the lock and records the passwords in one create; refuses if anyone holds it. */
  async create(record: JournalRecord): Promise<void> {
    try {
      const s = await this.cluster.createSecret({
        metadata: {
          name: this.name,
          labels: {
            'app.kubernetes.io/managed-by': 'kubectl-reccred',
            'reccred.redis.io/rec': this.rec,
            ...(this.userUid === undefined ? {} : { 'reccred.redis.io/user-uid': String(this.userUid) }),
          },
        },
        data: { [KEY]: encode(record) },
      });
      this.resourceVersion = s.metadata.resourceVersion ?? '';
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) throw new JournalHeldError(await this.read().catch(() => undefined), this.name);
      throw err;
    }
    this.hold(record);
  }

  /**
   * Takes the lease over from the holder whose record was last read, if the journal has not changed
   * since that read (the caller has watched it stay unchanged for a lease duration, or knows its
   * process is gone). Returns the record now held.
   */
  async takeOver(record: JournalRecord): Promise<JournalRecord> {
    const mine: JournalRecord = { ...record, ...holderIdentity(), heartbeatAt: new Date().toISOString(), changeFencedAt: undefined, pausedAt: undefined };
    await this.write(() => mine);
    this.hold(mine);
    return mine;
  }

  /** Writes the next state; the resourceVersion precondition makes a run that lost the lease fail instead of interleave. */
  async update(record: JournalRecord): Promise<void> {
    this.assertHeld();
    await this.write(() => record);
  }

  /**
   * Renews the lease right before a change to the cluster, the store or another Secret: if another run
   * has written the journal since this one last did, the change is not made. The record notes that a
   * change may now be in flight, so a taker waits for it to end even when this process dies.
   */
  async fence(): Promise<void> {
    this.assertHeld();
    await this.write((held) => ({ ...held, heartbeatAt: new Date().toISOString(), changeFencedAt: new Date().toISOString() }));
  }

  /** Deletes the journal, only if it is still the version this run wrote last. */
  async delete(): Promise<void> {
    this.assertHeld();
    await this.serially(async () => {
      if (this.lost) throw new LeaseLostError(this.name, this.lost);
      if (!this.resourceVersion) throw new LeaseLostError(this.name, 'no resourceVersion to delete it with');
      try {
        await this.cluster.deleteSecret(this.name, this.resourceVersion);
      } catch (err) {
        throw this.conflictToLost(err);
      }
    });
    this.release();
    this.held = undefined;
  }

  /** Stops renewing (the run ends; a taker may take over once the lease has expired). */
  release(): void {
    clearInterval(this.renewal);
    this.renewal = undefined;
  }

  private hold(record: JournalRecord): void {
    this.held = record;
    this.lost = undefined;
    this.renewedAt = Date.now();
    const durationMs = record.lease?.durationMs ?? ownLease().durationMs;
    this.release();
    // Renew three times per lease duration, as leader election does (retry period well inside it).
    this.renewal = setInterval(() => this.renew(durationMs), Math.max(100, Math.floor(durationMs / 3)));
    this.renewal.unref();
  }

  private renew(durationMs: number): void {
    if (!this.held || this.lost) {
      this.release();
      return;
    }
    // A renewal still waiting (a slow API server) is enough: they must not pile up behind it.
    if (this.renewing) return;
    this.renewing = true;
    this.write((held) => ({ ...held, heartbeatAt: new Date().toISOString() }))
      .catch((err: unknown) => {
        if (err instanceof LeaseLostError) {
          this.release();
          return;
        }
        // Not renewed for two thirds of the lease: a taker may soon judge it expired, so act no more.
        if (Date.now() - this.renewedAt > (durationMs * 2) / 3) {
          this.lost = `it could not be renewed for ${Math.round((Date.now() - this.renewedAt) / 1000)}s: ${err instanceof Error ? err.message : String(err)}`;
          this.release();
        }
      })
      .finally(() => (this.renewing = false));
  }

  /** Throws when this run lost the lease (seen by its renewals): a wait stops at once instead of at its next change. */
  assertHeld(): void {
    if (this.lost) throw new LeaseLostError(this.name, this.lost);
    if (!this.held) throw new LeaseLostError(this.name, 'this run does not hold it');
  }

  /** One write, its record made from the state held when its turn comes (never from an older one). */
  private async write(next: (held: JournalRecord) => JournalRecord): Promise<void> {
    await this.serially(async () => {
      if (this.lost) throw new LeaseLostError(this.name, this.lost);
      // Without a version the patch would carry no precondition at all.
      if (!this.resourceVersion) throw new LeaseLostError(this.name, 'no resourceVersion to write it against');
      const record = next(this.held ?? (undefined as never));
      try {
        const s = await this.cluster.patchSecret(this.name, { data: { [KEY]: encode(record) } }, this.resourceVersion);
        this.resourceVersion = s.metadata.resourceVersion ?? '';
      } catch (err) {
        throw this.conflictToLost(err);
      }
      if (this.held) this.held = record;
      this.renewedAt = Date.now();
    });
  }

  private conflictToLost(err: unknown): unknown {
    if (err instanceof KubeApiError && (err.status === 409 || err.status === 404)) {
      this.lost = err.status === 409 ? 'another run took over: it wrote the journal' : 'another run took over: it deleted the journal';
      this.release();
      return new LeaseLostError(this.name, this.lost);
    }
    return err;
  }

  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.writes.then(fn, fn);
    this.writes = next.catch(() => undefined);
    return next;
  }
}

/** The journals of the REC's other users (user rotate/reset), e.g. rotations waiting for user finish. */
export async function userJournals(cluster: Cluster, rec: string): Promise<JournalRecord[]> {
  let secrets;
  try {
    secrets = await cluster.listSecrets(`reccred.redis.io/rec=${rec},reccred.redis.io/user-uid`);
  } catch (err) {
    // "list secrets" is not among the verbs rotate needs; without it status just cannot show these.
    if (err instanceof KubeApiError && err.status === 403) return [];
    throw err;
  }
  return secrets.flatMap((s) => {
    const parsed = JournalRecord.safeParse(safeJson(decodeSecretKey(s, KEY)));
    return parsed.success ? [parsed.data] : [];
  });
}

const encode = (r: JournalRecord) => Buffer.from(JSON.stringify(r), 'utf8').toString('base64');

function safeJson(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}
