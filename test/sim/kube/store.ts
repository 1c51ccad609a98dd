// The simulated cluster's object store: what etcd plus the API server's storage layer would give.
import { randomUUID } from 'node:crypto';

export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
};

/** Resources the simulated API server serves, by plural name. */
export type Resource =
  | 'namespaces'
  | 'secrets'
  | 'pods'
  | 'configmaps'
  | 'events'
  | 'redisenterpriseclusters'
  | 'redisenterpriseusers'
  | 'redisenterpriseremoteclusters'
  | 'redisenterpriseactiveactivedatabases'
  // apps/v1 (test/sim/apps/).
  | 'deployments'
  | 'statefulsets'
  | 'daemonsets'
  | 'replicasets'
  | 'controllerrevisions';

export type StoreEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; resource: Resource; object: KubeObject };

export class StoreError extends Error {
  constructor(
    readonly code: 404 | 409 | 422,
    readonly reason: 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Invalid',
    message: string,
  ) {
    super(message);
  }
}

const key = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;

export class KubeStore {
  private revision = 1;
  private readonly data = new Map<Resource, Map<string, KubeObject>>();
  private readonly listeners = new Set<(e: StoreEvent) => void>();

  private bucket(resource: Resource): Map<string, KubeObject> {
    let b = this.data.get(resource);
    if (!b) this.data.set(resource, (b = new Map()));
    return b;
  }

  get(resource: Resource, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.bucket(resource).get(key(namespace, name));
    return o && structuredClone(o);
  }

  /** The stored object itself, for a reader that only looks (the kubelet asks for every pod's Secret ten times a second). */
  peek(resource: Resource, namespace: string | undefined, name: string): Readonly<KubeObject> | undefined {
    return this.bucket(resource).get(key(namespace, name));
  }

  mustGet(resource: Resource, namespace: string | undefined, name: string): KubeObject {
    const o = this.get(resource, namespace, name);
    if (!o) throw new StoreError(404, 'NotFound', `${resource} "${name}" not found`);
    return o;
  }

  list(resource: Resource, namespace?: string, labelSelector?: string): KubeObject[] {
    const match = parseLabelSelector(labelSelector ?? '');
    return [...this.bucket(resource).values()]
      .filter((o) => namespace === undefined || o.metadata.namespace === namespace)
      .filter((o) => match(o.metadata.labels ?? {}))
      .sort((a, b) => key(a.metadata.namespace, a.metadata.name).localeCompare(key(b.metadata.namespace, b.metadata.name)))
      .map((o) => structuredClone(o));
  }

  listRevision(): string {
    return String(this.revision);
  }

  create(resource: Resource, object: KubeObject): KubeObject {
    const b = this.bucket(resource);
    const k = key(object.metadata.namespace, object.metadata.name);
    if (b.has(k)) throw new StoreError(409, 'AlreadyExists', `${resource} "${object.metadata.name}" already exists`);
    const stored = structuredClone(object);
    stored.metadata.uid = randomUUID();
    stored.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    stored.metadata.resourceVersion = String(++this.revision);
    b.set(k, stored);
    this.emit({ type: 'ADDED', resource, object: stored });
    return structuredClone(stored);
  }

  /** Replaces an object; a non-empty resourceVersion in the new object is a precondition (409 on mismatch). */
  update(resource: Resource, object: KubeObject): KubeObject {
    const b = this.bucket(resource);
    const k = key(object.metadata.namespace, object.metadata.name);
    const current = b.get(k);
    if (!current) throw new StoreError(404, 'NotFound', `${resource} "${object.metadata.name}" not found`);
    const rv = object.metadata.resourceVersion;
    if (rv && rv !== current.metadata.resourceVersion) {
      throw new StoreError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${resource} "${object.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    const stored = structuredClone(object);
    stored.metadata.uid = current.metadata.uid;
    stored.metadata.creationTimestamp = current.metadata.creationTimestamp;
    stored.metadata.resourceVersion = String(++this.revision);
    b.set(k, stored);
    this.emit({ type: 'MODIFIED', resource, object: stored });
    return structuredClone(stored);
  }

  delete(resource: Resource, namespace: string | undefined, name: string): KubeObject {
    const b = this.bucket(resource);
    const k = key(namespace, name);
    const current = b.get(k);
    if (!current) throw new StoreError(404, 'NotFound', `${resource} "${name}" not found`);
    b.delete(k);
    this.emit({ type: 'DELETED', resource, object: current });
    return structuredClone(current);
  }

  onChange(listener: (e: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: StoreEvent): void {
    for (const l of this.listeners) l(structuredClone(e));
  }
}

/** Equality- and set-based label selectors, as `kubectl get -l` sends them. */
export function parseLabelSelector(selector: string): (labels: Record<string, string>) => boolean {
  const terms = selector
    .split(/,(?![^(]*\))/)
    .map((t) => t.trim())
    .filter(Boolean);
  const tests = terms.map((term): ((l: Record<string, string>) => boolean) => {
    let m: RegExpMatchArray | null;
    if ((m = term.match(/^([^!=\s]+)\s*!=\s*(.*)$/))) {
      const [, k, v] = m as unknown as [string, string, string];
      return (l) => l[k] !== v;
    }
    if ((m = term.match(/^([^!=\s]+)\s*==?\s*(.*)$/))) {
      const [, k, v] = m as unknown as [string, string, string];
      return (l) => l[k] === v;
    }
    if ((m = term.match(/^(\S+)\s+(in|notin)\s+\((.*)\)$/))) {
      const [, k, op, vs] = m as unknown as [string, string, string, string];
      const set = new Set(vs.split(',').map((s) => s.trim()));
      return op === 'in' ? (l) => l[k] !== undefined && set.has(l[k]!) : (l) => l[k] === undefined || !set.has(l[k]!);
    }
    if ((m = term.match(/^!(\S+)$/))) {
      const k = m[1]!;
      return (l) => !(k in l);
    }
    return (l) => term in l;
  });
  return (labels) => tests.every((t) => t(labels));
}
