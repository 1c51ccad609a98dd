// How the workload controllers name what they create. Hashes are FNV-32a printed in decimal and mapped onto
// apimachinery's SafeEncodeString alphabet, as kubernetes/kubernetes pkg/controller/controller_utils.go ComputeHash
// (pod-template-hash, DaemonSet revisions) and pkg/controller/history/controller_history.go HashControllerRevision
// (StatefulSet revisions) do. What is hashed differs (a canonical JSON here, a spew dump of the Go struct there), so
// the values are not a real cluster's, but they are stable and change whenever the template changes.
import { randomInt } from 'node:crypto';

// staging/src/k8s.io/apimachinery/pkg/util/rand/rand.go: no vowels (no words) and no confusable characters.
const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** JSON with object keys sorted, so that equal objects hash equally whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(s, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** rand.SafeEncodeString: each character mapped onto the alphabet by its byte value. */
function safeEncodeString(s: string): string {
  return [...s].map((c) => ALPHANUMS[c.charCodeAt(0) % ALPHANUMS.length]).join('');
}

/** ComputeHash: the pod-template-hash of a template, or a revision hash of a revision's data. */
export function templateHash(value: unknown, collisionCount?: number): string {
  return safeEncodeString(String(fnv32a(canonicalJson(value) + (collisionCount ? String(collisionCount) : ''))));
}

/** rand.String(n), the suffix of a generateName (apiserver names.SimpleNameGenerator: 5 characters, the base cut at 58). */
export function generatedName(base: string, n = 5): string {
  let suffix = '';
  for (let i = 0; i < n; i++) suffix += ALPHANUMS[randomInt(ALPHANUMS.length)];
  return `${base.slice(0, 63 - n)}${suffix}`;
}
