// Per-type rules the API server applies when objects are written: defaults, Secret stringData,
// validation, and what the status subresource may change.
import type { KubeObject } from './store.js';
import type { ResourceInfo } from './discovery.js';
import { ApiError, badRequest, invalid } from './status.js';
import { setAppsDefaults } from '../apps/defaults.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/** The API server folds write-only `stringData` into base64 `data` (stringData wins). */
export function foldStringData(o: KubeObject): void {
  const sd = o['stringData'];
  if (sd === undefined) return;
  if (sd !== null && typeof sd === 'object') {
    const data = { ...((o['data'] as Record<string, string> | undefined) ?? {}) };
    for (const [k, v] of Object.entries(sd as Record<string, unknown>)) data[k] = Buffer.from(String(v)).toString('base64');
    o['data'] = data;
  }
  delete o['stringData'];
}

/** Fills what the server fills and rejects what it rejects; `urlNamespace` is the request's namespace. */
export function prepareWrite(r: ResourceInfo, o: unknown, urlNamespace: string | undefined, urlName?: string): KubeObject {
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw badRequest('the request body is not a JSON object');
  const obj = o as KubeObject;
  const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
  if (obj.kind !== undefined && obj.kind !== r.kind) {
    throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersion})`);
  }
  if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersion) {
    throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersion})`);
  }
  obj.kind = r.kind;
  obj.apiVersion = apiVersion;
  obj.metadata = { ...((obj.metadata as KubeObject['metadata'] | undefined) ?? ({} as KubeObject['metadata'])) };
  const md = obj.metadata;
  if (!md.name && typeof md['generateName'] === 'string' && urlName === undefined) {
    md.name = `${md['generateName']}${Math.random().toString(36).slice(2, 7)}`;
  }
  if (urlName !== undefined && md.name && md.name !== urlName) {
    throw badRequest(`the name of the object (${md.name}) does not match the name on the URL (${urlName})`);
  }
  if (urlName !== undefined && !md.name) md.name = urlName;
  if (r.namespaced) {
    if (md.namespace && urlNamespace && md.namespace !== urlNamespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    md.namespace = urlNamespace ?? md.namespace;
  } else {
    delete md.namespace;
  }
  if (!md.name) throw invalid(r.kind, r.group, '', 'metadata.name', 'FieldValueRequired', 'Required value: name or generateName is required');
  if (!DNS_SUBDOMAIN.test(md.name) || md.name.length > 253) {
    throw invalid(
      r.kind,
      r.group,
      md.name,
      'metadata.name',
      'FieldValueInvalid',
      `Invalid value: "${md.name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    );
  }
  // apps/v1 defaults (strategy, replicas, revisionHistoryLimit...), filled on every write as the real server does.
  if (r.group === 'apps') setAppsDefaults(r.name, obj);
  if (r.name === 'secrets') {
    foldStringData(obj);
    obj['type'] ??= 'Opaque';
    const data = (obj['data'] ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(data)) {
      // apimachinery validation.go IsConfigMapKey: the characters, 253 at most, and never ".", ".." or a "..x" prefix.
      const keyProblem = !SECRET_KEY.test(k)
        ? "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
        : k.length > 253
          ? 'must be no more than 253 characters'
          : k === '.'
            ? "must not be '.'"
            : k === '..'
              ? "must not be '..'"
              : k.startsWith('..')
                ? "must not start with '..'"
                : undefined;
      if (keyProblem !== undefined) throw invalid('Secret', '', md.name, `data[${k}]`, 'FieldValueInvalid', `Invalid value: "${k}": ${keyProblem}`);
      if (typeof v !== 'string' || !BASE64.test(v)) {
        throw badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0`);
      }
    }
  }
  return obj;
}

/**
 * A Secret or ConfigMap marked `immutable: true` keeps its data and the flag for good: the update is
 * refused with 422 Invalid, one Forbidden cause per field (kubernetes/kubernetes
 * pkg/apis/core/validation/validation.go, ValidateSecretUpdate and ValidateConfigMapUpdate).
 */
export function checkImmutable(r: ResourceInfo, current: KubeObject, next: KubeObject): void {
  if ((r.name !== 'secrets' && r.name !== 'configmaps') || current['immutable'] !== true) return;
  const detail = 'field is immutable when `immutable` is set';
  const same = (a: unknown, b: unknown) => JSON.stringify(sortedEntries(a)) === JSON.stringify(sortedEntries(b));
  const fields = [...(next['immutable'] !== true ? ['immutable'] : []), ...(r.name === 'secrets' ? ['data'] : ['data', 'binaryData']).filter((f) => !same(current[f], next[f]))];
  if (!fields.length) return;
  const errors = fields.map((f) => `${f}: Forbidden: ${detail}`);
  throw new ApiError(422, 'Invalid', `${r.kind} "${current.metadata.name}" is invalid: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}`, {
    name: current.metadata.name,
    kind: r.kind,
    causes: fields.map((field) => ({ reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field })),
  });
}

const sortedEntries = (v: unknown) => (v && typeof v === 'object' ? Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)) : []);

/**
 * With a status subresource, writes to the main resource keep the stored status and writes to
 * /status keep everything else; `generation` moves only when the spec changes.
 */
export function applySubresourceRules(r: ResourceInfo, current: KubeObject, next: KubeObject, subresource: string | undefined): KubeObject {
  const hasStatus = r.subresources.some((s) => s.name === 'status') && r.group !== '';
  if (!hasStatus) return next;
  if (subresource === 'status') {
    const out = structuredClone(current);
    out['status'] = next['status'];
    out.metadata.resourceVersion = next.metadata.resourceVersion;
    return out;
  }
  next['status'] = current['status'];
  if (next['status'] === undefined) delete next['status'];
  const gen = Number(current.metadata['generation'] ?? 1);
  next.metadata['generation'] = JSON.stringify(next['spec']) === JSON.stringify(current['spec']) ? gen : gen + 1;
  return next;
}
