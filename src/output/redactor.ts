// Every text that leaves the process (errors, API bodies, logs, stack traces) passes through here first.
// A secret is scrubbed in every form it travels in: as is; JSON-escaped (short escapes and \uXXXX, as
// JSON.stringify and ASCII-only encoders write it); URL- and form-encoded; hex; and base64 of any text
// that contains it (a Basic header carries `user:password`, so the secret can sit at any of the three
// alignments), standard or URL-safe.
const MASK = '********';

export class Redactor {
  private readonly secrets = new Set<string>();
  /** Each secret's scanner, made once: a fleet adds hundreds of secrets, a few at a time, between scrubs. */
  private readonly scanners = new Map<string, Scanner>();
  /** The scanners, longest secret first, and where a match of each can begin; rebuilt after add(). */
  private index: ScannerIndex | undefined;

  /** Registers secrets; call it the moment a secret is known, before anything can print it. */
  add(...values: (string | undefined)[]): void {
    for (const v of values) {
      if (v && v.length >= 1 && !this.secrets.has(v)) {
        this.secrets.add(v);
        this.index = undefined;
      }
    }
  }

  scrub(text: string): string {
    if (!this.secrets.size || !text) return text;
    // Longest first: a secret that contains another is removed whole. One scanner per secret: a single
    // expression for hundreds of secrets (a fleet run) can exceed the regex engine's limits.
    this.index ??= indexScanners([...this.secrets].sort((a, b) => b.length - a.length).map((secret) => this.scannerOf(secret)));
    // Nearly every text holds no secret: one pass over it for all of them says so, instead of one pass each.
    if (!anyMatch(this.index, text)) return text;
    let out = text;
    for (const scanner of this.index.ordered) out = scanner.scrub(out);
    return out;
  }

  private scannerOf(secret: string): Scanner {
    let scanner = this.scanners.get(secret);
    if (!scanner) this.scanners.set(secret, (scanner = matcher(secret)));
    return scanner;
  }

  /** At most `max` characters of `text`, scrubbed first: a secret crossing the cut is found whole. */
  excerpt(text: string, max: number): string {
    return this.scrub(text).slice(0, max);
  }

  /** An error's stack (and its causes'), scrubbed: the message in a stack is the raw one. */
  stack(err: unknown): string {
    const parts: string[] = [];
    const seen = new Set<unknown>();
    for (let e: unknown = err; e !== undefined && e !== null && !seen.has(e) && parts.length < 8; e = (e as { cause?: unknown }).cause) {
      seen.add(e);
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- not an object in that branch: a primitive or a function, whose String() is its text
      const text = e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : typeof e === 'object' ? safeJson(e) : String(e);
      parts.push(parts.length ? `caused by: ${text}` : text);
      if (!(e instanceof Error)) break;
    }
    return this.scrub(parts.join('\n'));
  }
}

