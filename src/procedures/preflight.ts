// Read-only checks before anything changes (SPEC 4): each failure refuses with exit 4 and says what to do.
import { refused } from '../errors/exit-codes.js';
import type { AccessCheck, Cluster } from '../kube/cluster.js';
import { podIsReady, type Pod } from '../kube/resources.js';
import type { Progress } from '../output/progress.js';
import type { RecTarget } from '../rec/rec-target.js';
import { AuthenticationFailedError, ForbiddenError, RestApiError } from '../rest/rest-errors.js';
import { describeLockout, lockedRecovery } from '../rest/lockout-policy.js';
import { clusterSoftware, describeSoftware, softwareFromImages } from '../rest/software-version.js';
import type { StoredCredentials } from '../store/credential-store.js';
import { checkManagedSecret } from './managed-secret.js';
import { POD_TOOLS } from '../pod/in-pod-script.js';
import { REC_CONTAINER } from '../pod/pod-transport.js';
import { NO_MOUNTED_CREDENTIALS, podPropagation } from './waits.js';

/** Which of the REC's objects a check is about: the review names it, since a Role may grant it only by name (resourceNames). */
export type CheckedObject = 'rec' | 'pods' | 'credentials' | 'journal';
export type PermissionCheck = AccessCheck & { of?: CheckedObject };

// Each check is asked with the object's name where a request names one, because an access review
// without a name is denied by a Role that lists resourceNames (kubernetes/website
// content/en/docs/reference/access-authn-authz/rbac.md, "Referring to resources").
export const ROTATION_PERMISSIONS: PermissionCheck[] = [
  { verb: 'get', resource: 'redisenterpriseclusters', group: 'app.redislabs.com', of: 'rec' },
  // Found by label: a list can be limited by name only with a metadata.name field selector.
  { verb: 'list', resource: 'pods' },
  // Exec over WebSocket is a GET, which clusters before 1.35 authorize as "get pods/exec"; 1.35+ also
  // want "create" (AuthorizePodWebsocketUpgradeCreatePermission). A Role needs both to work everywhere.
  // The pod's name is in the URL (pods/NAME/exec), so even the create can be limited to the REC's pods.
  { verb: 'create', resource: 'pods', subresource: 'exec', of: 'pods' },
  { verb: 'get', resource: 'pods', subresource: 'exec', of: 'pods' },
  { verb: 'get', resource: 'secrets', of: 'credentials' },
  { verb: 'patch', resource: 'secrets', of: 'credentials' },
  { verb: 'get', resource: 'secrets', of: 'journal' },
  { verb: 'patch', resource: 'secrets', of: 'journal' },
  // Creating the journal names no existing object: RBAC cannot limit a create by name, so it is asked
  // unnamed (a named review would be allowed by resourceNames that the real create never matches).
  { verb: 'create', resource: 'secrets' },
  { verb: 'delete', resource: 'secrets', of: 'journal' },
  // Whether the REC takes part in Active-Active (other clusters hold its credentials): unknown is refused.
  { verb: 'list', resource: 'redisenterpriseremoteclusters', group: 'app.redislabs.com' },
  { verb: 'list', resource: 'redisenterpriseactiveactivedatabases', group: 'app.redislabs.com' },
];

/** finish and abort take the clusters from the journal, so they list no RERC or REAADB (a Role from before Active-Active still settles its runs). */
export const RESUME_PERMISSIONS: PermissionCheck[] = ROTATION_PERMISSIONS.filter(
  (c) => c.resource !== 'redisenterpriseremoteclusters' && c.resource !== 'redisenterpriseactiveactivedatabases',
);

/** The names the checks are asked with: the REC, its pods, its credential Secret (none for Vault), its journal. */
export type CheckedNames = Pick<RecTarget, 'name' | 'pods' | 'storeType' | 'secretName'> & { journal: { name: string } };

function objectNames(of: CheckedObject, target: CheckedNames): string[] {
  switch (of) {
    case 'rec':
      return [target.name];
    case 'pods':
      return target.pods.map((p) => p.metadata.name);
    case 'credentials':
      return target.storeType === 'kubernetes' ? [target.secretName] : [];
    case 'journal':
      return [target.journal.name];
  }
}

