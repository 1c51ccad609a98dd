// What a client cost the simulated cluster, read from its audit log (test/sim/audit.ts): the same counting for the
// plugin and for the manual procedure's kubectl commands.
import type { AuditEvent } from '../../../test/sim/audit.js';

export interface AuditCounts {
  /** Kubernetes API requests other than discovery and exec upgrades. */
  requests: number;
  /** The WebSocket upgrade of each exec (one API round trip each). */
  execUpgrades: number;
  /** GET /api, /api/v1, /apis, /apis/GROUP[/VERSION], /openapi/..., /version: what a client reads to learn the server. */
  discovery: number;
  /** Commands the API server ran in a pod. */
  execSessions: number;
  /** Requests to the Redis Enterprise REST API inside the pods. */
  rest: number;
  /** REST requests answered with anything but 2xx. */
  restFailures: number;
  /** Audit records (API URIs, exec commands, argv inside the pods) that contain one of the given passwords. */
  passwordRecords: number;
}

export function isDiscovery(uri: string): boolean {
  const p = uri.split('?')[0]!;
  return /^\/api(\/v1)?\/?$/.test(p) || /^\/apis(\/[^/]+){0,2}\/?$/.test(p) || p.startsWith('/openapi/') || p === '/version';
}

export function countAudit(events: readonly AuditEvent[], passwords: string[]): AuditCounts {
  const api = events.filter((e): e is Extract<AuditEvent, { kind: 'api' }> => e.kind === 'api');
  const discovery = api.filter((e) => e.method === 'GET' && isDiscovery(e.uri)).length;
  const execUpgrades = api.filter((e) => /\/(exec|attach)\?/.test(e.uri)).length;
  const rest = events.filter((e): e is Extract<AuditEvent, { kind: 'rest' }> => e.kind === 'rest');
  const leaky = events.filter((e) => e.kind === 'api' || e.kind === 'exec' || e.kind === 'argv');
  return {
    requests: api.length - discovery - execUpgrades,
    execUpgrades,
    discovery,
    execSessions: events.filter((e) => e.kind === 'exec').length,
    rest: rest.length,
    restFailures: rest.filter((e) => e.status < 200 || e.status > 299).length,
    passwordRecords: leaky.filter((e) => passwords.some((p) => p && JSON.stringify(e).includes(JSON.stringify(p).slice(1, -1)))).length,
  };
}
