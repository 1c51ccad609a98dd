// Steps every procedure shares: recording progress in the journal, swapping the store only from the
// value this operation expects, and the settle the store requires.
import { formatDuration } from '../duration/duration.js';
import { type ReccredError, resumable } from '../errors/exit-codes.js';
import type { Journal, JournalRecord, Phase } from '../journal/journal.js';
import type { Participant } from '../rec/participants.js';
import { AuthenticationFailedError } from '../rest/rest-errors.js';
import { StoreConflictError, type CredentialStore } from '../store/credential-store.js';
import { waitForPropagation, type PodPropagation, type WaitContext } from './waits.js';
import { recordPhase } from './milestones.js';

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
  /** Active-Active: every cluster holding the REC's credentials in an RERC Secret, as the journal lists them (an abort: those it must reach, participantsToReach). */
  participants?: Participant[];
}

interface Credentials {
  username: string;
  password: string;
}

const ORDER: Phase[] = ['recorded', 'added', 'stored', 'propagated', 'removed'];
export const phaseAtLeast = (p: Phase, min: Phase) => ORDER.indexOf(p) >= ORDER.indexOf(min);

export async function advance(ctx: ProcedureContext, changes: Partial<JournalRecord>): Promise<void> {
  const before = ctx.record.phase;
  ctx.record = { ...ctx.record, ...changes, heartbeatAt: new Date().toISOString() };
  await ctx.journal.update(ctx.record);
  await recordPhase(ctx.target, before, ctx.record, ctx.journal.name);
}

/** The settle asked for, but never shorter than the store's cache (the operator caches Vault secrets). */
export function settleMs(ctx: ProcedureContext): number {
  const minimum = ctx.target.store.minimumSettleMs;
  if (ctx.options.settleMs >= minimum) return ctx.options.settleMs;
  ctx.progress.note(`settle raised to ${formatDuration(minimum)}: the operator caches ${ctx.target.store.location} that long (VAULT_CACHE_SECRET_EXPIRATION_SECONDS)`);
  return minimum;
}

/**
 * Writes `want` into the store (the REC's, or another cluster's RERC Secret) unless it already holds it;
 * refuses if it holds neither `want` nor `from`.
 */
export async function storeSwap(
  ctx: ProcedureContext,
  from: { username: string; password: string },
  want: { username: string; password: string },
  store: CredentialStore = ctx.target.store,
): Promise<'written' | 'already'> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await store.read();
    if (current.username === want.username && current.password === want.password) return 'already';
    if (current.username !== from.username || current.password !== from.password) {
      throw resumable(`${store.location} holds credentials this operation did not write; someone else changed it`, 'inspect it, then run finish or abort');
    }
    try {
      await ctx.journal.fence();
      await store.write(want, current.version);
      return 'written';
    } catch (err) {
      // A conflict is not an authentication: re-read and decide again.
      if (!(err instanceof StoreConflictError)) throw err;
    }
  }
  throw resumable(`${store.location} kept changing while this operation tried to write it`);
}

const same = (a: { username: string; password: string }, b: { username: string; password: string }) => a.username === b.username && a.password === b.password;

/**
 * "added" -> "stored": the store takes the new credentials. The settle counts from this write, or from
 * now when a crash hid when it was.
 */
export async function storeNewCredentials(ctx: ProcedureContext, label: string, from: Credentials, to: Credentials): Promise<void> {
  const result = await ctx.progress.step(
    label,
    () => storeSwap(ctx, from, to),
    (x) => (x === 'already' ? 'already updated' : undefined),
  );
  const { storeUpdatedAt } = ctx.record;
  const now = new Date().toISOString();
  // --no-wait stops here on purpose: marked in the same write, so the janitor never mistakes it for abandoned.
  await advance(ctx, { phase: 'stored', storeUpdatedAt: storeUpdatedAt && result === 'already' ? storeUpdatedAt : now, ...(ctx.options.noWait ? { pausedAt: now } : {}) });
}

