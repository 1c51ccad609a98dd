// The rotate state machine (SPEC 4): each step is idempotent and recorded in the journal before the
// next one starts, so `finish` can resume from whatever a crash left and `abort` can roll back.
import { formatDuration } from '../cli/duration.js';
import { failed, resumable } from '../cli/exit-codes.js';
import type { Journal, JournalRecord, Phase } from '../journal/journal.js';
import { StoreConflictError } from '../store/credential-store.js';
import { waitForPropagation, waitUntil, type PodPropagation, type WaitContext } from './waits.js';

export interface RotationOptions {
  settleMs: number;
  propagationTimeoutMs: number;
  noWait: boolean;
}

export interface ProcedureContext extends WaitContext {
  journal: Journal;
  record: JournalRecord;
  options: RotationOptions;
  pods?: PodPropagation[];
}

const ORDER: Phase[] = ['recorded', 'added', 'stored', 'propagated', 'removed'];
export const phaseAtLeast = (p: Phase, min: Phase) => ORDER.indexOf(p) >= ORDER.indexOf(min);

export async function advance(ctx: ProcedureContext, changes: Partial<JournalRecord>): Promise<void> {
  ctx.record = { ...ctx.record, ...changes, heartbeatAt: new Date().toISOString() };
  await ctx.journal.update(ctx.record);
}

export function heartbeat(ctx: ProcedureContext): () => Promise<void> {
  return () => advance(ctx, {});
}

const oldCreds = (r: JournalRecord) => ({ username: r.username, password: r.oldPassword });
const newCreds = (r: JournalRecord) => ({ username: r.username, password: r.newPassword });

/** The settle asked for, but never shorter than the store's cache (the operator caches Vault secrets). */
export function settleMs(ctx: ProcedureContext): number {
  const minimum = ctx.target.store.minimumSettleMs;
  if (ctx.options.settleMs >= minimum) return ctx.options.settleMs;
  ctx.progress.note(`settle raised to ${formatDuration(minimum)}: the operator caches ${ctx.target.store.location} that long (VAULT_CACHE_SECRET_EXPIRATION_SECONDS)`);
  return minimum;
}

/** Writes `want` into the store unless it already holds it; refuses if it holds neither `want` nor `from`. */
export async function storeSwap(
  ctx: ProcedureContext,
  from: { username: string; password: string },
  want: { username: string; password: string },
): Promise<'written' | 'already'> {
  const store = ctx.target.store;
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await store.read();
    if (current.username === want.username && current.password === want.password) return 'already';
    if (current.username !== from.username || current.password !== from.password) {
      throw resumable(`${store.location} holds credentials this operation did not write; someone else changed it`, 'inspect it, then run finish or abort');
    }
    try {
      await store.write(want, current.version);
      return 'written';
    } catch (err) {
      // A conflict is not an authentication: re-read and decide again.
      if (!(err instanceof StoreConflictError)) throw err;
    }
  }
  throw resumable(`${store.location} kept changing while this operation tried to write it`);
}

