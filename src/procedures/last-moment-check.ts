// The last look before anything is removed (SPEC 3.3(d), issue 12). Between the store update and the
// removal other writers may have been at work: a GitOps controller restoring Git's value, External
// Secrets refreshing from its provider, a colleague with kubectl. Removing a password or a user is safe
// only if the store holds exactly the credentials that remain and every pod mounts them; otherwise the
// operator and the pods would be locked out by this tool. So: look again, and if anything is off, stop
// resumable with nothing removed, saying what changed, who changed it and what to do.
import { resumable, type ReccredError } from '../errors/exit-codes.js';
import { FIELD_MANAGER } from '../kube/api-client.js';
import type { Secret } from '../kube/resources.js';
import type { JournalRecord } from '../journal/journal.js';
import type { RecTarget } from '../rec/rec-target.js';
import { VaultStore } from '../store/vault-store.js';
import type { SecretKeyTarget } from '../store/to-secret.js';
import { describeWriters, lastWriteOf, secretWriters } from './managed-secret.js';
import { settleMs, type ProcedureContext } from './procedure-steps.js';
import { podPropagation, waitUntil } from './waits.js';

interface Creds {
  username: string;
  password: string;
}
/** Which admin credentials stay after the removal: the new ones going forward, the old ones in a rollback. */
export type Remaining = 'new' | 'old';

const same = (a: Creds, b: Creds) => a.username === b.username && a.password === b.password;
const credentials = (r: JournalRecord, which: Remaining): Creds =>
  which === 'old' ? { username: r.username, password: r.oldPassword } : { username: r.newUsername ?? r.username, password: r.newPassword };
const KEYS = ['username', 'password'];

/** The settle since the store update, then the last look before the old password (or user) is removed. */
export async function settleThenLastLook(ctx: ProcedureContext): Promise<void> {
  const deadline = Date.parse(ctx.record.storeUpdatedAt ?? new Date().toISOString()) + settleMs(ctx);
  await ctx.progress.step('settle (components re-read the secret)', () => waitUntil(ctx, deadline, 'settle'));
  await lastMomentCheck(ctx, 'new');
}

/** Before the admin's old password (or old user) goes, or in abort before the new one goes. */
export async function lastMomentCheck(ctx: ProcedureContext, remaining: Remaining): Promise<void> {
  const adjective = remaining === 'new' ? 'new' : 'previous';
  await ctx.progress.step(`last look: ${ctx.target.store.location} holds the ${adjective} credentials and every pod mounts them`, () => confirm(ctx, remaining));
}

async function confirm(ctx: ProcedureContext, remaining: Remaining): Promise<void> {
  const { target } = ctx;
  // A run that lost its lease says so, rather than reporting the store the other run wrote.
  ctx.journal.assertHeld();
  const expected = credentials(ctx.record, remaining);
  const other = credentials(ctx.record, remaining === 'new' ? 'old' : 'new');
  const kept = remaining === 'new' ? 'new' : 'previous';
  for (let round = 0; ; round++) {
    const held = await target.store.read();
    if (!same(held, expected)) {
      const holds = same(held, other) ? `the ${remaining === 'new' ? 'previous' : 'new'} ones again` : 'credentials this operation never wrote';
      throw stop(ctx, remaining, `${target.store.location} no longer holds the ${kept} credentials: it holds ${holds}; ${await whoWrote(target)}`);
    }
    // Someone else wrote them since (and put them back): components may have read the other value in
    // between, so the settle counts from that write too. At most a few times, then the pods decide.
    const rewrite = round < 3 ? await recentRewrite(ctx) : undefined;
    if (rewrite) {
      await waitUntil(ctx, rewrite.until, `settle again: "${rewrite.manager}" rewrote ${target.store.location} at ${rewrite.time}`);
      continue;
    }
    // A refused exec (RBAC) is not a pod that does not mount the credentials: it is thrown as the refusal it is.
    const off = (await podPropagation(target, expected, { throwForbidden: true })).filter((s) => s.state !== 'current');
    if (off.length) {
      throw stop(
        ctx,
        remaining,
        `${off.map((s) => `${s.pod} (${s.state})`).join(', ')} ${off.length === 1 ? 'does' : 'do'} not mount the ${kept} credentials that ${target.store.location} holds; ${await whoWrote(target)}. A change has not reached every pod yet (kubelet syncs in 60-90 s), or a pod cannot be checked`,
        false,
      );
    }
    // The pod checks take a while: the store is read once more, the last read before the removal.
    const last = await target.store.read();
    if (!same(last, expected)) throw stop(ctx, remaining, `${target.store.location} changed while the pods were checked: ${await whoWrote(target)}`);
    return;
  }
}

