// RBAC-like authorization: positive rules only, matched like Kubernetes RBAC matches them.

export interface PolicyRule {
  verbs: string[];
  /** 'secrets', 'pods', 'pods/exec', 'redisenterpriseclusters', ... or '*' */
  resources: string[];
  /** '' is the core group; absent means any group. */
  apiGroups?: string[];
  /** absent means every namespace (and cluster-scoped resources). */
  namespaces?: string[];
  /** absent or empty means every name; otherwise exact names (RBAC has no wildcard here). */
  resourceNames?: string[];
  /**
   * The rule answers SelfSubjectAccessReviews but authorizes no request: it was revoked after the
   * review. A real API server authorizes a review and the request it asks about separately, at
   * different times, so an RBAC change can land between a client's preflight and its request.
   */
  revokedAfterReview?: boolean;
}

export interface RequestAttributes {
  user: string;
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

const has = (list: string[] | undefined, v: string) => list === undefined || list.includes('*') || list.includes(v);

function resourceMatches(rule: string[], resource: string, subresource?: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return rule.some((r) => r === '*' || r === combined || (subresource !== undefined && r === `*/${subresource}`));
}

/**
 * resourceNames as Kubernetes RBAC matches them (kubernetes/website
 * content/en/docs/reference/access-authn-authz/rbac.md, "Referring to resources"): an empty set allows
 * every name; otherwise the request's name must be one of them, exactly. A request names an object
 * only when its URL does (get, update, patch, delete, and subresources such as pods/NAME/exec, even
 * with the create verb), or, for list and watch, through a `metadata.name=` field selector
 * (requestNameFromFieldSelector). A create of a new object or a deletecollection has no name, so a
 * rule with resourceNames never grants it.
 */
function nameMatches(resourceNames: string[] | undefined, name: string | undefined): boolean {
  if (resourceNames === undefined || resourceNames.length === 0) return true;
  return name !== undefined && resourceNames.includes(name);
}

export function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
  return (
    has(rule.verbs, a.verb) &&
    has(rule.apiGroups, a.group) &&
    resourceMatches(rule.resources, a.resource, a.subresource) &&
    (rule.namespaces === undefined || (a.namespace !== undefined && has(rule.namespaces, a.namespace))) &&
    nameMatches(rule.resourceNames, a.name)
  );
}

/**
 * The name a list or watch request is authorized with: the value of a `metadata.name=` (or `==`)
 * term of its field selector, as the API server's request info takes it; undefined otherwise.
 * ("If you restrict list or watch by resourceName, clients must include a metadata.name field
 * selector", rbac.md.)
 */
export function requestNameFromFieldSelector(selector: string | null): string | undefined {
  if (!selector) return undefined;
  for (const term of selector.split(',')) {
    const m = term.trim().match(/^metadata\.name\s*(==|=)\s*(.+)$/);
    if (m) return m[2]!.trim();
  }
  return undefined;
}

/** Every authenticated user may review its own access (system:basic-user in a real cluster). */
const SELF_REVIEW: PolicyRule = {
  verbs: ['create'],
  apiGroups: ['authorization.k8s.io'],
  resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
};

/** Whether a request is authorized; `review`: what a SelfSubjectAccessReview about it answers. */
export function allows(rules: PolicyRule[], a: RequestAttributes, purpose: 'request' | 'review' = 'request'): boolean {
  return [SELF_REVIEW, ...rules].some((r) => (purpose === 'review' || !r.revokedAfterReview) && ruleAllows(r, a));
}

/** The real authorizer's denial text, e.g. `User "x" cannot patch resource "secrets" in API group "" in the namespace "default"`. */
export function forbiddenMessage(a: RequestAttributes, groupResource: string): string {
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  const subject = a.name !== undefined ? `${groupResource} "${a.name}"` : groupResource;
  return `${subject} is forbidden: User "${a.user}" cannot ${a.verb} resource "${res}" in API group "${a.group}" ${scope}`;
}