/** The access reviews to ask: named after the target's objects when it is known, else by kind only. */
export function accessReviews(checks: PermissionCheck[], target?: CheckedNames): AccessCheck[] {
  const reviews = new Map<string, AccessCheck>();
  for (const { of, ...check } of checks) {
    const names: (string | undefined)[] = of && target ? objectNames(of, target) : [undefined];
    for (const name of names) {
      const review: AccessCheck = name === undefined ? check : { ...check, name };
      reviews.set(JSON.stringify([review.verb, review.group, review.resource, review.subresource, review.name]), review);
    }
  }
  return [...reviews.values()];
}

const kind = (c: AccessCheck) => `${c.resource}${c.subresource ? `/${c.subresource}` : ''}${c.group ? `.${c.group}` : ''}`;
const describe = (c: AccessCheck) => `${c.verb} ${kind(c)}${c.name ? ` "${c.name}"` : ''}`;
/** kubectl's spelling: `pods/exec` would mean a pod named exec there; the subresource is a flag. */
const canICommand = (c: AccessCheck, namespace: string) =>
  `kubectl auth can-i ${c.verb} ${c.resource}${c.group ? `.${c.group}` : ''}${c.name ? `/${c.name}` : ''}${c.subresource ? ` --subresource=${c.subresource}` : ''} -n ${namespace}`;

export async function checkPermissions(cluster: Cluster, checks: PermissionCheck[], target?: CheckedNames): Promise<void> {
  const reviews = accessReviews(checks, target);
  const results = await Promise.all(reviews.map(async (c) => ({ c, allowed: await cluster.canI(c) })));
  const missing = results.filter((r) => !r.allowed).map((r) => r.c);
  const [first] = missing;
  if (first) {
    throw refused(
      `permission missing in namespace ${cluster.namespace}: ${missing.map(describe).join(', ')}`,
      `ask your cluster admin for a Role with these verbs (on these names, where named); check with: ${canICommand(first, cluster.namespace)}`,
    );
  }
}

export function checkRecRunning(target: RecTarget): void {
  const state = target.rec.status?.state ?? 'unknown';
  if (state !== 'Running')
    throw refused(`REC ${target.name} is ${state}, not Running; rotate only a healthy cluster`, `see: kubectl describe rec ${target.name} -n ${target.namespace}`);
}

export function checkPodsReady(target: RecTarget): void {
  if (target.pods.length === 0) throw refused(`REC ${target.name} has no pods (labels app=redis-enterprise, redis.io/cluster=${target.name})`);
  const notReady = target.pods.filter((p) => !podIsReady(p)).map((p) => p.metadata.name);
  if (notReady.length) {
    throw refused(
      `pods not Ready: ${notReady.join(', ')}; propagation to them could not be confirmed`,
      `wait until every pod is Ready: kubectl get pods -n ${target.namespace} -l redis.io/cluster=${target.name}`,
    );
  }
}

export async function checkNoJournal(target: RecTarget): Promise<void> {
  const record = await target.journal.read();
  if (record) {
    const age = Math.round((Date.now() - Date.parse(record.startedAt)) / 1000);
    throw refused(
      `a ${record.operation} of REC ${target.name} is already in progress (phase ${record.phase}), held by ${record.holder}, started ${age}s ago`,
      `see: kubectl reccred status ${target.name} -n ${target.namespace}; then finish or abort it`,
    );
  }
}

/** 'none': a Vault REC whose pods mount no credential files, where the settle stands in for propagation (waits.ts). */
export async function checkMountedEqualsStore(target: RecTarget, stored: StoredCredentials): Promise<'mounted' | 'none'> {
  const states = await podPropagation(target, stored);
  const off = states.filter((s) => s.state !== 'current');
  if (off.length) {
    throw refused(
      `propagation incomplete: ${off.map((s) => `${s.pod} (${s.state})`).join(', ')} do not mount what ${target.store.location} holds`,
      'a previous change has not reached every pod yet (kubelet syncs in 60-90 s); try again in a minute',
    );
  }
  return states.length ? 'mounted' : 'none';
}

