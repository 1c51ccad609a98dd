// Go's lexical path functions, as krew runs them: path/filepath Clean, Join, Base, Dir, Match and Glob's
// meta characters (Go's src/path/filepath/path.go and match.go, Unix build), and krew's own
// internal/pathutil/pathutil.go IsSubPath. The krew model (install.ts) needs the same answers krew
// gets, quirks included: IsSubPath refuses any relative path that starts with "..", "..x" as well.

/** Clean's lexical loop over the elements of a path: drop "" and ".", let ".." eat the element before it (or stay, when relative). */
function cleanElements(elements: string[], rooted: boolean): string[] {
  const out: string[] = [];
  for (const part of elements) {
    if (part === '' || part === '.') continue;
    if (part !== '..') out.push(part);
    else if (out.length && out[out.length - 1] !== '..') out.pop();
    else if (!rooted) out.push('..');
  }
  return out;
}

/** filepath.Clean on Unix: the shortest equivalent path, by lexical processing only. */
export function clean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const joined = cleanElements(p.split('/'), rooted).join('/');
  return rooted ? `/${joined}` : joined || '.';
}

/**
 * filepath.Clean as krew built for Windows runs it: both slashes separate, the result uses `\`. A
 * `files.to` that is clean on Unix but not here ("sub/dir") fails krew's clean check on Windows only.
 */
export function cleanWindows(p: string): string {
  const volume = /^[A-Za-z]:/.exec(p)?.[0] ?? '';
  const rest = p.slice(volume.length).replace(/\//g, '\\');
  const rooted = rest.startsWith('\\');
  const joined = cleanElements(rest.split('\\'), rooted).join('\\');
  return volume + (rooted ? `\\${joined}` : joined || (volume ? '' : '.'));
}

/** filepath.Join: the non-empty elements joined with `/`, then cleaned. */
export const join = (...parts: string[]): string => {
  const nonEmpty = parts.filter((x) => x !== '');
  return nonEmpty.length ? clean(nonEmpty.join('/')) : '';
};

/** filepath.Base: the last element ("." for empty, "/" for only slashes). */
export function base(p: string): string {
  if (p === '') return '.';
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** filepath.Dir: everything but the last element, cleaned. */
export const dir = (p: string): string => clean(p.slice(0, p.lastIndexOf('/') + 1));

/** filepath.Split: dir keeps its trailing slash. */
export function split(p: string): [string, string] {
  const i = p.lastIndexOf('/');
  return [p.slice(0, i + 1), p.slice(i + 1)];
}

/** filepath.Rel for two absolute, clean paths (all krew's callers pass such). */
export function rel(basePath: string, target: string): string {
  const b = clean(basePath).split('/').filter(Boolean);
  const t = clean(target).split('/').filter(Boolean);
  let i = 0;
  while (i < b.length && i < t.length && b[i] === t[i]) i++;
  return [...b.slice(i).map(() => '..'), ...t.slice(i)].join('/') || '.';
}

/** krew internal/pathutil/pathutil.go IsSubPath: Rel, then any result starting with ".." is outside. */
export const isSubPath = (basePath: string, subPath: string): boolean => !rel(basePath, subPath).startsWith('..');

/** Glob's magic characters on Unix (path/filepath/match.go hasMeta). */
export const hasMeta = (p: string): boolean => /[*?[\\]/.test(p);

export class BadPattern extends Error {
  constructor(pattern: string) {
    super(`syntax error in pattern ${JSON.stringify(pattern)}`);
  }
}

/** filepath.Match on Unix: `*` and `?` never match `/`, `[...]` classes with `^` negation and ranges, `\` escapes. */
export function match(pattern: string, name: string): boolean {
  const pat = Array.from(pattern);
  let nm = Array.from(name);
  let rest = pat;
  outer: while (rest.length > 0) {
    const { star, chunk, after } = scanChunk(rest);
    rest = after;
    if (star && chunk.length === 0) return !nm.includes('/');
    const here = matchChunk(chunk, nm, pattern);
    if (here !== undefined && (here.length === 0 || rest.length > 0)) {
      nm = here;
      continue;
    }
    if (star) {
      for (let i = 0; i < nm.length && nm[i] !== '/'; i++) {
        const t = matchChunk(chunk, nm.slice(i + 1), pattern);
        if (t !== undefined) {
          if (rest.length === 0 && t.length > 0) continue;
          nm = t;
          continue outer;
        }
      }
    }
    // Go checks that the rest of the pattern is well formed before answering false.
    while (rest.length > 0) {
      const next = scanChunk(rest);
      rest = next.after;
      matchChunk(next.chunk, [], pattern);
    }
    return false;
  }
  return nm.length === 0;
}

function scanChunk(p: string[]): { star: boolean; chunk: string[]; after: string[] } {
  let i = 0;
  let star = false;
  while (p[i] === '*') {
    i++;
    star = true;
  }
  const from = i;
  let inRange = false;
  for (; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') {
      if (i + 1 < p.length) i++;
    } else if (c === '[') inRange = true;
    else if (c === ']') inRange = false;
    else if (c === '*' && !inRange) break;
  }
  return { star, chunk: p.slice(from, i), after: p.slice(i) };
}

/** The rest of `s` after `chunk` matched its start, or undefined; throws BadPattern on a malformed chunk. */
function matchChunk(chunk: string[], s: string[], pattern: string): string[] | undefined {
  let failed = false;
  let c = 0;
  let at = 0;
  while (c < chunk.length) {
    if (!failed && at >= s.length) failed = true;
    const ch = chunk[c]!;
    if (ch === '[') {
      const r = failed ? '' : s[at]!;
      if (!failed) at++;
      c++;
      let negated = false;
      if (chunk[c] === '^') {
        negated = true;
        c++;
      }
      let matched = false;
      let n = 0;
      for (;;) {
        if (c < chunk.length && chunk[c] === ']' && n > 0) {
          c++;
          break;
        }
        const lo = escapedChar(chunk, c, pattern);
        c = lo.next;
        let hi = lo.char;
        if (chunk[c] === '-') {
          const h = escapedChar(chunk, c + 1, pattern);
          hi = h.char;
          c = h.next;
        }
        const cp = r.codePointAt(0) ?? 0;
        if (!failed && lo.char.codePointAt(0)! <= cp && cp <= hi.codePointAt(0)!) matched = true;
        n++;
      }
      if (matched === negated) failed = true;
    } else if (ch === '?') {
      if (!failed) {
        if (s[at] === '/') failed = true;
        at++;
      }
      c++;
    } else {
      let lit = ch;
      if (ch === '\\') {
        c++;
        if (c >= chunk.length) throw new BadPattern(pattern);
        lit = chunk[c]!;
      }
      if (!failed) {
        if (s[at] !== lit) failed = true;
        at++;
      }
      c++;
    }
  }
  return failed ? undefined : s.slice(at);
}

function escapedChar(chunk: string[], at: number, pattern: string): { char: string; next: number } {
  let i = at;
  if (i >= chunk.length || chunk[i] === '-' || chunk[i] === ']') throw new BadPattern(pattern);
  if (chunk[i] === '\\') {
    i++;
    if (i >= chunk.length) throw new BadPattern(pattern);
  }
  // An unclosed class ends the chunk right after a character.
  if (i + 1 >= chunk.length) throw new BadPattern(pattern);
  return { char: chunk[i]!, next: i + 1 };
}
