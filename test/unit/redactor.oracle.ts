// The oracle of the redactor's scan (src/output/redactor.ts): the regular expression it replaced (commit
// 90bea51), one alternation per secret, which V8 ran with the same ordered, backtracking semantics. Kept
// here only to compare the two (redactor.property.test.ts).
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

/**
 * The base64 characters that depend on the secret's bytes alone, for each alignment k of the secret
 * after a prefix (of length k mod 3): character c encodes bits 6c..6c+5, so it is kept when they all lie
 * inside the secret. The one or two boundary characters, shared with the neighbours, are left.
 */
function base64Cores(bytes: Buffer): string[] {
  const cores: string[] = [];
  for (let k = 0; k < 3; k++) {
    const text = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
    const first = Math.ceil((8 * k) / 6);
    const last = Math.floor((8 * (k + bytes.length) - 6) / 6);
    // Fewer than 4 characters would match unrelated base64.
    if (last - first + 1 >= 4) cores.push(text.slice(first, last + 1));
  }
  return cores;
}

/**
 * Past this length a secret is matched by its whole-string forms only, without a regular expression: a
 * group per character would exceed the regex engine's limits. (Passwords are at most 256 characters.)
 */
const PER_CHARACTER_MAX = 1024;

export function regexMatcher(secret: string): (text: string) => string {
  const bytes = Buffer.from(secret, 'utf8');
  const cores = base64Cores(bytes);
  if (secret.length > PER_CHARACTER_MAX) {
    const forms = [secret, JSON.stringify(secret).slice(1, -1), bytes.toString('hex'), ...cores];
    // encodeURIComponent throws on a lone surrogate.
    if (!/[\uD800-\uDFFF]/u.test(secret)) forms.push(encodeURIComponent(secret));
    return (text) => forms.reduce((out, f) => out.split(f).join(MASK), text);
  }
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
