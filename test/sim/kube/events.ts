// Kubernetes Events as kube-apiserver serves them: one store (bucket `events`, held in the core v1 shape, as the
// simulated kubelet writes it) and two views, core v1 `/api/v1/.../events` and `events.k8s.io/v1`, converted field
// by field; the decoding of their timestamps, the validation of creates and updates, the field selectors, and the
// server-side table `kubectl get events` prints. Sources (kubernetes/kubernetes):
// - conversion: pkg/apis/events/v1/conversion.go (Convert_v1_Event_To_core_Event and back) and the generated
//   zz_generated.conversion.go for the fields with the same name;
// - JSON shapes: staging/src/k8s.io/api/core/v1/types.go and staging/src/k8s.io/api/events/v1/types.go (omitempty);
// - validation: pkg/apis/core/validation/events.go (ValidateEventCreate, ValidateEventUpdate, legacyValidateEvent),
//   called by pkg/registry/core/event/strategy.go with the request's group version;
// - field selectors: pkg/registry/core/event/strategy.go ToSelectableFields, pkg/apis/core/v1/conversion.go and
//   pkg/apis/events/v1/conversion.go AddFieldLabelConversionsForEvent;
// - table: pkg/printers/internalversion/printers.go (eventColumnDefinitions, printEvent, formatEventSource).
import type { ResourceInfo } from './discovery.js';
import type { KubeObject, KubeStore } from './store.js';
import { ApiError, badRequest } from './status.js';
import { humanDuration, type IncludeObject } from './table.js';

export const EVENTS_GROUP = 'events.k8s.io';

/** Both Event resources (core v1 and events.k8s.io/v1) share the `events` bucket, as they share one registry. */
export const isEventResource = (r: ResourceInfo): boolean => r.store === 'events';

const isEventsV1 = (r: ResourceInfo) => r.group === EVENTS_GROUP;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);
const get = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((cur, k) => (isObject(cur) ? cur[k] : undefined), o);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
/** Go's len(): bytes, so the length limits below count UTF-8 bytes, not characters. */
const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');

/** An events.k8s.io/v1 Event as the API returns it (staging/src/k8s.io/api/events/v1/types.go). */
export interface EventV1 {
  apiVersion: 'events.k8s.io/v1';
  kind: 'Event';
  metadata: KubeObject['metadata'];
  /** MicroTime: RFC 3339 with exactly six fractional digits, or null. */
  eventTime: string | null;
  series?: { count: number; lastObservedTime: string };
  reportingController?: string;
  reportingInstance?: string;
  action?: string;
  reason?: string;
  regarding: ObjectReference;
  related?: ObjectReference;
  note?: string;
  type?: string;
  deprecatedSource: { component?: string; host?: string };
  deprecatedFirstTimestamp: string | null;
  deprecatedLastTimestamp: string | null;
  deprecatedCount?: number;
}

