// Taking an unfinished operation over (finish, abort, a resumed user command): the lease decides.
// The holder is judged gone only when its process provably no longer exists on this machine, or when
// the journal stays unchanged for a whole lease duration measured on this process's clock.
import { LeaseHeldError, type Journal, type JournalRecord } from './journal.js';
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
  if (process === 'gone') {
    options.note(`The holder (${record.holder}) ran on this machine and its process is gone: taking the journal over.`);
  } else if (options.force) {
    options.note(`--force: taking the journal over from ${record.holder} without watching its lease; if it is still running, it stops at its next step.`);
  } else {
    const watched = journal.version;
    const waitMs = takeoverWaitMs(record.lease);
    const started = Date.now();
    options.note(
      `The journal is held by ${record.holder}. Watching its lease for ${Math.round(waitMs / 1000)}s: a running holder renews it every ${Math.round(waitMs / 3000)}s.`,
    );
    while (Date.now() - started < waitMs) {
      options.waiting(`lease of ${record.holder}: unchanged for ${Math.round((Date.now() - started) / 1000)}s of ${Math.round(waitMs / 1000)}s`);
      // Interrupted while watching: nothing was changed, and the holder keeps the journal.
      if (!(await sleep(Math.min(WATCH_POLL_MS, waitMs - (Date.now() - started)), options.signal))) throw new LeaseHeldError(record, journal.name, 'interrupted while watching its lease');
      const now = await journal.read();
      if (!now) return undefined;
      if (journal.version !== watched) {
        throw new LeaseHeldError(now, journal.name, `still running: it renewed its lease within ${Math.ceil((Date.now() - started) / 1000)}s`);
      }
    }
  }
  return journal.takeOver(record);
}

/** Resolves true after ms, or false at once when the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, Math.max(0, ms));
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