const imageOf = (pod: Pod) => {
  const image = pod.spec.containers.find((c) => c.name === REC_CONTAINER)?.image;
  return typeof image === 'string' ? image : 'unknown';
};

/** The documented manual procedures, for a cluster the plugin cannot work on. */
export const MANUAL_PROCEDURE = {
  admin: 'content/operate/kubernetes/security/authentication/manage-rec-credentials.md',
  user: 'content/operate/rs/security/access-control/manage-passwords/rotate-passwords.md',
} as const;

/**
 * Every command the in-pod script runs is in every pod's image. The `.minimal` image (operator 8.0.18-11+)
 * "installs fewer operating system packages" without saying which (content/operate/kubernetes/security/minimal-base-image,
 * published page): one cheap exec per pod, reading nothing secret, before anything changes.
 */
export async function checkPodTools(target: RecTarget, manual: keyof typeof MANUAL_PROCEDURE): Promise<void> {
  const found = await Promise.all(
    target.pods.map(async (p) => {
      const pod = p.metadata.name;
      try {
        return { pod, image: imageOf(p), missing: await target.transport.missingTools(pod) };
      } catch (err) {
        throw refused(
          `the commands in pod ${pod} could not be checked: ${err instanceof Error ? err.message : String(err)}`,
          'nothing was changed; try again once the pod answers',
        );
      }
    }),
  );
  const lacking = found.filter((f) => f.missing.length);
  if (!lacking.length) return;
  const minimal = lacking.some((f) => /\.minimal\b/.test(f.image));
  throw refused(
    `the plugin runs ${POD_TOOLS.join(', ')} in container ${REC_CONTAINER}, and ${lacking
      .map((f) => `pod ${f.pod} (image ${f.image}) has no ${f.missing.join(', ')}`)
      .join('; ')}; nothing was changed`,
    `${
      minimal
        ? `the .minimal image installs fewer operating system packages: for the rotation window, run the standard image (set spec.redisEnterpriseImageSpec.versionTag of REC ${target.name} to the tag without ".minimal": kubectl edit rec ${target.name} -n ${target.namespace}; the pods restart), run this again, then set it back`
        : 'for the rotation window, run an image that has them (the standard redislabs/redis image does), then run this again'
    }. Or follow the manual procedure in the Redis documentation (${MANUAL_PROCEDURE[manual]})`,
  );
}

/**
 * The REC admin's stored credentials authenticate, and what the run needs to know of the cluster is read
 * with them (the admin has every permission, permissions.md): the lockout settings (GET
 * /v1/cluster/policy, whose 200 is the authentication) and the version the nodes run (GET /v1/nodes; if
 * that fails, the pods' image tags; if unknown, the current API). One login, never retried.
 */
export async function checkCurrentCredentials(target: RecTarget, stored: StoredCredentials): Promise<void> {
  const { rest } = target;
  const reset = `kubectl exec -it ${target.pods[0]?.metadata.name ?? `${target.name}-0`} -n ${target.namespace} -c redis-enterprise-node -- rladmin cluster reset_password ${stored.username} (it asks for the new password), then put that password in ${target.store.location}`;
  try {
    try {
      await rest.readLockoutPolicy(stored);
    } catch (err) {
      // Only an HTTP answer proves the login was judged: after a transport failure (a timeout, a lost exec) it may
      // have reached the cluster as a 401, and a second login could be a second failure (SPEC 3.4).
      if (!(err instanceof RestApiError) || err instanceof ForbiddenError) throw err;
      // The policy could not be read (the messages then say the documented defaults): GET /v1/cluster proves the login.
      await rest.authenticate(stored);
    }
  } catch (err) {
    if (err instanceof AuthenticationFailedError) {
      throw refused(
        `the cluster REST API refuses the credentials in ${target.store.location} for ${stored.username} (401: a wrong password, or a locked account); nothing was changed and nothing will be retried: ${describeLockout(rest.lockout)}`,
        `if the account is locked: ${lockedRecovery(rest.lockout, reset)}. Check the user's status in the admin console (Access control > Users), or: kubectl reccred status ${target.name} -n ${target.namespace}`,
      );
    }
    // The admin has every permission: a 403 is never "accepted" here. Some clusters may answer a locked account so.
    if (err instanceof ForbiddenError) {
      throw refused(
        `the cluster REST API answered 403 Forbidden to the REC admin ${stored.username}, who has every permission: the account is most likely locked or its password expired; nothing was changed and nothing will be retried`,
        `${lockedRecovery(rest.lockout, reset)}; check the user's status in the admin console (Access control > Users)`,
      );
    }
    throw err;
  }
  await readClusterSoftware(target, stored);
}

