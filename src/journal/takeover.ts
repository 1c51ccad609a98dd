// Taking an unfinished operation over (finish, abort, a resumed user command): the lease decides.
// The holder is judged gone only when its process provably no longer exists on this machine, or when
// the journal stays unchanged for a whole lease duration measured on this process's clock.
import { LeaseHeldError, LeaseLostError, type Journal, type JournalRecord } from './journal.js';
import { holderProcess, takeoverWaitMs } from './lease.js';

export interface TakeoverOptions {
  note: (text: string) => void;
  waiting: (text: string) => void;
  signal: AbortSignal;
  /** Take it without watching the lease: the other run, if alive, stops at its next write. */
  force?: boolean;
}

/** How often the journal is read again while the lease is watched. */
const WATCH_POLL_MS = 1000;

/**
 * Takes the journal over from its holder and returns the record now held by this process, or undefined
 * when the journal disappeared while it was watched (its holder completed the operation).
 */
export async function takeOverLease(journal: Journal, record: JournalRecord, options: TakeoverOptions): Promise<JournalRecord | undefined> {
  const process = holderProcess(record.lease);
  const waitMs = takeoverWaitMs(record.lease);
  if (options.force) {
    options.note(`--force: taking the journal over from ${record.holder} without watching its lease; if it is still running, it stops at its next step.`);
    return forceTakeOver(journal, record);
  } else if (process === 'gone' && !record.changeFencedAt) {
    options.note(`The holder (${record.holder}) ran on this machine and its process is gone: taking the journal over.`);
  } else {
    // A dead holder may have left a request running in a pod (the lease outlasts the longest one):
    // its outcome must be settled before anything here decides from what the cluster answers.
    options.note(
      process === 'gone'
        ? `The holder (${record.holder}) ran on this machine and its process is gone, but a change it sent may still be running in a pod: waiting ${Math.round(waitMs / 1000)}s for it to end.`
        : `The journal is held by ${record.holder}. Watching its lease for ${Math.round(waitMs / 1000)}s: a running holder renews it every ${Math.round(waitMs / 3000)}s.`,
    );
    const renewed = await watchLease(journal, record, waitMs, options);
    if (renewed !== 'unchanged') return renewed;
  }
  return journal.takeOver(record);
}

/**
 * --force: a holder still running may renew between this run's read and its write (a 409). The journal is then
 * read again and taken over as it is now: its phase, not the one first read, is what the run goes on from.
 */
async function forceTakeOver(journal: Journal, first: JournalRecord): Promise<JournalRecord | undefined> {
  let record = first;
  for (let attempt = 1; ; attempt++) {
    try {
      return await journal.takeOver(record);
    } catch (err) {
      if (!(err instanceof LeaseLostError) || attempt >= 3) throw err;
      const now = await journal.read();
      if (!now) return undefined;
      record = now;
    }
  }
}

/** Watches the journal for a lease duration on this process's monotonic clock. */
async function watchLease(journal: Journal, record: JournalRecord, waitMs: number, options: TakeoverOptions): Promise<'unchanged' | undefined> {
  const watched = journal.version;
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  while (elapsed() < waitMs) {
    options.waiting(`lease of ${record.holder}: unchanged for ${Math.round(elapsed() / 1000)}s of ${Math.round(waitMs / 1000)}s`);
    // Interrupted while watching: nothing was changed, and the holder keeps the journal.
    if (!(await sleep(Math.min(WATCH_POLL_MS, waitMs - elapsed()), options.signal))) throw new LeaseHeldError(record, journal.name, 'interrupted while watching its lease');
    const now = await journal.read();
    if (!now) return undefined;
    if (journal.version !== watched) throw new LeaseHeldError(now, journal.name, `still running: it renewed its lease within ${Math.ceil(elapsed() / 1000)}s`);
  }
  return 'unchanged';
}

/** Resolves true after ms, or false at once when the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve(false);
      return;
    }
    const t = setTimeout(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      },
      Math.max(0, ms),
    );
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
