// The redactor's scan (src/output/redactor.ts) masks exactly what the regular expression it replaced masked
// (redactor.oracle.ts): same matches, same order, same text left, for secrets full of the characters that
// have several forms (%, \, +, space, quotes, slashes, non-ASCII, outside the BMP) and texts built from
// every form of the secret and of pieces of it, mixed per character, among look-alike noise.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Redactor } from '../../src/output/redactor.js';
import { holds, params } from './property-holds.js';
import { regexMatcher } from './redactor.oracle.js';

const ALPHABET = [...'aAbB09fF%\\+ "/-_=&#u\b\n\t', 'é', '€', '密', '🔑', '\u00ff', '\ud800'];
const hexCase = (s: string, upper: boolean) => s.replace(/(%|\\u)([0-9a-fA-F]+)/g, (_m, p: string, h: string) => p + (upper ? h.toUpperCase() : h.toLowerCase()));

/** Hex digits in a mix of cases, one bit of `mask` a digit: an escape may be written with any. */
const mixedCase = (hex: string, mask: number) => [...hex].map((c, i) => ((mask >> (i % 30)) & 1 ? c.toUpperCase() : c)).join('');

/** One character of the secret, written one of the ways a text can carry it (`\U`: a near miss, never a match). */
function charForm(ch: string, way: number, mask: number): string {
  const units = [...Array(ch.length).keys()].map((i) => `\\u${mixedCase(ch.charCodeAt(i).toString(16).padStart(4, '0'), mask >> (4 * i))}`).join('');
  const pct = [...Buffer.from(ch, 'utf8')].map((b, i) => `%${mixedCase(b.toString(16).padStart(2, '0'), mask >> (2 * i))}`).join('');
  const forms = [ch, JSON.stringify(ch).slice(1, -1), units, units.replace(/\\u/g, '\\U'), pct, ch === ' ' ? '+' : ch];
  return forms[way % forms.length] ?? ch;
}

const secretArb = fc
  .oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 10 }) }, { weight: 1, arbitrary: fc.integer({ min: 11, max: 40 }) })
  .chain((length) => fc.array(fc.constantFrom(...ALPHABET), { minLength: length, maxLength: length }))
  .map((cs) => cs.join(''));

function fragmentArb(secret: string): fc.Arbitrary<string> {
  const chars = Array.from(secret);
  const piece = fc.tuple(fc.nat(chars.length), fc.nat(chars.length)).map(([a, b]) => chars.slice(Math.min(a, b), Math.max(a, b) + 1).join(''));
  const whole = fc.oneof(fc.constant(secret), piece);
  return fc.oneof(
    fc.array(fc.constantFrom(...ALPHABET, '%2', '%25', '\\u00', '\\\\', 'QUJD', '616'), { maxLength: 4 }).map((xs) => xs.join('')),
    whole,
    whole.map((s) => JSON.stringify(s).slice(1, -1)),
    fc.tuple(whole, fc.boolean()).map(([s, up]) =>
      hexCase(
        JSON.stringify(s)
          .slice(1, -1)
          .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
        up,
      ),
    ),
    fc.tuple(whole, fc.boolean()).map(([s, up]) => {
      try {
        return hexCase(encodeURIComponent(s), up);
      } catch {
        return s;
      }
    }),
    whole.map((s) => new URLSearchParams({ p: s }).toString().slice(2)),
    fc.tuple(whole, fc.constantFrom('', 'a', 'ab', 'u:'), fc.boolean()).map(([s, prefix, urlSafe]) => {
      const b64 = Buffer.from(prefix + s).toString('base64');
      return urlSafe ? b64.replace(/\+/g, '-').replace(/\//g, '_') : b64;
    }),
    fc.tuple(whole, fc.boolean()).map(([s, up]) => (up ? Buffer.from(s).toString('hex').toUpperCase() : Buffer.from(s).toString('hex'))),
    fc
      .array(fc.tuple(fc.nat(5), fc.nat()), { minLength: chars.length, maxLength: chars.length })
      .map((ways) => chars.map((c, i) => charForm(c, ways[i]?.[0] ?? 0, ways[i]?.[1] ?? 0)).join('')),
  );
}

const caseArb = secretArb.chain((secret) =>
  fc.tuple(
    fc.constant(secret),
    fc.array(fragmentArb(secret), { maxLength: 6 }).map((fs) => fs.join('')),
  ),
);

describe('redactor scan against the regular expression it replaced (property)', () => {
  it('masks the same text for one secret, 2000 cases', () => {
    holds(
      fc.property(caseArb, ([secret, text]) => {
        const r = new Redactor();
        r.add(secret);
        assert.equal(r.scrub(text), regexMatcher(secret)(text), `secret ${JSON.stringify(secret)} text ${JSON.stringify(text)}`);
      }),
      params(2000, 'redactor one secret'),
    );
  });

  it('masks the same text for two secrets, longest first, 500 cases', () => {
    holds(
      fc.property(secretArb, caseArb, (first, [second, text]) => {
        const r = new Redactor();
        r.add(first, second);
        const ordered = [...new Set([first, second])].sort((a, b) => b.length - a.length);
        const expected = ordered.reduce((out, s) => regexMatcher(s)(out), text);
        assert.equal(r.scrub(text), expected);
      }),
      params(500, 'redactor two secrets'),
    );
  });

  it("a text of 17 million characters that could each begin a match: no memory kept per position (it used to exceed a Set's size)", () => {
    const r = new Redactor();
    r.add('Xq7#kP2m');
    const text = '%'.repeat(17_000_000);
    assert.equal(r.scrub(text), text);
  });

  it('a secret of many characters with several forms is scanned in linear time, not by exponential backtracking', () => {
    const r = new Redactor();
    const secret = '%+ \\'.repeat(64);
    r.add(secret);
    // Almost the secret, each character in a form that also starts another: every prefix matches, the end fails.
    const text = `${'%25%2B%20%5C'.repeat(63)}%25%2B%20`.repeat(4);
    const started = performance.now();
    assert.equal(r.scrub(text), text);
    assert.ok(performance.now() - started < 2000, `took ${Math.round(performance.now() - started)} ms`);
  });
});
