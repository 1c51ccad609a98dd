// Read-only checks before anything changes (SPEC 4): each failure refuses with exit 4 and says what to do.
import { refused } from '../cli/exit-codes.js';
import type { AccessCheck, Cluster } from '../kube/cluster.js';
import { podIsReady } from '../kube/resources.js';
import type { Progress } from '../output/progress.js';
import type { RecTarget } from '../rec/rec-target.js';
import { AuthenticationFailedError } from '../rest/rest-errors.js';
import type { StoredCredentials } from '../store/credential-store.js';
import { podPropagation } from './waits.js';

export const ROTATION_PERMISSIONS: AccessCheck[] = [
  { verb: 'get', resource: 'redisenterpriseclusters', group: 'app.redislabs.com' },
  { verb: 'list', resource: 'pods' },
  // Exec over WebSocket is a GET, which clusters before 1.35 authorize as "get pods/exec"; 1.35+ also
  // want "create" (AuthorizePodWebsocketUpgradeCreatePermission). A Role needs both to work everywhere.
  { verb: 'create', resource: 'pods', subresource: 'exec' },
  { verb: 'get', resource: 'pods', subresource: 'exec' },
  { verb: 'get', resource: 'secrets' },
  { verb: 'patch', resource: 'secrets' },
  { verb: 'create', resource: 'secrets' },
  { verb: 'delete', resource: 'secrets' },
];

const describe = (c: AccessCheck) => `${c.verb} ${c.resource}${c.subresource ? `/${c.subresource}` : ''}${c.group ? `.${c.group}` : ''}`;

export async function checkPermissions(cluster: Cluster, checks: AccessCheck[]): Promise<void> {
  const results = await Promise.all(checks.map(async (c) => ({ c, allowed: await cluster.canI(c) })));
  const missing = results.filter((r) => !r.allowed).map((r) => describe(r.c));
  if (missing.length) {
    throw refused(
      `permission missing in namespace ${cluster.namespace}: ${missing.join(', ')}`,
      `ask your cluster admin for a Role with these verbs; check with: kubectl auth can-i ${missing[0]} -n ${cluster.namespace}`,
    );
  }
}

export function checkRecRunning(target: RecTarget): void {
  const state = target.rec.status?.state ?? 'unknown';
  if (state !== 'Running') throw refused(`REC ${target.name} is ${state}, not Running; rotate only a healthy cluster`, `see: kubectl describe rec ${target.name} -n ${target.namespace}`);
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

export async function checkMountedEqualsStore(target: RecTarget, stored: StoredCredentials): Promise<void> {
  const states = await podPropagation(target, stored);
  const off = states.filter((s) => s.state !== 'current');
  if (off.length) {
    throw refused(
      `propagation incomplete: ${off.map((s) => `${s.pod} (${s.state})`).join(', ')} do not mount what ${target.store.location} holds`,
      'a previous change has not reached every pod yet (kubelet syncs in 60-90 s); try again in a minute',
    );
  }
}

export async function checkCurrentCredentials(target: RecTarget, stored: StoredCredentials): Promise<void> {
  try {
    await target.rest.authenticate(stored);
  } catch (err) {
    if (err instanceof AuthenticationFailedError) {
      throw refused(
        `the cluster REST API refuses the credentials in ${target.store.location} for ${stored.username}; nothing was changed and nothing will be retried (5 failures in 15 minutes lock the account)`,
        `check the user's status in the admin console, or: kubectl reccred status ${target.name} -n ${target.namespace}`,
      );
    }
    throw err;
  }
}

export interface PreflightResult {
  stored: StoredCredentials;
}

export async function rotationPreflight(cluster: Cluster, target: RecTarget, progress: Progress): Promise<PreflightResult> {
  await progress.step('REC is Running', async () => checkRecRunning(target));
  await progress.step('permissions (SelfSubjectAccessReview)', () => checkPermissions(cluster, ROTATION_PERMISSIONS));
  await progress.step('pods Ready', async () => checkPodsReady(target), () => `${target.pods.length} pods`);
  await progress.step('no operation in progress', () => checkNoJournal(target));
  const stored = await progress.step(`read ${target.store.location}`, () => target.store.read(), (s) => `user ${s.username}`);
  // Both are read-only and independent, so they overlap (a fleet pays every round trip a hundred times).
  // The login uses the stored credentials the operator itself uses: at most one failure, never retried.
  await progress.step('pods mount the stored credentials, and they authenticate', () =>
    Promise.all([checkMountedEqualsStore(target, stored), checkCurrentCredentials(target, stored)]),
  );
  return { stored };
}