function stop(ctx: ProcedureContext, remaining: Remaining, what: string, writer = true): ReccredError {
  const { name, namespace } = ctx.target;
  const both = ctx.record.operation === 'change-user' ? 'the old and the new admin user both still work' : 'the old and the new password both still work';
  if (remaining === 'new') {
    const todo = writer
      ? 'Stop that writer before you finish (give its source of truth the new credentials, or hold it off), or abort to go back to the previous credentials'
      : 'Run finish again once every pod mounts them, or abort to go back to the previous credentials';
    return resumable(
      `${what}. Nothing was removed: ${both}. ${todo}`,
      `then run "kubectl reccred finish ${name} -n ${namespace}", or "kubectl reccred abort ${name} -n ${namespace}"`,
    );
  }
  const todo = writer ? 'Stop that writer, then run abort again' : 'Run abort again once every pod mounts them';
  return resumable(`${what}. Nothing was removed: ${both}. ${todo}`, `kubectl reccred abort ${name} -n ${namespace}`);
}

/** When a writer other than this plugin last set the credential keys less than a settle ago: until when to wait. */
async function recentRewrite(ctx: ProcedureContext): Promise<{ until: number; manager: string; time: string } | undefined> {
  const { target } = ctx;
  if (target.storeType !== 'kubernetes') return undefined;
  const secret = await target.cluster.getSecret(target.secretName);
  const w = secret && lastWriteOf(secret, KEYS, FIELD_MANAGER);
  if (!w || !w.ownsKeys || w.manager === FIELD_MANAGER || !w.time) return undefined;
  const settle = settleMs(ctx);
  // The time is the API server's clock: never wait longer than one settle from now, whatever the skew.
  const until = Math.min(Date.parse(w.time) + settle, Date.now() + settle);
  return until > Date.now() ? { until, manager: w.manager, time: w.time } : undefined;
}

/** Who last wrote the store and who manages it, as far as the store records it; never throws. */
async function whoWrote(target: RecTarget): Promise<string> {
  try {
    if (target.store instanceof VaultStore) {
      const got = await target.store.client.kvRead(target.store.entry.mount, target.store.entry.path);
      if (!got) return 'the Vault entry no longer exists';
      return `the Vault entry is at version ${got.version}${got.createdTime ? `, written at ${got.createdTime}` : ''} (Vault records no writer name; its audit log does)`;
    }
    const secret = await target.cluster.getSecret(target.secretName);
    return secret ? describeSecretWrite(secret, KEYS) : 'the Secret no longer exists';
  } catch (err) {
    return `who wrote it could not be read (${err instanceof Error ? err.message : String(err)})`;
  }
}

function describeSecretWrite(secret: Secret, keys: string[]): string {
  const w = lastWriteOf(secret, keys, FIELD_MANAGER);
  const { writers } = secretWriters(secret);
  // The last writer's own managedFields entry is already said; other evidence is worth adding.
  const own = (e: string) => w !== undefined && e.includes(`"${w.manager}"`);
  const family = writers.find((x) => x.evidence.some(own))?.controller;
  const parts = [
    !w
      ? 'the API server recorded no writer (no managedFields)'
      : `last written by "${w.manager}" (${family ? `${family}; ` : ''}${w.operation}${w.time ? ` at ${w.time}` : ''}, from its managedFields)${w.manager === FIELD_MANAGER ? ': this plugin, another run of it?' : ''}`,
  ];
  const rest = writers.map((x) => ({ ...x, evidence: x.evidence.filter((e) => !own(e)) })).filter((x) => x.evidence.length);
  if (rest.length) parts.push(`it is managed by ${describeWriters(rest).join(' and by ')}`);
  return parts.join('; ');
}

/** user finish: the Secret the applications read still holds the new password (pods do not mount it: no hash check). */
export async function lastMomentCheckSecretKey(ctx: ProcedureContext, secret: SecretKeyTarget): Promise<void> {
  await ctx.progress.step(`last look: ${secret.location} holds the new password`, async () => {
    const { value } = await secret.read();
    if (value === ctx.record.newPassword) return;
    const holds =
      value === undefined
        ? 'no longer has it (the Secret or the key is gone)'
        : value === ctx.record.oldPassword
          ? 'holds the previous password again'
          : 'holds a password this operation never wrote';
    let who: string;
    try {
      const s = await secret.cluster.getSecret(secret.name);
      who = s ? describeSecretWrite(s, [secret.key]) : 'the Secret no longer exists';
    } catch (err) {
      who = `who wrote it could not be read (${err instanceof Error ? err.message : String(err)})`;
    }
    const { name, namespace } = ctx.target;
    throw resumable(
      `${secret.location} ${holds}; ${who}. Nothing was removed: the old and the new password of ${ctx.record.username} both still work, and clients reading that Secret would lose access if the old one went. Make it hold the new password again and stop whatever wrote it (give its source of truth the new password, or hold it off), then run user finish again`,
      `kubectl reccred user finish ${name} -n ${namespace} --user ${ctx.record.username}`,
    );
  });
}