function safeJson(v: unknown): string {
  try {
    // lib.d.ts says string, but an object whose toJSON() gives undefined stringifies to undefined.
    const json = JSON.stringify(v) as string | undefined;
    return json ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * One literal way a piece of the secret can be written. `hexFold`: its letters a-f are hex digits and match
 * either case (\uXXXX, %XX, hex); every other character matches exactly.
 */
interface Literal {
  text: string;
  hexFold: boolean;
}

const JSON_SHORT: Record<string, string> = { '"': '\\"', '\\': '\\\\', '/': '\\/', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/**
 * One character (code point) in any of its textual encodings, in the order they are tried. Per character, so
 * a text that escapes only some characters (JSON.stringify escapes quotes but not "\u00e9"; encodeURIComponent
 * leaves "-" raw) still matches.
 */
function charForms(ch: string): Literal[] {
  const forms: Literal[] = [{ text: ch, hexFold: false }];
  const short = JSON_SHORT[ch];
  if (short) forms.push({ text: short, hexFold: false });
  // \uXXXX for each UTF-16 unit (a character outside the BMP is a surrogate pair).
  let units = '';
  for (let i = 0; i < ch.length; i++) units += `\\u${hex(ch.charCodeAt(i), 4)}`;
  forms.push({ text: units, hexFold: true });
  // %XX for each UTF-8 byte, and + for a space (application/x-www-form-urlencoded).
  forms.push({ text: [...Buffer.from(ch, 'utf8')].map((b) => `%${hex(b, 2)}`).join(''), hexFold: true });
  if (ch === ' ') forms.push({ text: '+', hexFold: false });
  return forms;
}

/** Whether `literal` is written in `text` at `at`. */
function literalAt(text: string, at: number, literal: Literal): boolean {
  const want = literal.text;
  if (at + want.length > text.length) return false;
  for (let i = 0; i < want.length; i++) {
    const w = want.charCodeAt(i);
    const t = text.charCodeAt(at + i);
    // 0x61-0x66 is a-f; 0x20 apart from A-F.
    if (t !== w && !(literal.hexFold && w >= 0x61 && w <= 0x66 && t === w - 0x20)) return false;
  }
  return true;
}

/**
 * The base64 characters that depend on the secret's bytes alone, for each alignment k of the secret
 * after a prefix (of length k mod 3): character c encodes bits 6c..6c+5, so it is kept when they all lie
 * inside the secret. The one or two boundary characters, shared with the neighbours, are left.
 */
export function base64Cores(bytes: Buffer): string[] {
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

/** A base64 core at `at`, in the standard or the URL-safe alphabet (each character either way). */
function base64At(text: string, at: number, core: string): boolean {
  if (at + core.length > text.length) return false;
  for (let i = 0; i < core.length; i++) {
    const w = core[i];
    const t = text[at + i];
    if (t !== w && !(w === '+' && t === '-') && !(w === '/' && t === '_')) return false;
  }
  return true;
}

/**
 * Past this length a secret is matched by its whole-string forms only: trying every form of every character
 * would cost too much. (Passwords are at most 256 characters.)
 */
export const PER_CHARACTER_MAX = 1024;

/**
 * Replaces every occurrence of the secret, in any of its forms, with the mask: at each position, first the
 * secret character by character (each in any of its forms, tried in order, backtracking), then each base64
 * core, then hex; after a match the search goes on past it. A scan, not a regular expression: V8 compiles
 * an expression this size on its first use, a tenth of a short command's time.
 */
function matcher(secret: string): Scanner {
  const bytes = Buffer.from(secret, 'utf8');
  const cores = base64Cores(bytes);
  if (secret.length > PER_CHARACTER_MAX) {
    const forms = [secret, JSON.stringify(secret).slice(1, -1), bytes.toString('hex'), ...cores];
    // encodeURIComponent throws on a lone surrogate.
    if (!/[\uD800-\uDFFF]/u.test(secret)) forms.push(encodeURIComponent(secret));
    return { scrub: (text) => forms.reduce((out, f) => out.split(f).join(MASK), text), occursIn: (text) => forms.some((f) => text.includes(f)) };
  }
  // Array.from splits by code point: a character outside the BMP stays one character.
  const chars = Array.from(secret).map(charForms);
  const hexForm: Literal | undefined = bytes.length >= 3 ? { text: bytes.toString('hex'), hexFold: true } : undefined;
  // Where a match can begin: a quick test that skips most positions.
  const starts = new Set<number>();
  for (const f of chars[0] ?? []) starts.add(f.text.charCodeAt(0));
  for (const core of cores) {
    const first = core.charAt(0);
    for (const c of first === '+' ? '+-' : first === '/' ? '/_' : first) starts.add(c.charCodeAt(0));
  }
  if (hexForm) {
    const first = hexForm.text.charAt(0);
    starts.add(first.charCodeAt(0)).add(first.toUpperCase().charCodeAt(0));
  }

  // The farthest a match of the secret written character by character reaches past its start.
  const span = chars.reduce((sum, forms) => sum + Math.max(...forms.map((f) => f.text.length)), 0);

  /** The end of the secret written from character k on at `at`, or -1. */
  const charsFrom = (text: string, at: number, k: number, deadEnds: DeadEnds): number => {
    if (k === chars.length) return at;
    if (deadEnds.has(at, k)) return -1;
    for (const form of chars[k] ?? []) {
      if (!literalAt(text, at, form)) continue;
      const end = charsFrom(text, at + form.text.length, k + 1, deadEnds);
      if (end >= 0) return end;
    }
    // Character 0 is tried once per position: only later ones can be reached again, by another way.
    if (k > 0) deadEnds.add(at, k);
    return -1;
  };
  const matchAt = (text: string, at: number, deadEnds: DeadEnds): number => {
    const end = charsFrom(text, at, 0, deadEnds);
    if (end >= 0) return end;
    for (const core of cores) if (base64At(text, at, core)) return at + core.length;
    if (hexForm && literalAt(text, at, hexForm)) return at + hexForm.text.length;
    return -1;
  };
  const scrub = (text: string) => {
    let out = '';
    let copied = 0;
    const deadEnds = new DeadEnds(span, chars.length);
    for (let at = 0; at < text.length;) {
      const end = starts.has(text.charCodeAt(at)) ? matchAt(text, at, deadEnds) : -1;
      if (end > at) {
        out += text.slice(copied, at) + MASK;
        at = copied = end;
      } else at++;
    }
    return copied === 0 ? text : out + text.slice(copied);
  };
  const probe = (text: string) => {
    const deadEnds = new DeadEnds(span, chars.length);
    return (at: number) => matchAt(text, at, deadEnds) > at;
  };
  return { scrub, probe, ...openings(chars, cores, hexForm) };
}

/** A unit as a text may hold it: a folded hex letter also in upper case, a base64 + or / also URL-safe. */
function unitVariants(unit: number, hexFold: boolean, base64 = false): number[] {
  if (hexFold && unit >= 0x61 && unit <= 0x66) return [unit, unit - 0x20];
  if (base64 && unit === 0x2b) return [unit, 0x2d];
  if (base64 && unit === 0x2f) return [unit, 0x5f];
  return [unit];
}

/**
 * The first two units of every match, or the one unit of a one-unit match (a one-character secret written
 * as is). More than the matches can begin with does no harm (the scan then finds nothing); less would.
 */
function openings(chars: Literal[][], cores: string[], hexForm: Literal | undefined): Pick<ScannerOpenings, 'singles' | 'pairs'> {
  const singles = new Set<number>();
  const pairs: [number, number][] = [];
  const pair = (a: number[], b: number[]) => {
    for (const x of a) for (const y of b) pairs.push([x, y]);
  };
  const unit = (l: Literal, i: number) => unitVariants(l.text.charCodeAt(i), l.hexFold);
  for (const first of chars[0] ?? []) {
    if (first.text.length >= 2) pair(unit(first, 0), unit(first, 1));
    else if (chars.length === 1) for (const u of unit(first, 0)) singles.add(u);
    else for (const second of chars[1] ?? []) pair(unit(first, 0), unit(second, 0));
  }
  for (const core of cores) pair(unitVariants(core.charCodeAt(0), false, true), unitVariants(core.charCodeAt(1), false, true));
  if (hexForm) pair(unit(hexForm, 0), unit(hexForm, 1));
  return { singles: [...singles], pairs };
}

/** How the one-pass check (anyMatch) finds a secret matched form by form: where its matches can begin. */
interface ScannerOpenings {
  /** Units a whole match can be. */
  singles: number[];
  /** The first two units a longer match can begin with. */
  pairs: [number, number][];
  /** Whether a match begins at a position of one text, asked at increasing positions. */
  probe(text: string): (at: number) => boolean;
}

type OpeningScanner = { scrub(text: string): string; occursIn?: undefined } & ScannerOpenings;
interface WholeScanner {
  scrub(text: string): string;
  occursIn(text: string): boolean;
}
/** A secret matched form by form has openings; a longer one is found whole (`occursIn`). */
type Scanner = OpeningScanner | WholeScanner;

/** What can follow one first unit: scanners matched by it alone, and by it with each second unit. */
interface Followers {
  singles: OpeningScanner[];
  next: Map<number, OpeningScanner[]>;
}

interface ScannerIndex {
  ordered: Scanner[];
  whole: WholeScanner[];
  /** For each UTF-16 unit, 1 + its index in `followers` (0: no match begins with it). */
  firstUnit: Uint16Array;
  followers: Followers[];
}

function indexScanners(ordered: Scanner[]): ScannerIndex {
  const firstUnit = new Uint16Array(0x10000);
  const followers: Followers[] = [];
  const whole: WholeScanner[] = [];
  const of = (unit: number): Followers => {
    const known = followers[(firstUnit[unit] ?? 0) - 1];
    if (known) return known;
    const made: Followers = { singles: [], next: new Map() };
    firstUnit[unit] = followers.push(made);
    return made;
  };
  for (const scanner of ordered) {
    if (scanner.occursIn) {
      whole.push(scanner);
      continue;
    }
    for (const unit of scanner.singles) of(unit).singles.push(scanner);
    for (const [first, second] of scanner.pairs) {
      const next = of(first).next;
      const list = next.get(second);
      if (!list) next.set(second, [scanner]);
      else if (!list.includes(scanner)) list.push(scanner);
    }
  }
  return { ordered, whole, firstUnit, followers };
}

/**
 * Whether any secret is anywhere in the text. When none is, scrubbing leaves it as it is; when one is, the
 * first scanner (in order) that changes the text finds it in the text as given, so this finds it too.
 */
function anyMatch(index: ScannerIndex, text: string): boolean {
  if (index.whole.some((s) => s.occursIn(text))) return true;
  const probes = new Map<OpeningScanner, (at: number) => boolean>();
  const matchesAt = (scanner: OpeningScanner, at: number) => {
    let probe = probes.get(scanner);
    if (!probe) probes.set(scanner, (probe = scanner.probe(text)));
    return probe(at);
  };
  for (let at = 0; at < text.length; at++) {
    const followers = index.followers[(index.firstUnit[text.charCodeAt(at)] ?? 0) - 1];
    if (!followers) continue;
    const { singles, next } = followers;
    for (const scanner of singles) if (matchesAt(scanner, at)) return true;
    const pairs = at + 1 < text.length ? next.get(text.charCodeAt(at + 1)) : undefined;
    for (const scanner of pairs ?? []) if (matchesAt(scanner, at)) return true;
  }
  return false;
}

/**
 * Where the secret cannot be completed: (position, character index) pairs. Whether it can depends on those two
 * alone, so a dead end found from one start holds for every later start (without this, a secret of many
 * characters with two forms that both fit, such as % and %25, would be tried in exponentially many ways).
 * Starts only move forward and a match reaches at most `span` past its start, so only positions within `span`
 * of the current start matter: a ring of span + 1 rows, each row overwritten when a later position takes its
 * place. Memory stays at most (span + 1) x characters bytes, whatever the text's length.
 */
class DeadEnds {
  // Made at the first dead end: most scrubs of most texts never backtrack.
  private rows: (Uint8Array | undefined)[] | undefined;
  private rowAt: Int32Array | undefined;

  constructor(
    private readonly span: number,
    private readonly width: number,
  ) {}

  has(at: number, k: number): boolean {
    if (!this.rows || !this.rowAt) return false;
    const slot = at % this.rows.length;
    return this.rowAt[slot] === at && this.rows[slot]?.[k] === 1;
  }

  add(at: number, k: number): void {
    const rows = (this.rows ??= new Array<Uint8Array | undefined>(this.span + 1));
    const rowAt = (this.rowAt ??= new Int32Array(this.span + 1).fill(-1));
    const slot = at % rows.length;
    let row = rows[slot];
    if (!row) row = rows[slot] = new Uint8Array(this.width);
    else if (rowAt[slot] !== at) row.fill(0);
    rowAt[slot] = at;
    row[k] = 1;
  }
}

/** One redactor per process: a secret once seen is scrubbed from everything printed after. */
export const redactor = new Redactor();
