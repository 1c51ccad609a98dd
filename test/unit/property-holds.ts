// How the property tests run fast-check: seeded (RECCRED_SEED, else a fixed one), each property with a seed of its
// own, and a failing property reported as the failed assertion it is, for mocha and for the mutation runner alike.
import assert from 'node:assert/strict';
import fc from 'fast-check';

/**
 * fc.assert, failing with the property's own AssertionError (fast-check 4 keeps it in `cause`) with the counterexample
 * in front.
 */
const asAssertion = (err: unknown): never => {
  const cause = err instanceof Error ? err.cause : undefined;
  if (err instanceof Error && cause instanceof assert.AssertionError) {
    cause.message = `${err.message.split('\n\nHint:')[0] ?? ''}\n${cause.message}`;
    throw cause;
  }
  throw err;
};
export function holds<Ts>(property: fc.IAsyncProperty<Ts>, params?: fc.Parameters<Ts>): Promise<void>;
export function holds<Ts>(property: fc.IProperty<Ts>, params?: fc.Parameters<Ts>): void;
export function holds<Ts>(property: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>, params?: fc.Parameters<Ts>): void | Promise<void> {
  try {
    // fc.assert returns a promise for an async property only.
    const done: unknown = fc.assert(property as fc.IAsyncProperty<Ts>, params);
    return done instanceof Promise ? done.then(() => undefined, asAssertion) : undefined;
  } catch (err) {
    return asAssertion(err);
  }
}

const SEED = Number(process.env.RECCRED_SEED) || 20251125;
/** Each property its own seed (derived from SEED and its name), so two properties never draw the same inputs. */
export const params = (numRuns: number, property: string) => ({ seed: [...property].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619), SEED) | 0, numRuns });
