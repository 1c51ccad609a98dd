// Kubernetes Events (events.k8s.io/v1) about an object, created as client-go's events recorder creates them
// (staging/src/k8s.io/client-go/tools/events/event_recorder.go: named "<regarding>.<hex nanoseconds>", eventTime
// a MicroTime, reportingController and reportingInstance set) and within the API server's validation
// (pkg/apis/core/validation/events.go, ValidateEventCreate for events.k8s.io/v1).
import { hostname } from 'node:os';
import type { Cluster } from './cluster.js';

export interface EventRegarding {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid?: string;
}

export interface NewEvent {
  type: 'Normal' | 'Warning';
  /** CamelCase, stable: what alerts and `kubectl get events --field-selector reason=...` match on. */
  reason: string;
  /** What was being done: the operation. */
  action: string;
  /** Human-readable; at most 1 kB (NoteLengthLimit). */
  note: string;
}

/** A qualified name, as validation requires (ValidateQualifiedName). */
export const REPORTING_CONTROLLER = 'reccred.redis.io/kubectl-reccred';
const NOTE_LIMIT = 1024;
const FIELD_LIMIT = 128;

// Names must not repeat within a process even for two events in one millisecond.
let lastNanos = 0n;
function uniqueNanos(now: Date): bigint {
  const nanos = BigInt(now.getTime()) * 1_000_000n;
  lastNanos = nanos > lastNanos ? nanos : lastNanos + 1n;
  return lastNanos;
}

/** RFC 3339 with microseconds, as metav1.MicroTime serializes. */
const microTime = (d: Date) => d.toISOString().replace(/Z$/, '000Z');

function cut(text: string, limitBytes: number): string {
  const b = Buffer.from(text, 'utf8');
  if (b.length <= limitBytes) return text;
  // Cut on a character boundary, with room for the ellipsis.
  let s = b.subarray(0, limitBytes - 3).toString('utf8');
  if (s.endsWith('\uFFFD')) s = s.slice(0, -1);
  return `${s}...`;
}

export const reportingInstance = () => cut(`kubectl-reccred@${hostname()}`, FIELD_LIMIT);

export async function createEvent(cluster: Cluster, regarding: EventRegarding, e: NewEvent): Promise<void> {
  const now = new Date();
  await cluster.api.send('POST', `/apis/events.k8s.io/v1/namespaces/${regarding.namespace}/events`, {
    body: {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: `${regarding.name}.${uniqueNanos(now).toString(16)}`, namespace: regarding.namespace },
      eventTime: microTime(now),
      type: e.type,
      reason: cut(e.reason, FIELD_LIMIT),
      action: cut(e.action, FIELD_LIMIT),
      note: cut(e.note, NOTE_LIMIT),
      regarding,
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: reportingInstance(),
    },
  });
}