/** The version the nodes run, for the request bodies; nodes on both sides of 7.8.2 mean an upgrade: refused. */
async function readClusterSoftware(target: RecTarget, admin: StoredCredentials): Promise<void> {
  let software;
  try {
    software = clusterSoftware(await target.rest.nodeVersions(admin), 'nodes');
  } catch (err) {
    if (err instanceof AuthenticationFailedError) throw err;
    software = undefined;
  }
  // Forbidden, failed or empty: the redis-enterprise-node image tags; else the current API is assumed.
  if (!software || software.source === 'assumed') software = softwareFromImages(target.pods);
  target.rest.software = software;
  if (software.straddles) {
    throw refused(
      `REC ${target.name} is being upgraded: its nodes run ${describeSoftware(software)}, on both sides of 7.8.2, where /v1/users/password changed shape; nothing was changed`,
      `wait until every node runs the same version (kubectl get pods -n ${target.namespace} -l redis.io/cluster=${target.name} -o wide; the REC's status), then run this again`,
    );
  }
}

export interface PreflightResult {
  stored: StoredCredentials;
  /** --allow-managed-secret: the controllers that write the store, proceeded despite (for the journal and the result). */
  managedSecretAllowed?: string[];
}

export async function rotationPreflight(cluster: Cluster, target: RecTarget, progress: Progress, allowManagedSecret = false): Promise<PreflightResult> {
  await progress.step('REC is Running', () => checkRecRunning(target));
  await progress.step('permissions (SelfSubjectAccessReview)', () => checkPermissions(cluster, ROTATION_PERMISSIONS, target));
  // Optional: without it the run records no Events on the REC, says so once, and goes on.
  await progress.step(
    'permission to record Events on the REC (optional)',
    () => target.events.permitted(),
    (ok) => (ok ? 'granted' : 'not granted'),
  );
  await progress.step(
    'pods Ready',
    () => checkPodsReady(target),
    () => `${target.pods.length} pods`,
  );
  await progress.step('no operation in progress', () => checkNoJournal(target));
  await progress.step('pods have the commands the plugin runs in them', () => checkPodTools(target, 'admin'));
  // A controller that writes the store would put its own value back during the settle (issue 12).
  const managedSecretAllowed =
    target.storeType === 'kubernetes'
      ? await progress.step(
          `no controller writes ${target.store.location}`,
          () => checkManagedSecret(target, allowManagedSecret, progress),
          (x) => (x ? 'one does: proceeding, as --allow-managed-secret asks' : undefined),
        )
      : undefined;
  const stored = await progress.step(
    `read ${target.store.location}`,
    () => target.store.read(),
    (s) => `user ${s.username}`,
  );
  // Both are read-only and independent, so they overlap (a fleet pays every round trip a hundred times).
  // The login uses the stored credentials the operator itself uses: at most one failure, never retried.
  await progress.step(
    'pods mount the stored credentials, and they authenticate',
    () => Promise.all([checkMountedEqualsStore(target, stored), checkCurrentCredentials(target, stored)]),
    ([mounts]) => (mounts === 'none' ? NO_MOUNTED_CREDENTIALS : undefined),
  );
  return { stored, ...(managedSecretAllowed ? { managedSecretAllowed } : {}) };
}