export interface ObjectReference {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

// ---- decoding: what the JSON decoder accepts before any validation runs (a refusal is 400 BadRequest) ----

/** transformDecodeError in staging/src/k8s.io/apiserver/pkg/endpoints/handlers/create.go: the decoder's message, prefixed. */
const decodeError = (detail: string) => badRequest(`Event in version "v1" cannot be handled as a Event: ${detail}`);

const RFC3339_LAYOUT = '2006-01-02T15:04:05Z07:00';
/** metav1.RFC3339Micro (staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/micro_time.go). */
const RFC3339_MICRO_LAYOUT = '2006-01-02T15:04:05.000000Z07:00';
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/;
const ZONE = /^(Z|[+-]\d{2}:\d{2})$/;

/** Epoch ms of the whole seconds of an RFC 3339 text (the zone applied), or NaN. */
function wholeSeconds(text: string, zone: string): number {
  return Date.parse(`${text.slice(0, 19)}${zone}`);
}

/**
 * metav1.Time: null, or RFC 3339 (Go's time.RFC3339 layout, which also accepts a fraction); written back in whole
 * seconds, UTC (Time.MarshalJSON).
 */
function decodeTime(v: unknown, field: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw decodeError(`json: cannot unmarshal ${typeof v} into Go struct field Event.${field} of type string`);
  const m = v.match(/^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:[.,]\d+)?(Z|[+-]\d{2}:\d{2})$/);
  const ms = m ? wholeSeconds(m[1]!, m[2]!) : NaN;
  if (Number.isNaN(ms)) throw decodeError(`parsing time "${v}" as "${RFC3339_LAYOUT}": cannot parse "${v}" as "2006"`);
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * metav1.MicroTime: null, or exactly the layout 2006-01-02T15:04:05.000000Z07:00 (MicroTime.UnmarshalJSON uses
 * time.Parse with it, and Go's fixed-width fraction wants exactly six digits: "…:05Z" and JavaScript's
 * "…:05.123Z" are both refused); written back in UTC with six digits (MicroTime.MarshalJSON).
 */
function decodeMicroTime(v: unknown, field: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw decodeError(`json: cannot unmarshal ${typeof v} into Go struct field Event.${field} of type string`);
  const parseError = (rest: string, elem: string) => decodeError(`parsing time "${v}" as "${RFC3339_MICRO_LAYOUT}": cannot parse "${rest}" as "${elem}"`);
  if (!DATE_TIME.test(v)) throw parseError(v, '2006');
  const rest = v.slice(19);
  if (!/^\.\d{6}/.test(rest)) throw parseError(rest, '.000000');
  const zone = rest.slice(7);
  if (!ZONE.test(zone)) throw parseError(zone, 'Z07:00');
  const ms = wholeSeconds(v, zone);
  if (Number.isNaN(ms)) throw parseError(v, '2006');
  return `${new Date(ms).toISOString().slice(0, 19)}${rest.slice(0, 7)}Z`;
}

function decodeString(o: Json, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw decodeError(`json: cannot unmarshal ${typeof v} into Go struct field Event.${key} of type string`);
  return v;
}

function decodeInt(v: unknown, field: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw decodeError(`json: cannot unmarshal ${JSON.stringify(v)} into Go struct field Event.${field} of type int32`);
  return v;
}

const REFERENCE_FIELDS = ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'] as const;

/** corev1.ObjectReference: every field omitempty, unknown ones dropped. */
function decodeReference(v: unknown, field: string): ObjectReference {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw decodeError(`json: cannot unmarshal ${typeof v} into Go struct field Event.${field} of type v1.ObjectReference`);
  const out: ObjectReference = {};
  for (const k of REFERENCE_FIELDS) {
    const s = decodeString(v, k);
    if (s) out[k] = s;
  }
  return out;
}

/** The internal Event (pkg/apis/core/types.go): what conversion produces and validation reads. */
interface InternalEvent {
  metadata: KubeObject['metadata'];
  involvedObject: ObjectReference;
  reason: string;
  message: string;
  source: { component: string; host: string };
  firstTimestamp: string | null;
  lastTimestamp: string | null;
  count: number;
  type: string;
  eventTime: string | null;
  series: { count: number; lastObservedTime: string | null } | undefined;
  action: string;
  related: ObjectReference | undefined;
  reportingController: string;
  reportingInstance: string;
}

function decodeSeries(v: unknown): InternalEvent['series'] {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw decodeError(`json: cannot unmarshal ${typeof v} into Go struct field Event.series of type v1.EventSeries`);
  return { count: decodeInt(v['count'], 'series.count'), lastObservedTime: decodeMicroTime(v['lastObservedTime'], 'series.lastObservedTime') };
}

function decodeSource(v: unknown, field: string): InternalEvent['source'] {
  if (v === undefined || v === null) return { component: '', host: '' };
  if (!isObject(v)) throw decodeError(`json: cannot unmarshal ${typeof v} into Go struct field Event.${field} of type v1.EventSource`);
  return { component: decodeString(v, 'component') ?? '', host: decodeString(v, 'host') ?? '' };
}

/** The JSON names of the fields the two versions name differently (staging/src/k8s.io/api/{core,events}/v1/types.go). */
interface FieldNames {
  involvedObject: string;
  message: string;
  source: string;
  firstTimestamp: string;
  lastTimestamp: string;
  count: string;
  reportingController: string;
}

/** Core v1 (the generated conversion: same names; ReportingController's JSON name is reportingComponent). */
const CORE_NAMES: FieldNames = {
  involvedObject: 'involvedObject',
  message: 'message',
  source: 'source',
  firstTimestamp: 'firstTimestamp',
  lastTimestamp: 'lastTimestamp',
  count: 'count',
  reportingController: 'reportingComponent',
};

/** Convert_v1_Event_To_core_Event: regarding -> involvedObject, note -> message, the deprecated* fields -> the legacy ones. */
const EVENTS_NAMES: FieldNames = {
  involvedObject: 'regarding',
  message: 'note',
  source: 'deprecatedSource',
  firstTimestamp: 'deprecatedFirstTimestamp',
  lastTimestamp: 'deprecatedLastTimestamp',
  count: 'deprecatedCount',
  reportingController: 'reportingController',
};

/** An Event body of either version to the internal Event. */
function decodeEvent(o: KubeObject, n: FieldNames): InternalEvent {
  return {
    metadata: o.metadata,
    involvedObject: decodeReference(o[n.involvedObject], n.involvedObject),
    reason: decodeString(o, 'reason') ?? '',
    message: decodeString(o, n.message) ?? '',
    source: decodeSource(o[n.source], n.source),
    firstTimestamp: decodeTime(o[n.firstTimestamp], n.firstTimestamp),
    lastTimestamp: decodeTime(o[n.lastTimestamp], n.lastTimestamp),
    count: decodeInt(o[n.count], n.count),
    type: decodeString(o, 'type') ?? '',
    eventTime: decodeMicroTime(o['eventTime'], 'eventTime'),
    series: decodeSeries(o['series']),
    action: decodeString(o, 'action') ?? '',
    related: o['related'] === undefined || o['related'] === null ? undefined : decodeReference(o['related'], 'related'),
    reportingController: decodeString(o, n.reportingController) ?? '',
    reportingInstance: decodeString(o, 'reportingInstance') ?? '',
  };
}

const fromCoreV1 = (o: KubeObject): InternalEvent => decodeEvent(o, CORE_NAMES);
const fromEventsV1 = (o: KubeObject): InternalEvent => decodeEvent(o, EVENTS_NAMES);

const source = (s: InternalEvent['source']) => ({ ...(s.component ? { component: s.component } : {}), ...(s.host ? { host: s.host } : {}) });

/**
 * The internal Event as core v1 JSON, the stored shape: omitempty strings and counts left out, zero timestamps
 * null (a struct is never omitted by encoding/json), reportingComponent and reportingInstance always present (no
 * omitempty on them).
 */
function toCoreV1(e: InternalEvent): KubeObject {
  return {
    kind: 'Event',
    apiVersion: 'v1',
    metadata: e.metadata,
    involvedObject: e.involvedObject,
    ...(e.reason ? { reason: e.reason } : {}),
    ...(e.message ? { message: e.message } : {}),
    source: source(e.source),
    firstTimestamp: e.firstTimestamp,
    lastTimestamp: e.lastTimestamp,
    ...(e.count ? { count: e.count } : {}),
    ...(e.type ? { type: e.type } : {}),
    eventTime: e.eventTime,
    ...(e.series ? { series: { ...(e.series.count ? { count: e.series.count } : {}), lastObservedTime: e.series.lastObservedTime } } : {}),
    ...(e.action ? { action: e.action } : {}),
    ...(e.related ? { related: e.related } : {}),
    reportingComponent: e.reportingController,
    reportingInstance: e.reportingInstance,
  };
}

/** Convert_core_Event_To_v1_Event, as events.k8s.io/v1 JSON (eventTime and series fields without omitempty). */
function toEventsV1(e: InternalEvent): EventV1 {
  return {
    kind: 'Event',
    apiVersion: 'events.k8s.io/v1',
    metadata: e.metadata,
    eventTime: e.eventTime,
    ...(e.series ? { series: { count: e.series.count, lastObservedTime: e.series.lastObservedTime as string } } : {}),
    ...(e.reportingController ? { reportingController: e.reportingController } : {}),
    ...(e.reportingInstance ? { reportingInstance: e.reportingInstance } : {}),
    ...(e.action ? { action: e.action } : {}),
    ...(e.reason ? { reason: e.reason } : {}),
    regarding: e.involvedObject,
    ...(e.related ? { related: e.related } : {}),
    ...(e.message ? { note: e.message } : {}),
    ...(e.type ? { type: e.type } : {}),
    deprecatedSource: source(e.source),
    deprecatedFirstTimestamp: e.firstTimestamp,
    deprecatedLastTimestamp: e.lastTimestamp,
    ...(e.count ? { deprecatedCount: e.count } : {}),
  };
}

/** A stored Event as the resource `r` (core v1 or events.k8s.io/v1) returns it. */
export function eventView(r: ResourceInfo, stored: KubeObject): KubeObject {
  const internal = fromCoreV1(stored);
  return isEventsV1(r) ? (toEventsV1(internal) as unknown as KubeObject) : toCoreV1(internal);
}

/** Which object's Events to read; absent fields match any. */
export interface EventRegarding {
  namespace: string;
  name?: string;
  kind?: string;
  uid?: string;
}

/** The stored Events regarding an object, in the events.k8s.io/v1 shape, oldest first (eventTime, else firstTimestamp). */
export function eventsRegarding(store: KubeStore, regarding: EventRegarding): EventV1[] {
  const matches = (ref: ObjectReference) =>
    ref.namespace === regarding.namespace &&
    (regarding.name === undefined || ref.name === regarding.name) &&
    (regarding.kind === undefined || ref.kind === regarding.kind) &&
    (regarding.uid === undefined || ref.uid === regarding.uid);
  const when = (e: EventV1) => e.eventTime ?? e.deprecatedFirstTimestamp ?? e.metadata.creationTimestamp ?? '';
  return store
    .list('events')
    .map((o) => toEventsV1(fromCoreV1(o)))
    .filter((e) => matches(e.regarding))
    .sort((a, b) => when(a).localeCompare(when(b)) || a.metadata.name.localeCompare(b.metadata.name));
}

// ---- validation (422 Invalid): pkg/apis/core/validation/events.go ----

interface FieldError {
  type: 'FieldValueRequired' | 'FieldValueInvalid';
  field: string;
  value?: unknown;
  detail: string;
}

const required = (field: string): FieldError => ({ type: 'FieldValueRequired', field, detail: '' });
const invalidField = (field: string, value: unknown, detail: string): FieldError => ({ type: 'FieldValueInvalid', field, value, detail });

/** field.Error.ErrorBody (staging/src/k8s.io/apimachinery/pkg/util/validation/field/errors.go). */
function errorBody(e: FieldError): string {
  const head = e.type === 'FieldValueRequired' ? 'Required value' : `Invalid value: ${JSON.stringify(e.value)}`;
  return e.detail ? `${head}: ${e.detail}` : head;
}

/**
 * errors.NewInvalid with the strategy's kind: the registry is core's, so the qualified kind is `Event` with no group
 * even for an events.k8s.io request (rest.BeforeCreate / BeforeUpdate take it from strategy.ObjectKinds). The
 * message aggregates the distinct errors (ErrorList.ToAggregate).
 */
function invalidEvent(name: string, errors: FieldError[]): ApiError {
  const messages = [...new Set(errors.map((e) => `${e.field}: ${errorBody(e)}`))];
  const aggregate = messages.length === 1 ? messages[0]! : `[${messages.join(', ')}]`;
  return new ApiError(422, 'Invalid', `Event "${name}" is invalid: ${aggregate}`, {
    name,
    kind: 'Event',
    causes: errors.map((e) => ({ reason: e.type, message: errorBody(e), field: e.field })),
  });
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const QUALIFIED_NAME_MESSAGE =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const DNS1123_SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

function dns1123Subdomain(v: string): string[] {
  return [...(byteLength(v) > 253 ? ['must be no more than 253 characters'] : []), ...(DNS1123_SUBDOMAIN.test(v) ? [] : [DNS1123_SUBDOMAIN_MESSAGE])];
}

/** validation.IsQualifiedName (staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go): [prefix/]name. */
function qualifiedName(v: string): string[] {
  const parts = v.split('/');
  if (parts.length > 2) {
    return [`a qualified name ${QUALIFIED_NAME_MESSAGE} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  const errs: string[] = [];
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (!prefix) errs.push('prefix part must be non-empty');
    else errs.push(...dns1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  }
  if (!name) errs.push('name part must be non-empty');
  else if (byteLength(name) > 63) errs.push('name part must be no more than 63 characters');
  if (!QUALIFIED_NAME.test(name)) errs.push(`name part ${QUALIFIED_NAME_MESSAGE}`);
  return errs;
}

const REPORTING_INSTANCE_LIMIT = 128;
const ACTION_LIMIT = 128;
const REASON_LIMIT = 128;
const NOTE_LIMIT = 1024;

/** legacyValidateEvent: every Event, whichever API wrote it. */
function legacyValidate(e: InternalEvent): FieldError[] {
  const errs: FieldError[] = [];
  const ns = e.metadata.namespace ?? '';
  const involvedNs = e.involvedObject.namespace ?? '';
  if (e.eventTime === null) {
    // An old-style Event: its namespace and its object's agree ("default" for a cluster-scoped object).
    if (involvedNs ? ns !== involvedNs : ns !== '' && ns !== 'default') errs.push(invalidField('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
  } else {
    // A new-style Event: only a cluster-scoped object's Events are confined to default or kube-system; a
    // namespaced object's namespace is not compared with the Event's.
    if (!involvedNs && ns !== 'default' && ns !== 'kube-system') errs.push(invalidField('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
    if (!e.reportingController) errs.push(required('reportingController'));
    for (const m of qualifiedName(e.reportingController)) errs.push(invalidField('reportingController', e.reportingController, m));
    if (!e.reportingInstance) errs.push(required('reportingInstance'));
    if (byteLength(e.reportingInstance) > REPORTING_INSTANCE_LIMIT) errs.push(invalidField('reportingInstance', '', `can have at most ${REPORTING_INSTANCE_LIMIT} characters`));
    if (!e.action) errs.push(required('action'));
    if (byteLength(e.action) > ACTION_LIMIT) errs.push(invalidField('action', '', `can have at most ${ACTION_LIMIT} characters`));
    if (!e.reason) errs.push(required('reason'));
    if (byteLength(e.reason) > REASON_LIMIT) errs.push(invalidField('reason', '', `can have at most ${REASON_LIMIT} characters`));
    // The internal name of `note` is message, and so is the field the error names.
    if (byteLength(e.message) > NOTE_LIMIT) errs.push(invalidField('message', '', `can have at most ${NOTE_LIMIT} characters`));
  }
  for (const m of dns1123Subdomain(ns)) errs.push(invalidField('namespace', ns, m));
  return errs;
}

/** validateV1EventSeries. */
function validateSeries(e: InternalEvent): FieldError[] {
  if (!e.series) return [];
  return [
    ...(e.series.count < 2 ? [invalidField('series.count', '', 'should be at least 2')] : []),
    ...(e.series.lastObservedTime === null ? [required('series.lastObservedTime')] : []),
  ];
}

/** ValidateEventCreate: the legacy rules always; the strict ones for events.k8s.io/v1 (not for core v1). */
function validateCreate(e: InternalEvent, strict: boolean): FieldError[] {
  const errs = legacyValidate(e);
  if (!strict) return errs;
  errs.push(...validateSeries(e));
  if (e.eventTime === null) errs.push(required('eventTime'));
  if (e.type !== 'Normal' && e.type !== 'Warning') errs.push(invalidField('type', '', `has invalid value: ${e.type}`));
  if (e.firstTimestamp !== null) errs.push(invalidField('firstTimestamp', '', 'needs to be unset'));
  if (e.lastTimestamp !== null) errs.push(invalidField('lastTimestamp', '', 'needs to be unset'));
  if (e.count !== 0) errs.push(invalidField('count', '', 'needs to be unset'));
  if (e.source.component || e.source.host) errs.push(invalidField('source', '', 'needs to be unset'));
  return errs;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** ValidateEventUpdate: for events.k8s.io/v1 only a changed series (a repeat's count and time) may differ. */
function validateUpdate(next: InternalEvent, old: InternalEvent, strict: boolean): FieldError[] {
  const errs = legacyValidate(next);
  if (!strict) return errs;
  if (!same(next.series, old.series)) errs.push(...validateSeries(next));
  const immutable: Array<[string, unknown, unknown]> = [
    ['involvedObject', next.involvedObject, old.involvedObject],
    ['reason', next.reason, old.reason],
    ['message', next.message, old.message],
    ['source', source(next.source), source(old.source)],
    ['firstTimestamp', next.firstTimestamp, old.firstTimestamp],
    ['lastTimestamp', next.lastTimestamp, old.lastTimestamp],
    ['count', next.count, old.count],
    ['type', next.type, old.type],
    ['eventTime', next.eventTime, old.eventTime],
    ['action', next.action, old.action],
    ['related', next.related, old.related],
    ['reportingController', next.reportingController, old.reportingController],
    ['reportingInstance', next.reportingInstance, old.reportingInstance],
  ];
  for (const [field, a, b] of immutable) if (!same(a, b)) errs.push(invalidField(field, a ?? null, 'field is immutable'));
  return errs;
}

/**
 * A write through `r`: the request body (already through prepareWrite) decoded, converted to the stored core
 * shape and validated as a create (`stored` undefined) or an update of `stored`. Throws 400 for what the decoder
 * refuses and 422 for what validation refuses.
 */
export function eventToStore(r: ResourceInfo, requested: KubeObject, stored?: KubeObject): KubeObject {
  const next = isEventsV1(r) ? fromEventsV1(requested) : fromCoreV1(requested);
  const strict = isEventsV1(r);
  const errs = stored ? validateUpdate(next, fromCoreV1(stored), strict) : validateCreate(next, strict);
  if (errs.length) throw invalidEvent(requested.metadata.name, errs);
  return toCoreV1(next);
}

// ---- field selectors (400 for a field the resource does not select on) ----

/** The fields an Event is selected by, from the stored (core v1) shape: ToSelectableFields. */
function selectableFields(o: KubeObject): Record<string, string> {
  const reportingController = str(o['reportingComponent']);
  return {
    'metadata.name': o.metadata.name,
    'metadata.namespace': o.metadata.namespace ?? '',
    ...Object.fromEntries(REFERENCE_FIELDS.map((k) => [`involvedObject.${k}`, str(get(o, 'involvedObject', k))])),
    reason: str(o['reason']),
    reportingComponent: reportingController,
    // "source" is the legacy source.component, else the reporting controller (PR kubernetes/kubernetes#92874).
    source: str(get(o, 'source', 'component')) || reportingController,
    type: str(o['type']),
  };
}

/** core v1: AddFieldLabelConversionsForEvent in pkg/apis/core/v1/conversion.go (labels kept as they are). */
const CORE_FIELD_LABELS: Record<string, string> = Object.fromEntries(
  [...REFERENCE_FIELDS.map((k) => `involvedObject.${k}`), 'reason', 'reportingComponent', 'source', 'type', 'metadata.namespace', 'metadata.name'].map((l) => [l, l]),
);

/** events.k8s.io/v1: AddFieldLabelConversionsForEvent in pkg/apis/events/v1/conversion.go (regarding.* -> involvedObject.*). */
const EVENTS_V1_FIELD_LABELS: Record<string, string> = {
  ...Object.fromEntries(REFERENCE_FIELDS.map((k) => [`regarding.${k}`, `involvedObject.${k}`])),
  reason: 'reason',
  reportingController: 'reportingComponent',
  source: 'source',
  type: 'type',
  'metadata.namespace': 'metadata.namespace',
  'metadata.name': 'metadata.name',
};

/** Splits on separators not escaped with a backslash (fields.splitTerms). */
function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) {
      cur += s[i]! + s[i + 1]!;
      i++;
    } else if (s[i] === sep) {
      out.push(cur);
      cur = '';
    } else cur += s[i]!;
  }
  out.push(cur);
  return out;
}

/** fields.splitTerm: the first unescaped operator, `!=` and `==` before `=`. */
function splitTerm(term: string): [string, '!=' | '==' | '=', string] | undefined {
  for (let i = 0; i < term.length; i++) {
    if (term[i] === '\\') {
      i++;
      continue;
    }
    for (const op of ['!=', '==', '='] as const) if (term.startsWith(op, i)) return [term.slice(0, i), op, term.slice(i + op.length)];
  }
  return undefined;
}

/** fields.UnescapeValue: `\\`, `\,` and `\=` only. */
function unescapeValue(v: string, selector: string): string {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    if (v[i] !== '\\') {
      out += v[i]!;
      continue;
    }
    const c = v[i + 1];
    if (c !== '\\' && c !== ',' && c !== '=') throw badRequest(`invalid field selector: '${selector}': invalid escape sequence`);
    out += c;
    i++;
  }
  return out;
}

/**
 * The field selector of a list or watch of `r`, as a test on stored Events. Each label goes through the
 * resource's conversion first, so an unsupported one is refused as kube-apiserver refuses it:
 * 400 "field label not supported: X".
 */
export function eventFieldSelector(r: ResourceInfo, selector: string | null): (stored: KubeObject) => boolean {
  if (!selector) return () => true;
  const labels = isEventsV1(r) ? EVENTS_V1_FIELD_LABELS : CORE_FIELD_LABELS;
  const tests = splitUnescaped(selector, ',')
    .filter(Boolean)
    .map((term) => {
      const parts = splitTerm(term);
      if (!parts) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
      const [label, op, raw] = parts;
      const field = labels[label];
      if (field === undefined) throw badRequest(`field label not supported: ${label}`);
      const want = unescapeValue(raw, selector);
      return (fields: Record<string, string>) => (op === '!=' ? fields[field] !== want : fields[field] === want);
    });
  return (o) => {
    const fields = selectableFields(o);
    return tests.every((t) => t(fields));
  };
}

// ---- the server-side table (`kubectl get events`), the same for both groups: they share the registry ----

const since = (t: unknown): string => (typeof t === 'string' && t ? humanDuration(Date.now() - Date.parse(t)) : '<unknown>');

const column = (name: string, priority: number, description: string, format = '') => ({ name, type: 'string', format, description, priority });

const EVENT_COLUMNS = [
  column('Last Seen', 0, 'The time at which the most recent occurrence of this event was recorded.'),
  column('Type', 0, 'Type of this event (Normal, Warning), new types could be added in the future'),
  column('Reason', 0, "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
  column('Object', 0, 'The object that this event is about.'),
  column('Subobject', 1, 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.'),
  column('Source', 1, 'The component reporting this event. Should be a short machine understandable string.'),
  column('Message', 0, 'A human-readable description of the status of this operation.'),
  column('First Seen', 1, 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)'),
  column('Count', 1, 'The number of times this event has occurred.'),
  column('Name', 1, 'Name must be unique within a namespace.', 'name'),
];

/** printEvent with Wide (the table convertor asks for every column; kubectl hides priority 1 unless -o wide). */
function eventCells(o: KubeObject): unknown[] {
  const e = fromCoreV1(o);
  const firstSeen = e.firstTimestamp !== null ? since(e.firstTimestamp) : since(e.eventTime);
  let lastSeen = e.lastTimestamp !== null ? since(e.lastTimestamp) : firstSeen;
  let count = e.count;
  if (e.series) {
    lastSeen = since(e.series.lastObservedTime);
    count = e.series.count;
  } else if (count === 0) count = 1; // singleton events don't have a count set in the new API
  const kind = (e.involvedObject.kind ?? '').toLowerCase();
  const target = e.involvedObject.name ? `${kind}/${e.involvedObject.name}` : kind;
  const component = e.source.component || e.reportingController;
  const instance = e.source.host || e.reportingInstance;
  return [
    lastSeen,
    e.type,
    e.reason,
    target,
    e.involvedObject.fieldPath ?? '',
    instance ? `${component}, ${instance}` : component,
    e.message.trim(),
    firstSeen,
    count,
    o.metadata.name,
  ];
}

/** The meta.k8s.io Table for stored Events listed or got through `r`. */
export function eventTable(r: ResourceInfo, stored: KubeObject[], resourceVersion: string, include: IncludeObject, apiVersion = 'meta.k8s.io/v1') {
  return {
    kind: 'Table',
    apiVersion,
    metadata: { resourceVersion },
    columnDefinitions: EVENT_COLUMNS,
    rows: stored.map((o) => {
      const view = eventView(r, o);
      return {
        cells: eventCells(o),
        ...(include === 'None' ? {} : { object: include === 'Object' ? view : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: view.metadata } }),
      };
    }),
  };
}
