// --concurrency: how many RECs of a fleet run are in their active steps at once.
import { usageError } from '../errors/exit-codes.js';

export const DEFAULT_CONCURRENCY = 10;

export function concurrencyOf(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw usageError(`--concurrency must be a whole number from 1 to 1000, not ${n}`);
  return n;
}
