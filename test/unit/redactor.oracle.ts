// The oracle of the redactor's scan (src/output/redactor.ts): the regular expression it replaced (commit
// 90bea51), one alternation per secret, which V8 ran with the same ordered, backtracking semantics. Kept
// here only to compare the two (redactor.property.test.ts). What the scan left as it was is taken from it:
// the base64 cores, and the whole-string path of secrets too long for per-character forms.
import { base64Cores, PER_CHARACTER_MAX } from '../../src/output/redactor.js';

const MASK = '********';

const reEscape = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

/** A hex digit of either case. */
const hexDigit = (d: string) => (/[0-9]/.test(d) ? d : `[${d.toLowerCase()}${d.toUpperCase()}]`);
const hexOf = (n: number, width: number) => Array.from(n.toString(16).padStart(width, '0')).map(hexDigit).join('');

const JSON_SHORT: Record<string, string> = { '"': '\\"', '\\': '\\\\', '/': '\\/', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * One character (code point) in any of its textual encodings. Per character, so a text that escapes
 * only some characters (JSON.stringify escapes quotes but not "é"; encodeURIComponent leaves "-" raw)
 * still matches.
 */
function charForms(ch: string): string {
  const plain = reEscape(ch);
  const forms = [plain];
  if (JSON_SHORT[ch]) forms.push(reEscape(JSON_SHORT[ch]));
  // \uXXXX for each UTF-16 unit (a character outside the BMP is a surrogate pair).
  forms.push([...Array(ch.length).keys()].map((i) => `\\\\u${hexOf(ch.charCodeAt(i), 4)}`).join(''));
  // %XX for each UTF-8 byte, and + for a space (application/x-www-form-urlencoded).
  forms.push([...Buffer.from(ch, 'utf8')].map((b) => `%${hexOf(b, 2)}`).join(''));
  if (ch === ' ') forms.push('\\+');
  return forms.length === 1 ? plain : `(?:${forms.join('|')})`;
}

export function regexMatcher(secret: string): (text: string) => string {
  const bytes = Buffer.from(secret, 'utf8');
  const cores = base64Cores(bytes);
  // Longer secrets take the whole-string path, which the scan did not change.
  if (secret.length > PER_CHARACTER_MAX) throw new Error(`the oracle covers secrets of at most ${PER_CHARACTER_MAX} characters`);
  // Array.from splits by code point: a character outside the BMP stays one character.
  const alternatives = [Array.from(secret).map(charForms).join('')];
  // Standard and URL-safe alphabets at once.
  for (const core of cores)
    alternatives.push(
      Array.from(core)
        .map((c) => (c === '+' ? '[+-]' : c === '/' ? '[/_]' : c))
        .join(''),
    );
  if (bytes.length >= 3) alternatives.push(Array.from(bytes.toString('hex')).map(hexDigit).join(''));
  const re = new RegExp(alternatives.join('|'), 'g');
  return (text) => text.replace(re, MASK);
}
