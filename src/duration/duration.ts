import { usageError } from '../errors/exit-codes.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds per unit; parseDuration's pattern admits only the units of UNITS. */
function unitMs(unit: string | undefined): number {
  const ms = unit === undefined ? undefined : UNITS[unit];
  if (ms === undefined) throw new Error(`parseDuration: no unit ${String(unit)}`);
  return ms;
}

// Node timers hold at most 2^31-1 ms; a longer one fires at once, so "--request-timeout 1000000h"
// would time every request out immediately instead of never.
const MAX_MS = 2 ** 31 - 1;

/** Go-style durations as kubectl takes them ("5m", "90s", "1m30s", "500ms"); a bare number is seconds. */
export function parseDuration(text: string, flag: string): number {
  const t = text.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(t)) ms = Math.round(Number(t) * 1000);
  else {
    const parts = [...t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join('') !== t) {
      throw usageError(`invalid duration for ${flag}: "${text.slice(0, 80)}"`, 'use a value such as 90s, 5m or 1m30s');
    }
    ms = Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * unitMs(p[2]), 0));
  }
  if (!(ms <= MAX_MS)) throw usageError(`invalid duration for ${flag}: "${text.slice(0, 80)}" is longer than 24 days`, 'use a value such as 90s, 5m or 1m30s');
  return ms;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
}

// Go accepts both micro signs. Written as escapes: one character above U+00FF anywhere in the bundle makes V8
// hold the whole 2 MB command-line script as a two-byte string (twice the memory, a slower decode at start).
const GO_UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, '\u00b5s': 1e-3, '\u03bcs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * --request-timeout as kubectl parses it (k8s.io/client-go/tools/clientcmd ParseTimeout): a bare
 * integer is seconds, anything else a Go duration (time.ParseDuration). 0 means no timeout; a positive
 * duration under a millisecond is a millisecond, never "none".
 */
export function parseRequestTimeout(text: string): number {
  const invalid = () =>
    usageError(
      `invalid --request-timeout "${text.slice(0, 80)}": Timeout must be a single integer in seconds, or an integer followed by a corresponding time unit (e.g. 1s | 2m | 3h)`,
    );
  // kubectl: empty is the default (none); a negative duration is no timeout either (Go's http.Client).
  if (text === '') return 0;
  let ms: number;
  if (/^\+?\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const m = /^([-+]?)((?:\d*\.?\d*(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+)$/.exec(text);
    if (!m?.[2]) throw invalid();
    const parts = [...m[2].matchAll(/(\d*\.?\d*)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/g)];
    if (parts.some((p) => p[1] === '' || p[1] === '.')) throw invalid();
    ms = parts.reduce((sum, p) => sum + Number(p[1]) * (GO_UNITS_MS[p[2] ?? ''] ?? NaN), 0);
    if (!Number.isFinite(ms)) throw invalid();
    if (m[1] === '-') return 0;
    if (ms > 0 && ms < 1) ms = 1;
  }
  ms = Math.round(ms);
  if (!(ms <= MAX_MS)) throw usageError(`invalid --request-timeout "${text.slice(0, 80)}": longer than 24 days`, 'use a value such as 30s or 1m, or 0 for none');
  return ms;
}
