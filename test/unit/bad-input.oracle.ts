// What each command-line input should give, written from the contract (SPEC section 2, the README's flag
// descriptions and the in-pod script's header), not from the code that checks it: the property tests in
// bad-input.property.test.ts hold the plugin's validators against these on every generated input.
import { isDns1123Label, isDns1123Subdomain, isSecretDataKey } from './kubernetes-names.oracle.js';

// No regex here: every rule is an explicit walk over the characters, so a pattern copied from src/ could
// not make the code and its oracle agree on the same mistake.

// ---- durations ------------------------------------------------------------------------------------------
// "Go-style durations as kubectl takes them (5m, 90s, 1m30s, 500ms); a bare number is seconds", surrounding
// blanks ignored; Node timers hold at most 2^31-1 ms, so longer values are refused (24.8 days).
export const TIMER_MAX_MS = 2 ** 31 - 1;
const UNIT_MS: Record<string, bigint> = { ms: 1n, s: 1000n, m: 60_000n, h: 3_600_000n };

/**
 * ms: rounded half up. exact: the value is a whole number of ms; when it is not, the code rounds in floating
 * point, so floor or floor+1 are both right, and within one ms of the limit either verdict is.
 */
export type DurationVerdict = ({ ok: true; ms: number; floor: number; exact: boolean } | { ok: false; why: 'syntax' | 'too long' }) & { nearLimit: boolean };

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

/** digits ('.' digits)? at `at`: the value as numerator over a power of ten, and where it ends. */
function readNumber(t: string, at: number): { num: bigint; den: bigint; end: number } | undefined {
  let i = at;
  while (isDigit(t[i])) i++;
  if (i === at) return undefined;
  let digits = t.slice(at, i);
  let den = 1n;
  if (t[i] === '.' && isDigit(t[i + 1])) {
    const start = ++i;
    while (isDigit(t[i])) i++;
    digits += t.slice(start, i);
    den = 10n ** BigInt(i - start);
  }
  return { num: BigInt(digits), den, end: i };
}

export function durationOracle(text: string): DurationVerdict {
  const t = text.trim();
  let num = 0n;
  let den = 1n;
  const whole = readNumber(t, 0);
  if (whole && whole.end === t.length) {
    [num, den] = [whole.num * 1000n, whole.den];
  } else {
    let at = 0;
    if (t.length === 0) return { ok: false, why: 'syntax', nearLimit: false };
    while (at < t.length) {
      const n = readNumber(t, at);
      if (!n) return { ok: false, why: 'syntax', nearLimit: false };
      const unit = t.startsWith('ms', n.end) ? 'ms' : (t[n.end] ?? '');
      const perUnit = UNIT_MS[unit];
      if (perUnit === undefined) return { ok: false, why: 'syntax', nearLimit: false };
      [num, den] = [num * n.den + n.num * perUnit * den, den * n.den];
      at = n.end + unit.length;
    }
  }
  const rounded = (2n * num + den) / (2n * den); // half up; all values are >= 0
  const exact = num % den === 0n;
  const nearLimit = !exact && num / den === BigInt(TIMER_MAX_MS);
  if (rounded > BigInt(TIMER_MAX_MS)) return { ok: false, why: 'too long', nearLimit };
  return { ok: true, ms: Number(rounded), floor: Number(num / den), exact, nearLimit };
}

// ---- passwords ------------------------------------------------------------------------------------------
// README: a supplied password is one line of UTF-8 text, 1 to 256 characters (counted as JavaScript
// counts them, UTF-16 units), with no CR, LF or NUL; a file's one trailing newline (LF or CRLF) is not
// part of it; stdin carries one line (blank lines after it are tolerated), at most 64 KiB.
export const PASSWORD_MAX = 256;

/** The problems of a candidate password, as the messages name them ([] when it is valid). */
export function passwordProblems(line: string): RegExp[] {
  const out: RegExp[] = [];
  if (line.length === 0) out.push(/is empty/);
  for (const c of line)
    if (c === '\r' || c === '\n' || c === '\0') {
      out.push(/contains a line break or NUL/);
      break;
    }
  if (line.length > PASSWORD_MAX) out.push(/longer than 256 characters/);
  return out;
}

/** Valid UTF-8: decoding with replacement and encoding again gives the same bytes back. */
export function isUtf8(bytes: Buffer): boolean {
  return Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes);
}

function dropOneNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n')) return text.slice(0, -1);
  return text;
}

export type PasswordVerdict = { ok: true; password: string } | { ok: false; problems: RegExp[] };

export function passwordFileOracle(bytes: Buffer): PasswordVerdict {
  if (!isUtf8(bytes)) return { ok: false, problems: [/is not valid UTF-8/] };
  const line = dropOneNewline(bytes.toString('utf8'));
  const problems = passwordProblems(line);
  return problems.length === 0 ? { ok: true, password: line } : { ok: false, problems };
}

const isBlank = (s: string) => s.trim() === '';