/** Runs the remaining steps of a rotation from the journal's phase to the end. Returns the final phase. */
export async function runRotation(ctx: ProcedureContext): Promise<'completed' | 'stored'> {
  const { target, progress } = ctx;
  const r = () => ctx.record;

  if (r().phase === 'recorded') {
    await progress.step('add the new password (POST /v1/users/password)', () => target.rest.addPassword(oldCreds(r()), r().newPassword), (x) =>
      x === 'already-present' ? 'already added' : undefined,
    );
    await advance(ctx, { phase: 'added' });
  }
  if (r().phase === 'added') {
    await progress.step('new password authenticates', () => target.rest.authenticate(newCreds(r())));
    const result = await progress.step(`update ${target.store.location}`, () => storeSwap(ctx, oldCreds(r()), newCreds(r())), (x) =>
      x === 'already' ? 'already updated' : undefined,
    );
    // Settle counts from the store update; if a crash hid when that was, count from now.
    await advance(ctx, { phase: 'stored', storeUpdatedAt: r().storeUpdatedAt && result === 'already' ? r().storeUpdatedAt : new Date().toISOString() });
  }
  if (ctx.options.noWait && r().phase === 'stored') return 'stored';
  if (r().phase === 'stored') {
    ctx.pods = await progress.step('every pod mounts the new password', () => waitForPropagation(ctx, newCreds(r()), ctx.options.propagationTimeoutMs), (p) => `${p.length} pods`);
    await advance(ctx, { phase: 'propagated' });
  }
  if (r().phase === 'propagated') {
    const deadline = Date.parse(r().storeUpdatedAt ?? new Date().toISOString()) + settleMs(ctx);
    await progress.step('settle (components re-read the secret)', () => waitUntil(ctx, deadline, 'settle'));
    await progress.step('remove the old password (DELETE /v1/users/password)', () => target.rest.deletePassword(newCreds(r()), r().oldPassword), (x) =>
      x === 'absent' ? 'already removed' : undefined,
    );
    await advance(ctx, { phase: 'removed' });
  }
  if (r().phase === 'removed') {
    await progress.step('new password authenticates', () => target.rest.authenticate(newCreds(r())));
    await progress.step('delete the journal', () => ctx.journal.delete());
    return 'completed';
  }
  throw failed(`the journal is in phase ${r().phase}, which a rotation cannot continue from`, 'run abort to finish rolling back');
}

/** Rolls a rotation back from any phase before the old password was removed. */
export async function rollBackRotation(ctx: ProcedureContext): Promise<'rolled-back' | 'completed'> {
  const { target, progress } = ctx;
  const r = () => ctx.record;
  if (r().phase === 'removed' || r().abortedFrom === 'removed') {
    progress.note('The old password was already removed: the rotation cannot be rolled back, so it is completed instead.');
    await runRotation(ctx);
    return 'completed';
  }
  if (r().phase !== 'aborting') await advance(ctx, { phase: 'aborting', abortedFrom: r().phase });

  // From "propagated" the DELETE of the old password may have reached the cluster before the crash.
  // Adding it back, authenticated with the new password (valid in this phase), tells which without a
  // failed login; it must happen before the new password is removed, hence the journal flag.
  if (r().abortedFrom === 'propagated' && !r().oldPasswordEnsured) {
    await progress.step('make sure the old password is valid (POST /v1/users/password)', () => target.rest.addPassword(newCreds(r()), r().oldPassword), (x) =>
      x === 'already-present' ? 'still valid' : 're-added: the removal had reached the cluster',
    );
    await advance(ctx, { oldPasswordEnsured: true });
  }

  const result = await progress.step(`restore ${target.store.location}`, () => storeSwap(ctx, newCreds(r()), oldCreds(r())), (x) =>
    x === 'already' ? 'already holds the old password' : undefined,
  );
  if (result === 'written') await advance(ctx, { restoredAt: new Date().toISOString() });
  else if (!r().restoredAt && phaseAtLeast(r().abortedFrom ?? 'recorded', 'stored')) await advance(ctx, { restoredAt: new Date().toISOString() });

  if (r().restoredAt) {
    // Components may have moved to the new password: they must come back before it is removed.
    ctx.pods = await progress.step('every pod mounts the old password again', () => waitForPropagation(ctx, oldCreds(r()), ctx.options.propagationTimeoutMs));
    await progress.step('settle (components re-read the secret)', () => waitUntil(ctx, Date.parse(r().restoredAt!) + settleMs(ctx), 'settle'));
  } else {
    progress.skip('wait for the pods', 'the store never held the new password');
  }
  await progress.step('remove the new password from the cluster', () => target.rest.deletePassword(oldCreds(r()), r().newPassword), (x) =>
    x === 'absent' ? 'it was never added' : undefined,
  );
  await progress.step('old password authenticates', () => target.rest.authenticate(oldCreds(r())));
  await progress.step('delete the journal', () => ctx.journal.delete());
  return 'rolled-back';
}