const ALL_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
// Everything the simulated server serves, so that "everything but X" can be written as positive rules.
const ALL_RESOURCES = [
  'namespaces',
  'secrets',
  'configmaps',
  'pods',
  'pods/log',
  'pods/status',
  'redisenterpriseclusters',
  'redisenterpriseclusters/status',
  'redisenterpriseusers',
  'redisenterpriseusers/status',
  'redisenterpriseremoteclusters',
  'redisenterpriseremoteclusters/status',
  'redisenterpriseactiveactivedatabases',
  'redisenterpriseactiveactivedatabases/status',
  // Core v1 and events.k8s.io/v1 both: these rules name every group ('*'). A rule naming one group grants that
  // group's `events` only, as RBAC matches apiGroups and resources separately (ruleAllows).
  'events',
  'deployments',
  'deployments/status',
  'statefulsets',
  'statefulsets/status',
  'daemonsets',
  'daemonsets/status',
  'replicasets',
  'replicasets/status',
  'controllerrevisions',
];

/**
 * The builtin users' own rules (RBAC bindings by user name). Impersonation (verb `impersonate` on users, groups,
 * uids; kubernetes/kubernetes staging/src/k8s.io/apiserver/pkg/endpoints/filters/impersonation.go):
 * - admin: everything, so it may impersonate any user, group, uid or service account;
 * - breakglass: nothing but impersonating user `admin` or `operator`, group `rec-operators` and uid
 *   `breakglass-uid`: `kubectl --as admin` works, `--as read-only`, `--as-group system:masters` or another uid do not,
 *   and without `--as` it may do nothing at all;
 * - no-impersonate: every verb on every resource except impersonate;
 * - operator: no rules of its own; member of group `rec-operators` (BUILTIN_USER_GROUPS), which holds its rights;
 * - no-exec, no-secret-patch, read-only: no impersonate right either.
 */
export const BUILTIN_USERS: Record<string, PolicyRule[]> = {
  admin: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
  breakglass: [
    { verbs: ['impersonate'], apiGroups: [''], resources: ['users'], resourceNames: ['admin', 'operator'] },
    { verbs: ['impersonate'], apiGroups: [''], resources: ['groups'], resourceNames: ['rec-operators'] },
    { verbs: ['impersonate'], apiGroups: ['authentication.k8s.io'], resources: ['uids'], resourceNames: ['breakglass-uid'] },
  ],
  'no-impersonate': [{ verbs: ALL_VERBS, apiGroups: ['*'], resources: ['*'] }],
  operator: [],
  'no-exec': [{ verbs: ['*'], apiGroups: ['*'], resources: ALL_RESOURCES }],
  'no-secret-patch': [
    { verbs: ['*'], apiGroups: ['*'], resources: [...ALL_RESOURCES.filter((r) => r !== 'secrets'), 'pods/exec'] },
    { verbs: ALL_VERBS.filter((v) => v !== 'patch' && v !== 'update'), apiGroups: [''], resources: ['secrets'] },
  ],
  'read-only': [{ verbs: ['get', 'list', 'watch'], apiGroups: ['*'], resources: ['*'] }],
};

/** The groups a builtin user's token (and the client certificate issued for it by default) carries. */
export const BUILTIN_USER_GROUPS: Record<string, string[]> = {
  operator: ['rec-operators'],
};

/**
 * Rules bound to groups (RBAC bindings whose subject is a Group): a user's rights are its own rules plus
 * those of every group it carries, system:authenticated included.
 * - system:masters: everything, as kubeadm binds cluster-admin to it;
 * - rec-operators: every verb on the served resources and pods/exec, no impersonation.
 */
export const BUILTIN_GROUPS: Record<string, PolicyRule[]> = {
  'system:masters': [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
  'rec-operators': [{ verbs: ALL_VERBS, apiGroups: ['*'], resources: [...ALL_RESOURCES, 'pods/exec'] }],
};
