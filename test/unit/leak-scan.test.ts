// The tests' leak scan (leaksIn, test/e2e/harness.ts) finds a secret base64-encoded inside a longer text,
// whatever its offset in that text: a Basic header carries `user:password`, so the username's length decides
// the password's alignment (issue 15). Standard and URL-safe alphabets.
import assert from 'node:assert/strict';
import { base64Cores, leaksIn } from '../e2e/harness.js';

const SECRET = 'Pw-~>?Q7u!zZ'; // '~>?' encodes to '+' and '/' at some alignments: the URL-safe forms differ
const urlSafe = (b64: string) => b64.replace(/\+/g, '-').replace(/\//g, '_');

describe('leak scan: base64 at every alignment', () => {
  for (const offset of [0, 1, 2, 3, 4, 5]) {
    it(`finds the secret at byte offset ${offset} (alignment ${offset % 3}) of a longer text, standard and URL-safe`, () => {
      const text = `${'u'.repeat(offset)}${SECRET} and more after it`;
      const b64 = Buffer.from(text, 'utf8').toString('base64');
      for (const encoded of [b64, urlSafe(b64), `Authorization: Basic ${b64}\n`]) {
        assert.notDeepEqual(leaksIn([encoded], [SECRET]), [], `offset ${offset}: ${encoded}`);
        // The plain text is not what matched.
        assert.ok(!encoded.includes(SECRET));
      }
    });
  }

  it('each alignment needs its own form: the three cores differ, and each offset matches only its own', () => {
    const cores = base64Cores(SECRET);
    assert.equal(cores.length, 3);
    assert.equal(new Set(cores).size, 3);
    for (const k of [0, 1, 2]) {
      const b64 = Buffer.from(`${'u'.repeat(k)}${SECRET}!`, 'utf8').toString('base64');
      assert.deepEqual(
        cores.map((c) => b64.includes(c)),
        [0, 1, 2].map((j) => j === k),
        `offset ${k}`,
      );
    }
  });

  it('finds nothing in base64 of a text with one character of the secret changed, at any offset', () => {
    for (const prefix of ['', 'u', 'uu']) {
      const other = Buffer.from(`${prefix}${SECRET.replace('Q', 'R')} and more`, 'utf8').toString('base64');
      assert.deepEqual(leaksIn([other, urlSafe(other)], [SECRET]), [], prefix);
    }
  });
});
