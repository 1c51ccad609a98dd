// The journal: a Secret beside the REC that is at once the lock (created with create, so only one
// invocation can hold it) and the durable record of every password in flight (SPEC 3.2, 3.6).
import os from 'node:os';
import { z } from 'zod';
import { KubeApiError } from '../kube/api-client.js';
import type { Cluster } from '../kube/cluster.js';
import { decodeSecretKey } from '../kube/resources.js';

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
  version: z.literal(1),
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
  /** reset: the PUT may have reached the cluster (a crash after this leaves it unknown). */
  replaceSentAt: z.string().optional(),
  holder: z.string(),
  holderPid: z.number(),
  holderHost: z.string(),
  startedAt: z.string(),
  heartbeatAt: z.string(),
  storeUpdatedAt: z.string().optional(),
  restoredAt: z.string().optional(),
  /** Rollback made sure the old password is a valid one again (the DELETE may have gone out before the crash). */
  oldPasswordEnsured: z.boolean().optional(),
  /** The phase an abort started from. */
  abortedFrom: Phase.optional(),
  settleMs: z.number(),
});
export type JournalRecord = z.infer<typeof JournalRecord>;

const KEY = 'journal.json';

export class JournalHeldError extends Error {
  constructor(readonly record: JournalRecord | undefined, readonly journalName: string) {
    super(
      record
        ? `a ${record.operation} of REC ${record.rec} is already in progress (phase ${record.phase}), held by ${record.holder} since ${record.startedAt} (${ageOf(record.startedAt)} ago)`
        : `the journal ${journalName} exists but cannot be read`,
    );
    this.name = 'JournalHeldError';
  }
}

export class JournalConflictError extends Error {
  constructor(name: string) {
    super(`the journal ${name} was changed by another process; this one stops to avoid two writers`);
    this.name = 'JournalConflictError';
  }
}

export function ageOf(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
}

export function holderIdentity(): Pick<JournalRecord, 'holder' | 'holderPid' | 'holderHost'> {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // No passwd entry (a container's random UID): keep "unknown".
  }
  return { holder: `${user}@${os.hostname()} (pid ${process.pid})`, holderPid: process.pid, holderHost: os.hostname() };
}

/** A new record in phase "recorded", held by this process. */
export function newJournalRecord(
  fields: Omit<JournalRecord, 'version' | 'phase' | 'holder' | 'holderPid' | 'holderHost' | 'startedAt' | 'heartbeatAt'>,
): JournalRecord {
  const now = new Date().toISOString();
  return { version: 1, phase: 'recorded', ...fields, ...holderIdentity(), startedAt: now, heartbeatAt: now };
}

/** One journal per REC for the admin account; one per user for other users' passwords (they do not interfere). */
export const journalName = (rec: string, userUid?: number) => `${rec}-reccred-journal${userUid === undefined ? '' : `-user-${userUid}`}`;

export class Journal {
  private resourceVersion = '';
  readonly name: string;

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

  async read(): Promise<JournalRecord | undefined> {
    const secret = await this.cluster.getSecret(this.name);
    if (!secret) return undefined;
    const parsed = JournalRecord.safeParse(safeJson(decodeSecretKey(secret, KEY)));
    if (!parsed.success) throw new JournalHeldError(undefined, this.name);
    this.resourceVersion = secret.metadata.resourceVersion ?? '';
    return parsed.data;
  }

  /** Takes the lock and records the passwords in one create; refuses if anyone holds it. */
  async create(record: JournalRecord): Promise<void> {
    try {
      const s = await this.cluster.createSecret({
        metadata: {
          name: this.name,
          labels: { 'app.kubernetes.io/managed-by': 'kubectl-reccred', 'reccred.redis.io/rec': this.rec, ...(this.userUid === undefined ? {} : { 'reccred.redis.io/user-uid': String(this.userUid) }) },
        },
        data: { [KEY]: encode(record) },
      });
      this.resourceVersion = s.metadata.resourceVersion ?? '';
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) throw new JournalHeldError(await this.read().catch(() => undefined), this.name);
      throw err;
    }
  }

  /** Writes the next state; the resourceVersion precondition makes a second writer fail instead of interleave. */
  async update(record: JournalRecord): Promise<void> {
    try {
      const s = await this.cluster.patchSecret(this.name, { data: { [KEY]: encode(record) } }, this.resourceVersion);
      this.resourceVersion = s.metadata.resourceVersion ?? '';
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) throw new JournalConflictError(this.name);
      throw err;
    }
  }

  async delete(): Promise<void> {
    await this.cluster.deleteSecret(this.name);
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

/** A holder is known dead when it ran on this host and its process is gone. */
export function holderIsAlive(record: JournalRecord): boolean {
  if (record.holderHost !== os.hostname()) return Date.now() - Date.parse(record.heartbeatAt) < 90_000;
  if (record.holderPid === process.pid) return false;
  try {
    process.kill(record.holderPid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const encode = (r: JournalRecord) => Buffer.from(JSON.stringify(r), 'utf8').toString('base64');

function safeJson(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}
