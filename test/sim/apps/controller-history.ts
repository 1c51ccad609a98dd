// ControllerRevisions, the template history of StatefulSets and DaemonSets (kubernetes/kubernetes
// pkg/controller/history/controller_history.go; statefulset/stateful_set_utils.go getPatch and newRevision;
// daemon/update.go constructHistory and snapshot). A revision holds the template as a strategic merge patch
// (`{"spec":{"template":{...,"$patch":"replace"}}}`) and a number; an equal template reuses its revision, renumbered
// as the newest; revisions no pod uses beyond revisionHistoryLimit are removed (truncateHistory).
import type { KubeObject, KubeStore } from '../kube/store.js';
import { canonicalJson, templateHash } from './names.js';
import { controllerRef, get, num, owned, type Obj } from './workloads.js';

export interface Revisions {
  /** The revision of the current template (status.updateRevision of a StatefulSet). */
  update: KubeObject;
  all: KubeObject[];
  /** The hash the pods of `update` carry in controller-revision-hash (a StatefulSet: the revision name; a DaemonSet: the hash). */
  podHash: string;
}

const byRevision = (a: KubeObject, b: KubeObject) => num(a['revision']) - num(b['revision']);

/** The template a revision holds. */
export function revisionTemplate(revision: KubeObject): Obj {
  const t = structuredClone((get(revision, 'data', 'spec', 'template') ?? {}) as Obj);
  delete t['$patch'];
  return t;
}

/** Finds or creates the revision of the owner's current template. */
export function syncRevisions(store: KubeStore, owner: KubeObject, kind: 'statefulset' | 'daemonset'): Revisions {
  const template = (get(owner, 'spec', 'template') ?? {}) as Obj;
  const data = { spec: { template: { ...template, $patch: 'replace' } } };
  const collisionCount = num(get(owner, 'status', 'collisionCount')) || undefined;
  // A StatefulSet hashes the revision's data (HashControllerRevision), a DaemonSet its template (ComputeHash).
  const hash = kind === 'statefulset' ? templateHash(data, collisionCount) : templateHash(template, collisionCount);
  const name = `${owner.metadata.name.slice(0, 223)}-${hash}`;
  let all = owned(store, 'controllerrevisions', owner).sort(byRevision);
  const max = all.length ? num(all[all.length - 1]!['revision']) : 0;
  let update = all.find((r) => canonicalJson(r['data']) === canonicalJson(data));
  if (update && update !== all[all.length - 1]) {
    update = store.update('controllerrevisions', { ...update, metadata: { ...update.metadata, resourceVersion: undefined }, revision: max + 1 });
  } else if (!update) {
    const labels = { ...((get(template, 'metadata', 'labels') as Record<string, string> | undefined) ?? {}) };
    if (kind === 'statefulset') labels['controller.kubernetes.io/hash'] = hash;
    else labels['controller-revision-hash'] = hash;
    update = store.create('controllerrevisions', {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name,
        namespace: owner.metadata.namespace,
        labels,
        ...(kind === 'daemonset' && owner.metadata.annotations ? { annotations: { ...owner.metadata.annotations } } : {}),
        ownerReferences: [controllerRef(owner)],
      },
      data,
      revision: max + 1,
    });
  }
  all = owned(store, 'controllerrevisions', owner).sort(byRevision);
  return { update, all, podHash: kind === 'statefulset' ? update.metadata.name : hash };
}

/** truncateHistory: keeps the live revisions and at most revisionHistoryLimit others, the newest. */
export function truncateHistory(store: KubeStore, owner: KubeObject, all: KubeObject[], live: Set<string>): void {
  const limit = num(get(owner, 'spec', 'revisionHistoryLimit'), 10);
  const history = all.filter((r) => !live.has(r.metadata.name)).sort(byRevision);
  for (const r of history.slice(0, Math.max(0, history.length - limit))) store.delete('controllerrevisions', r.metadata.namespace, r.metadata.name);
}
