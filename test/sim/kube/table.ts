// Server-side printing: `kubectl get` asks for a meta.k8s.io/v1 Table and prints its columns.
import type { KubeObject } from './store.js';

type Column = { name: string; type: string; format: string; description: string; priority: number; cell: (o: KubeObject) => unknown };

/** The real apimachinery HumanDuration buckets ("45s", "3m20s", "2h5m", "4d"...). */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 192) return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
  if (d < 365 * 2) return `${d}d`;
  const y = Math.floor(d / 365);
  if (d < 365 * 8) return d % 365 ? `${y}y${d % 365}d` : `${y}y`;
  return `${y}y`;
}

const get = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((cur, k) => (cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined), o);

const col = (name: string, cell: Column['cell'], type = 'string', format = '', description = ''): Column => ({
  name,
  type,
  format,
  description,
  priority: 0,
  cell,
});

const nameCol = col('Name', (o) => o.metadata.name, 'string', 'name', 'Name must be unique within a namespace.');
const ageCol = col(
  'Age',
  (o) => (o.metadata.creationTimestamp ? humanDuration(Date.now() - Date.parse(o.metadata.creationTimestamp)) : '<unknown>'),
  'string',
  '',
  'CreationTimestamp is a timestamp representing the server time when this object was created.',
);

const count = (o: unknown, field: string) => Object.keys((get(o, field) as object | undefined) ?? {}).length;

function podReady(o: KubeObject): string {
  const containers = (get(o, 'spec', 'containers') as unknown[] | undefined) ?? [];
  const statuses = (get(o, 'status', 'containerStatuses') as Array<{ ready?: boolean }> | undefined) ?? [];
  return `${statuses.filter((s) => s.ready).length}/${containers.length}`;
}

function podRestarts(o: KubeObject): number {
  const statuses = (get(o, 'status', 'containerStatuses') as Array<{ restartCount?: number }> | undefined) ?? [];
  return statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0);
}

/** A CRD printer column without a description: apiextensions describes it by its JSONPath. */
const crdCol = (name: string, jsonPath: string, cell: Column['cell']) => col(name, cell, 'string', '', `Custom resource definition column (in JSONPath format): ${jsonPath}`);

const COLUMNS: Record<string, Column[]> = {
  pods: [
    nameCol,
    col('Ready', podReady, 'string', '', 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', (o) => get(o, 'status', 'phase') ?? 'Unknown', 'string', '', 'The aggregate status of the containers in this pod.'),
    col('Restarts', podRestarts, 'string', '', 'The number of times the containers in this pod have been restarted.'),
    ageCol,
  ],
  secrets: [nameCol, col('Type', (o) => o['type'] ?? 'Opaque'), col('Data', (o) => count(o, 'data'), 'string'), ageCol],
  configmaps: [nameCol, col('Data', (o) => count(o, 'data') + count(o, 'binaryData'), 'string'), ageCol],
  namespaces: [nameCol, col('Status', (o) => get(o, 'status', 'phase') ?? 'Active'), ageCol],
  redisenterpriseclusters: [
    nameCol,
    col('Nodes', (o) => get(o, 'spec', 'nodes') ?? '', 'integer'),
    col('Version', (o) => get(o, 'status', 'redisEnterpriseVersion') ?? ''),
    col('State', (o) => get(o, 'status', 'state') ?? ''),
    col('Spec Status', (o) => get(o, 'status', 'specStatus') ?? ''),
    ageCol,
  ],
  // CRD additionalPrinterColumns (RedisLabs/redis-enterprise-k8s-docs crds/rerc_crd.yaml, crds/reaadb_crd.yaml): with
  // columns given, apiextensions serves Name plus exactly those, no Age; a missing value is a null cell.
  redisenterpriseremoteclusters: [
    nameCol,
    crdCol('Status', '.status.status', (o) => crdString(o, 'status', 'status')),
    crdCol('Spec Status', '.status.specStatus', (o) => crdString(o, 'status', 'specStatus')),
    crdCol('Local', '.status.local', (o) => crdString(o, 'status', 'local')),
  ],
  redisenterpriseactiveactivedatabases: [
    nameCol,
    crdCol('Status', '.status.status', (o) => crdString(o, 'status', 'status')),
    crdCol('Spec Status', '.status.specStatus', (o) => crdString(o, 'status', 'specStatus')),
    // `.status.linkedRedbs[*]`: the table convertor keeps the first result only.
    crdCol('Linked REDBs', '.status.linkedRedbs[*]', (o) => crdString(o, 'status', 'linkedRedbs', '0')),
    crdCol('Replication Status', '.status.replicationStatus', (o) => crdString(o, 'status', 'replicationStatus')),
  ],
};

/** A `type: string` printer column as apiextensions fills it: the JSONPath value printed (true -> "true"), or null. */
function crdString(o: KubeObject, ...path: string[]): string | null {
  const v = get(o, ...path);
  if (v === undefined || v === null) return null;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** True when Accept asks for a Table (kubectl: `application/json;as=Table;v=v1;g=meta.k8s.io,...`). */
export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((p) => /;\s*as=Table/.test(p) && /;\s*g=meta\.k8s\.io/.test(p) && /;\s*v=v1(beta1)?\b/.test(p));
}

export function tableApiVersion(accept: string | undefined): string {
  const first = (accept ?? '').split(',').find((p) => /as=Table/.test(p)) ?? '';
  return /v=v1beta1/.test(first) ? 'meta.k8s.io/v1beta1' : 'meta.k8s.io/v1';
}

export function toTable(resource: string, objects: KubeObject[], resourceVersion: string, include: IncludeObject, apiVersion = 'meta.k8s.io/v1') {
  const columns = COLUMNS[resource] ?? [nameCol, ageCol];
  return {
    kind: 'Table',
    apiVersion,
    metadata: { resourceVersion },
    columnDefinitions: columns.map(({ cell: _cell, ...c }) => c),
    rows: objects.map((o) => ({
      cells: columns.map((c) => c.cell(o)),
      ...(include === 'None'
        ? {}
        : {
            object: include === 'Object' ? o : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
          }),
    })),
  };
}
