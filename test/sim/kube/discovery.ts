// What the server serves and how it describes itself. kubectl (1.30+) reads aggregated discovery
// (apidiscovery.k8s.io v2, or v2beta1 for older clients) and only falls back to the legacy
// per-group documents when Accept asks for plain JSON; the content type must match exactly.
import type { Resource } from './store.js';

export interface ResourceInfo {
  /** Plural name, as in the URL. */
  name: string;
  /** The store bucket, absent for virtual resources (reviews). */
  store?: Resource;
  group: string;
  version: string;
  kind: string;
  singular: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  subresources: Array<{ name: string; kind: string; group?: string; version?: string; verbs: string[] }>;
  /** Strategic merge patch only exists for built-in types; custom resources answer 415. */
  strategicMerge: boolean;
}

const RW = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const RESOURCES: ResourceInfo[] = [
  {
    name: 'namespaces',
    store: 'namespaces',
    group: '',
    version: 'v1',
    kind: 'Namespace',
    singular: 'namespace',
    namespaced: false,
    verbs: ['get', 'list', 'watch'],
    shortNames: ['ns'],
    subresources: [],
    strategicMerge: true,
  },
  {
    name: 'secrets',
    store: 'secrets',
    group: '',
    version: 'v1',
    kind: 'Secret',
    singular: 'secret',
    namespaced: true,
    verbs: RW,
    subresources: [],
    strategicMerge: true,
  },
  {
    name: 'configmaps',
    store: 'configmaps',
    group: '',
    version: 'v1',
    kind: 'ConfigMap',
    singular: 'configmap',
    namespaced: true,
    verbs: RW,
    shortNames: ['cm'],
    subresources: [],
    strategicMerge: true,
  },
  {
    name: 'pods',
    store: 'pods',
    group: '',
    version: 'v1',
    kind: 'Pod',
    singular: 'pod',
    namespaced: true,
    verbs: ['get', 'list', 'watch'],
    shortNames: ['po'],
    categories: ['all'],
    strategicMerge: true,
    subresources: [
      { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'status', kind: 'Pod', verbs: ['get'] },
    ],
  },
  {
    // Events: one store, two views (test/sim/kube/events.ts); also written in-process by the simulated kubelet of
    // application pods (test/sim/apps/app-kubelet.ts). Verbs and the short name as kube-apiserver lists them.
    name: 'events',
    store: 'events',
    group: '',
    version: 'v1',
    kind: 'Event',
    singular: 'event',
    namespaced: true,
    verbs: RW,
    shortNames: ['ev'],
    subresources: [],
    strategicMerge: true,
  },
  // apps/v1 as kube-apiserver 1.31 lists it (short names, category `all`, status subresources); the `scale`
  // subresources are not simulated. Controllers: test/sim/apps/.
  {
    name: 'deployments',
    store: 'deployments',
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    singular: 'deployment',
    namespaced: true,
    verbs: RW,
    shortNames: ['deploy'],
    categories: ['all'],
    strategicMerge: true,
    subresources: [{ name: 'status', kind: 'Deployment', verbs: ['get', 'patch', 'update'] }],
  },
  {
    name: 'statefulsets',
    store: 'statefulsets',
    group: 'apps',
    version: 'v1',
    kind: 'StatefulSet',
    singular: 'statefulset',
    namespaced: true,
    verbs: RW,
    shortNames: ['sts'],
    categories: ['all'],
    strategicMerge: true,
    subresources: [{ name: 'status', kind: 'StatefulSet', verbs: ['get', 'patch', 'update'] }],
  },
  {
    name: 'daemonsets',
    store: 'daemonsets',
    group: 'apps',
    version: 'v1',
    kind: 'DaemonSet',
    singular: 'daemonset',
    namespaced: true,
    verbs: RW,
    shortNames: ['ds'],
    categories: ['all'],
    strategicMerge: true,
    subresources: [{ name: 'status', kind: 'DaemonSet', verbs: ['get', 'patch', 'update'] }],
  },
  {
    // Owned by the Deployment controller: read-only here.
    name: 'replicasets',
    store: 'replicasets',
    group: 'apps',
    version: 'v1',
    kind: 'ReplicaSet',
    singular: 'replicaset',
    namespaced: true,
    verbs: ['get', 'list', 'watch'],
    shortNames: ['rs'],
    categories: ['all'],
    strategicMerge: true,
    subresources: [{ name: 'status', kind: 'ReplicaSet', verbs: ['get'] }],
  },
  {
    // The StatefulSet and DaemonSet template history (`kubectl rollout history`): read-only here.
    name: 'controllerrevisions',
    store: 'controllerrevisions',
    group: 'apps',
    version: 'v1',
    kind: 'ControllerRevision',
    singular: 'controllerrevision',
    namespaced: true,
    verbs: ['get', 'list', 'watch'],
    strategicMerge: true,
    subresources: [],
  },
  {
    // events.k8s.io/v1 (GA in 1.19): the same Events as core v1 `events`, another shape (test/sim/kube/events.ts).
    // kube-apiserver lists it after apps and gives it no short name (`ev` is core's), so kubectl resolves
    // `events` and `ev` to core v1 and `events.events.k8s.io` to this one.
    name: 'events',
    store: 'events',
    group: 'events.k8s.io',
    version: 'v1',
    kind: 'Event',
    singular: 'event',
    namespaced: true,
    verbs: RW,
    subresources: [],
    strategicMerge: true,
  },
  {
    name: 'redisenterpriseclusters',
    store: 'redisenterpriseclusters',
    group: 'app.redislabs.com',
    version: 'v1',
    kind: 'RedisEnterpriseCluster',
    singular: 'redisenterprisecluster',
    namespaced: true,
    verbs: RW,
    shortNames: ['rec'],
    categories: ['all'],
    strategicMerge: false,
    subresources: [{ name: 'status', kind: 'RedisEnterpriseCluster', verbs: ['get', 'patch', 'update'] }],
  },
  {
    // Operator 8.2.0-12 (content/operate/kubernetes/reference/api/redis_enterprise_user_api.md: group
    // app.redislabs.com/v1alpha1, kind RedisEnterpriseUser; access-control/manage-users.md uses
    // `kubectl get redisenterpriseuser alice`). No short name is documented. Its status is the
    // controller's (test/sim/redis/user-controller.ts): a status subresource, so spec writes keep it.
    name: 'redisenterpriseusers',
    store: 'redisenterpriseusers',
    group: 'app.redislabs.com',
    version: 'v1alpha1',
    kind: 'RedisEnterpriseUser',
    singular: 'redisenterpriseuser',
    namespaced: true,
    verbs: RW,
    strategicMerge: false,
    subresources: [{ name: 'status', kind: 'RedisEnterpriseUser', verbs: ['get', 'patch', 'update'] }],
  },
  {
    // Active-Active (operator 6.4.2-6+, content/operate/kubernetes/active-active/edit-rerc.md): RedisLabs/redis-enterprise-k8s-docs
    // crds/rerc_crd.yaml (app.redislabs.com/v1alpha1, shortName rerc, Namespaced, subresources.status). Status is the
    // simulated RERC controller's (test/sim/active-active/rerc-controller.ts).
    name: 'redisenterpriseremoteclusters',
    store: 'redisenterpriseremoteclusters',
    group: 'app.redislabs.com',
    version: 'v1alpha1',
    kind: 'RedisEnterpriseRemoteCluster',
    singular: 'redisenterpriseremotecluster',
    namespaced: true,
    verbs: RW,
    shortNames: ['rerc'],
    strategicMerge: false,
    subresources: [{ name: 'status', kind: 'RedisEnterpriseRemoteCluster', verbs: ['get', 'patch', 'update'] }],
  },
  {
    // crds/reaadb_crd.yaml (app.redislabs.com/v1alpha1, shortName reaadb, Namespaced, subresources.status).
    name: 'redisenterpriseactiveactivedatabases',
    store: 'redisenterpriseactiveactivedatabases',
    group: 'app.redislabs.com',
    version: 'v1alpha1',
    kind: 'RedisEnterpriseActiveActiveDatabase',
    singular: 'redisenterpriseactiveactivedatabase',
    namespaced: true,
    verbs: RW,
    shortNames: ['reaadb'],
    strategicMerge: false,
    subresources: [{ name: 'status', kind: 'RedisEnterpriseActiveActiveDatabase', verbs: ['get', 'patch', 'update'] }],
  },
  {
    name: 'selfsubjectaccessreviews',
    group: 'authorization.k8s.io',
    version: 'v1',
    kind: 'SelfSubjectAccessReview',
    singular: 'selfsubjectaccessreview',
    namespaced: false,
    verbs: ['create'],
    subresources: [],
    strategicMerge: false,
  },
];

