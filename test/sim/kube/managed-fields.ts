// metadata.managedFields as the API server keeps them: every create, update and patch records who set
// which fields, by which operation, and when, so `kubectl get -o yaml --show-managed-fields` names the
// last writer of a Secret's data. From kubernetes/kubernetes staging/src/k8s.io/apiserver/pkg/endpoints/
// handlers/create.go (managerOrUserAgent, prefixFromUserAgent) and .../handlers/fieldmanager (an Update
// moves the fields it changed to its manager and stamps the entry's time only when it changed
// something; fields that no longer exist leave every set; a manager left with no field is dropped;
// apiVersion, kind and the metadata the server owns are never tracked).
// Simplification: lists are atomic here (the real server tracks ownerReferences item by item, k:{"uid":...}).
import type { KubeObject } from './store.js';

export type FieldsV1 = { [key: string]: FieldsV1 };

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: FieldsV1;
  subresource?: string;
}

/** validation.FieldManagerMaxLength */
const FIELD_MANAGER_MAX_LENGTH = 128;
// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** The manager of a write: `?fieldManager=`, else the User-Agent up to its first "/" (kubectl/v1.31.0 ... -> "kubectl"). */
export function managerOrUserAgent(fieldManager: string | null | undefined, userAgent: string | undefined): string {
  if (fieldManager) return fieldManager;
  let out = '';
  for (const ch of (userAgent ?? '').split('/')[0]!) {
    if (!PRINTABLE.test(ch)) continue;
    if (Buffer.byteLength(out + ch) > FIELD_MANAGER_MAX_LENGTH) break;
    out += ch;
  }
  return out;
}

// stripmeta: never tracked.
const STRIPPED_TOP = new Set(['apiVersion', 'kind', 'metadata']);
const STRIPPED_META = new Set(['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion']);

const SEP = '\u0000';
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Every tracked field of an object, keyed by its FieldsV1 path ("f:data\0f:password"); a map's own
 * entry ends in "." (who created the map). The value is the leaf's JSON, or "" for a map.
 */
function fieldsOf(obj: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (v: unknown, path: string[]) => {
    const top = path.length === 1 && STRIPPED_TOP.has(path[0]!.slice(2));
    const meta = path.length === 2 && path[0] === 'f:metadata' && STRIPPED_META.has(path[1]!.slice(2));
    if (isMap(v)) {
      if (path.length && !top && !meta) out.set([...path, '.'].join(SEP), '');
      if (meta) return;
      for (const [k, child] of Object.entries(v)) if (child !== undefined) walk(child, [...path, `f:${k}`]);
    } else if (!top && !meta) {
      out.set(path.join(SEP), JSON.stringify(v));
    }
  };
  walk(obj, []);
  return out;
}

function setOf(fields: FieldsV1 | undefined, path: string[] = [], out = new Set<string>()): Set<string> {
  for (const [k, child] of Object.entries(fields ?? {})) {
    if (isMap(child) && Object.keys(child).length) setOf(child, [...path, k], out);
    else out.add([...path, k].join(SEP));
  }
  return out;
}

function fieldsV1Of(set: Set<string>): FieldsV1 {
  const root: FieldsV1 = {};
  for (const p of [...set].sort()) {
    let node = root;
    for (const k of p.split(SEP)) node = node[k] ??= {};
  }
  return root;
}

/** True when a write changes nothing the server tracks: it then skips the write (no new resourceVersion). */
export function sameFields(a: KubeObject, b: KubeObject): boolean {
  const fa = fieldsOf(a);
  const fb = fieldsOf(b);
  return fa.size === fb.size && [...fa].every(([k, v]) => fb.get(k) === v);
}

const seconds = (t: string) => Math.floor(Date.parse(t) / 1000) || 0;

/** The managedFields after `manager` wrote `next` over `live` (undefined for a create) with an Update. */
export function updateManagedFields(
  live: KubeObject | undefined,
  next: KubeObject,
  manager: string,
  apiVersion: string,
  subresource?: string,
  now = new Date(),
): ManagedFieldsEntry[] {
  const before = live ? fieldsOf(live) : new Map<string, string>();
  const after = fieldsOf(next);
  const changed = new Set([...after].filter(([k, v]) => before.get(k) !== v).map(([k]) => k));
  const gone = new Set([...before.keys()].filter((k) => !after.has(k)));
  const entries = ((live?.metadata.managedFields as ManagedFieldsEntry[] | undefined) ?? []).map((e) => ({ e: { ...e }, set: setOf(e.fieldsV1) }));
  for (const x of entries) for (const k of [...changed, ...gone]) x.set.delete(k);
  if (changed.size) {
    let mine = entries.find((x) => x.e.manager === manager && x.e.operation === 'Update' && x.e.apiVersion === apiVersion && (x.e.subresource ?? '') === (subresource ?? ''));
    if (!mine) {
      mine = { e: { manager, operation: 'Update', apiVersion, time: '', fieldsType: 'FieldsV1', fieldsV1: {}, ...(subresource ? { subresource } : {}) }, set: new Set() };
      entries.push(mine);
    }
    for (const k of changed) mine.set.add(k);
    // metav1.Time: RFC 3339, whole seconds.
    mine.e.time = now.toISOString().replace(/\.\d+Z$/, 'Z');
  }
  return entries
    .filter((x) => x.set.size > 0)
    .map((x) => ({ ...x.e, fieldsV1: fieldsV1Of(x.set) }))
    .sort((p, q) =>
      p.operation !== q.operation
        ? p.operation < q.operation
          ? -1
          : 1
        : seconds(p.time) !== seconds(q.time)
          ? seconds(p.time) - seconds(q.time)
          : p.manager !== q.manager
            ? p.manager < q.manager
              ? -1
              : 1
            : p.apiVersion !== q.apiVersion
              ? p.apiVersion < q.apiVersion
                ? -1
                : 1
              : (p.subresource ?? '').localeCompare(q.subresource ?? ''),
    );
}