/** "stored" -> "propagated": every pod mounts the new credentials. */
export async function awaitEveryPod(ctx: ProcedureContext, label: string, creds: Credentials): Promise<void> {
  ctx.pods = await ctx.progress.step(
    label,
    () => waitForPropagation(ctx, creds, ctx.options.propagationTimeoutMs),
    (p) => `${String(p.length)} pods`,
  );
  await advance(ctx, { phase: 'propagated' });
}

/**
 * Puts the old credentials back into the store during a rollback, and records in `restoredAt` whether
 * components may have seen the new ones (then the caller waits for propagation and a settle). The
 * intent is journaled before the write, so a crash between the two cannot hide that the store changed.
 */
export async function restoreStore(ctx: ProcedureContext, current: { username: string; password: string }, previous: { username: string; password: string }): Promise<void> {
  const holds = await ctx.target.store.read();
  if (same(holds, current)) {
    if (!ctx.record.restoredAt) await advance(ctx, { restoredAt: new Date().toISOString() });
    await storeSwap(ctx, current, previous);
    await advance(ctx, { restoredAt: new Date().toISOString() });
  } else if (!same(holds, previous)) {
    await storeSwap(ctx, current, previous); // throws: someone else wrote it
  } else if (!ctx.record.restoredAt && phaseAtLeast(ctx.record.abortedFrom ?? 'recorded', 'stored')) {
    // The store held the new credentials once; pods may still mount them.
    await advance(ctx, { restoredAt: new Date().toISOString() });
  }
}

/** Why a refused check after a crash inside reset's PUT stops the run, and how to go on. */
function replaceRefused(ctx: ProcedureContext): ReccredError {
  const { name, namespace } = ctx.target;
  const user = ctx.record.username;
  return resumable(
    `the cluster refused the new password of ${user} once: either the replacement (PUT) never applied, or the account is locked. Nothing more was tried: no login is ever retried`,
    `check the account of ${user} in the admin console (Access control > Users; a locked account shows status "locked") and unlock it if needed (an admin sets its password, or wait for login_lockout_duration). Then, if the previous password still works, run "kubectl reccred abort ${name} -n ${namespace}" (it checks the previous password once); otherwise run "kubectl reccred finish ${name} -n ${namespace}" (it checks the new password once)`,
  );
}

/**
 * The replace-all step of reset and user reset: the PUT runs once, from phase "recorded" to "added".
 * Its intent is journaled first, so after a crash inside it the outcome is settled with one login with
 * the new password. A refusal there may mean a locked account as well as a PUT that never applied, so
 * the run stops: never a second login. A PUT that authenticates as someone else (user reset, as the
 * admin) settles it by being sent again, with no login of the user at all.
 */
export async function replaceAllPasswords(ctx: ProcedureContext, label: string, put: () => Promise<void>, resendable = false): Promise<void> {
  if (ctx.record.phase === 'recorded' && ctx.record.replaceSentAt) {
    if (resendable) {
      // Sent as the admin with the same password: sending it again settles the outcome without a login of the user.
      await advance(ctx, { replaceSentAt: undefined, replaceRefusedAt: undefined });
    } else {
      const creds = { username: ctx.record.username, password: ctx.record.newPassword };
      const applied = await ctx.progress.step(
        'did the replacement reach the cluster',
        async () => {
          try {
            await ctx.target.rest.authenticate(creds);
            return true;
          } catch (err) {
            if (err instanceof AuthenticationFailedError) return false;
            throw err;
          }
        },
        (x) => (x ? 'yes' : 'refused'),
      );
      if (!applied) {
        await advance(ctx, { replaceRefusedAt: new Date().toISOString() });
        throw replaceRefused(ctx);
      }
      await advance(ctx, { phase: 'added', replaceRefusedAt: undefined });
    }
  }
  if (ctx.record.phase === 'recorded') {
    await advance(ctx, { replaceSentAt: new Date().toISOString() });
    await ctx.progress.step(label, put);
    await advance(ctx, { phase: 'added' });
  }
}