/** What a server without the RedisEnterpriseUser CRD serves (an operator before 8.2.0-12). */
export const WITHOUT_USER_CRD = RESOURCES.filter((r) => r.name !== 'redisenterpriseusers');

/** The Active-Active CRDs (RERC, REAADB), absent before operator 6.4.2-6 (content/operate/kubernetes/active-active/edit-rerc.md). */
export const ACTIVE_ACTIVE_CRDS = ['redisenterpriseremoteclusters', 'redisenterpriseactiveactivedatabases'];

// Each function below takes the resources one server serves (default: all of them).
export function findResource(group: string, version: string, name: string, served = RESOURCES): ResourceInfo | undefined {
  return served.find((r) => r.group === group && r.version === version && r.name === name);
}

const groups = (served: ResourceInfo[]) => [...new Set(served.filter((r) => r.group !== '').map((r) => r.group))];
const versionsOf = (group: string, served: ResourceInfo[]) => [...new Set(served.filter((r) => r.group === group).map((r) => r.version))];
const gv = (group: string, version: string) => (group ? `${group}/${version}` : version);

export type DiscoveryFormat = { kind: 'aggregated'; version: 'v2' | 'v2beta1' } | { kind: 'legacy' };

/** Picks the first aggregated form the client lists in Accept, else the legacy documents. */
export function negotiateDiscovery(accept: string | undefined): DiscoveryFormat {
  for (const part of (accept ?? '').split(',')) {
    const params = new Map(
      part
        .split(';')
        .slice(1)
        .map((p) => p.trim().split('=') as [string, string]),
    );
    if (params.get('g') === 'apidiscovery.k8s.io' && params.get('as') === 'APIGroupDiscoveryList') {
      const v = params.get('v');
      if (v === 'v2' || v === 'v2beta1') return { kind: 'aggregated', version: v };
    }
  }
  return { kind: 'legacy' };
}