/** Stdin delivered in one piece (so everything after the first line is seen). */
export function passwordStdinOracle(bytes: Buffer): PasswordVerdict {
  if (bytes.length > 64 * 1024) return { ok: false, problems: [/more than 64 KiB/] };
  if (!isUtf8(bytes)) return { ok: false, problems: [/is not valid UTF-8/] };
  const text = bytes.toString('utf8');
  const nl = text.indexOf('\n');
  if (nl >= 0 && !isBlank(text.slice(nl + 1))) return { ok: false, problems: [/expected one line, got several/] };
  const line = dropOneNewline(nl >= 0 ? text.slice(0, nl + 1) : text);
  const problems = passwordProblems(line);
  return problems.length === 0 ? { ok: true, password: line } : { ok: false, problems };
}

// ---- --to-secret NAMESPACE/NAME[:KEY] ----------------------------------------------------------------
// The flag's help: NAMESPACE/NAME[:KEY], key default "password"; without NAMESPACE/ the command's namespace.
// The parts must be what the API server would take: a namespace name, a Secret name, a Secret data key.
export type ToSecretVerdict = { ok: true; namespace: string; name: string; key: string } | { ok: false };

export function toSecretOracle(spec: string, defaultNamespace: string): ToSecretVerdict {
  const slash = spec.indexOf('/');
  const namespace = slash >= 0 ? spec.slice(0, slash) : defaultNamespace;
  const rest = slash >= 0 ? spec.slice(slash + 1) : spec;
  const colon = rest.indexOf(':');
  const name = colon >= 0 ? rest.slice(0, colon) : rest;
  const key = colon >= 0 ? rest.slice(colon + 1) : 'password';
  // A second '/' or ':' lands in the name or key, which allow neither.
  return isDns1123Label(namespace) && isDns1123Subdomain(name) && isSecretDataKey(key) ? { ok: true, namespace, name, key } : { ok: false };
}

// ---- usernames (change-user --username) -----------------------------------------------------------------
// The plugin's stated rule ("the operator expects an email address"): one '@' with something on each
// side, nothing a JSON string or a shell would have to escape (no whitespace, '"' or '\'), at most 254
// characters (RFC 5321's longest address). Whitespace is ECMA-262's WhiteSpace and LineTerminator.
const WHITESPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
  0xfeff,
]);
export const USERNAME_MAX = 254;

export function isEmailLikeLogin(u: string): boolean {
  if (u.length > USERNAME_MAX) return false;
  let ats = 0;
  for (const c of u) {
    if (c === '@') ats++;
    if (c === '"' || c === '\\' || WHITESPACE.has(c.codePointAt(0) ?? 0)) return false;
  }
  const at = u.indexOf('@');
  return ats === 1 && at > 0 && at < u.length - 1;
}

// ---- the in-pod script ----------------------------------------------------------------------------------
// src/pod/in-pod-script.ts's header is the protocol: line 1 "reccred NONCE" (lower-case hex), then requests:
// "tools", "hash", "rest N" (N a plain count of 1 to 3 digits, no leading zero) followed by N lines of curl
// config, "stop". Each answer is followed by a marker; anything else exits 64, and so does stdin ending
// without stop. The script never waits for EOF, so a request that stops short waits for more (the real exec
// session times out). The shell's `read` drops NUL bytes (dash and bash alike), so "to\0ols" is read as "tools".
export type ScriptAnswerKind = 'tools' | 'hash' | 'curl';

export interface ScriptOutcome {
  /** The answers, in order, each ended by its marker: a curl answer carries curl's own exit code. */
  answers: ScriptAnswerKind[];
  /**
   * How it ends: exit 0 (stop), exit 64, waits for more; 'curl or waits' once a config whose lines are
   * arbitrary reached curl (its own reading decides: an error, or a transfer that takes its time).
   */
  end: { kind: 'exit'; code: 0 | 64 } | { kind: 'waits' } | { kind: 'curl or waits' };
}

export function inPodOracle(conversation: string): ScriptOutcome {
  const lines = conversation.split('\n');
  const complete = lines.length - 1; // lines ended by '\n'; the last piece is unterminated
  const line = (i: number) => (lines[i] ?? '').split('\0').join('');
  const answers: ScriptAnswerKind[] = [];
  const done = (end: ScriptOutcome['end']): ScriptOutcome => ({ answers, end });
  if (complete < 1) return done({ kind: 'waits' });
  const hello = line(0);
  const nonce = hello.startsWith('reccred ') ? hello.slice('reccred '.length) : '';
  if (!/^[0-9a-f]+$/.test(nonce)) return done({ kind: 'exit', code: 64 });
  for (let i = 1; i < complete;) {
    const op = line(i++);
    if (op === 'tools' || op === 'hash') {
      answers.push(op);
      continue;
    }
    if (op === 'stop') return done({ kind: 'exit', code: 0 });
    if (!op.startsWith('rest ')) return done({ kind: 'exit', code: 64 });
    const n = op.slice('rest '.length);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(n)) return done({ kind: 'exit', code: 64 });
    if (i + Number(n) > complete) return done({ kind: 'waits' });
    i += Number(n);
    answers.push('curl');
    // What curl makes of arbitrary config lines is its own business: nothing after it is predicted.
    if (Number(n) > 0) return done({ kind: 'curl or waits' });
  }
  return done({ kind: 'waits' });
}