export const aggregatedContentType = (v: 'v2' | 'v2beta1') => `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`;

function aggregatedResource(r: ResourceInfo) {
  return {
    resource: r.name,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: r.verbs,
    ...(r.shortNames ? { shortNames: r.shortNames } : {}),
    ...(r.categories ? { categories: r.categories } : {}),
    ...(r.subresources.length
      ? {
          subresources: r.subresources.map((s) => ({
            subresource: s.name,
            responseKind: { group: s.group ?? r.group, version: s.version ?? r.version, kind: s.kind },
            verbs: s.verbs,
          })),
        }
      : {}),
  };
}

function aggregatedGroup(group: string, served: ResourceInfo[]) {
  return {
    metadata: group ? { name: group, creationTimestamp: null } : { creationTimestamp: null },
    versions: versionsOf(group, served).map((version) => ({
      version,
      resources: served.filter((r) => r.group === group && r.version === version).map(aggregatedResource),
      freshness: 'Current',
    })),
  };
}

/** `/api` (core) or `/apis` (named groups) as an APIGroupDiscoveryList. */
export function aggregatedDiscovery(root: 'api' | 'apis', version: 'v2' | 'v2beta1', served = RESOURCES) {
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: root === 'api' ? [aggregatedGroup('', served)] : groups(served).map((g) => aggregatedGroup(g, served)),
  };
}

export function legacyApiVersions(serverAddress: string) {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function legacyGroup(group: string, served: ResourceInfo[]) {
  const versions = versionsOf(group, served).map((version) => ({ groupVersion: gv(group, version), version }));
  return { name: group, versions, preferredVersion: versions[0] };
}

export function legacyGroupList(served = RESOURCES) {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups(served).map((g) => legacyGroup(g, served)) };
}

export function legacyGroupDoc(group: string, served = RESOURCES) {
  return groups(served).includes(group) ? { kind: 'APIGroup', apiVersion: 'v1', ...legacyGroup(group, served) } : undefined;
}

/** `/api/v1` or `/apis/{group}/{version}` as an APIResourceList. */
export function resourceList(group: string, version: string, served = RESOURCES) {
  const rs = served.filter((r) => r.group === group && r.version === version);
  if (!rs.length) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: gv(group, version),
    resources: rs.flatMap((r) => [
      {
        name: r.name,
        singularName: r.singular,
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: r.verbs,
        ...(r.shortNames ? { shortNames: r.shortNames } : {}),
        ...(r.categories ? { categories: r.categories } : {}),
      },
      ...r.subresources.map((s) => ({
        name: `${r.name}/${s.name}`,
        singularName: '',
        namespaced: r.namespaced,
        kind: s.kind,
        verbs: s.verbs,
      })),
    ]),
  };
}
