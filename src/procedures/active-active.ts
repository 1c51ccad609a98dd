// Active-Active: the other participating clusters present this REC's admin credentials from their RERC
// Secrets, so those must hold the new password before the old one is removed, and the old one again
// before an abort removes the new (content/operate/kubernetes/active-active/edit-rerc.md, "Update RERC
// secret": update the local cluster's secret first, watch the RERC become Active/Valid and every REAADB
// using it active/Valid, then repeat on every other participating cluster).
import { formatDuration } from '../duration/duration.js';
import { ReccredError, refused, resumable } from '../errors/exit-codes.js';
import { getRerc, listReaadbs, type Reaadb, type Rerc } from '../kube/active-active-resources.js';
import type { AccessCheck } from '../kube/cluster.js';
import type { JournalRecord } from '../journal/journal.js';
import { clusterNamed, participationIn, type Participant, type Participation } from '../rec/participants.js';
import type { RecTarget } from '../rec/rec-target.js';
import { RestApiError } from '../rest/rest-errors.js';
import { StoreMissingError, type StoredCredentials } from '../store/credential-store.js';
import { advance, settleMs, storeSwap, type ProcedureContext } from './procedure-steps.js';
import { sleep, waitUntil } from './waits.js';

interface Creds {
  username: string;
  password: string;
}

const where = (p: Participant) => clusterNamed(p.context);
const rercActive = (r: Rerc) => r.status?.status === 'Active' && r.status.specStatus === 'Valid';
// The docs show the REAADB status in lower case ("active") and the replication status "up" (edit-rerc.md).
const reaadbHealthy = (d: Reaadb) => d.status?.status?.toLowerCase() === 'active' && d.status.specStatus === 'Valid' && d.status.replicationStatus === 'up';
const describeRerc = (r: Rerc) => `RERC ${r.metadata.name} is ${r.status?.status ?? 'without status'}/${r.status?.specStatus ?? '-'}`;
const describeReaadb = (d: Reaadb) =>
  `REAADB ${d.metadata.name} is ${d.status?.status ?? 'without status'}/${d.status?.specStatus ?? '-'}, replication ${d.status?.replicationStatus ?? 'unknown'}`;

/** A REC that takes part in Active-Active, run without the other clusters: refused before anything changes. */
export function refuseWithoutParticipants(target: RecTarget, found: Participation): never {
  const rercs = found.rercs.map((r) => `${r.metadata.namespace ?? target.namespace}/${r.metadata.name}`).join(', ');
  const reaadbs = found.reaadbs.map((d) => `${d.metadata.namespace ?? target.namespace}/${d.metadata.name}`).join(', ') || 'none found';
  throw refused(
    `REC ${target.name} takes part in Active-Active: RedisEnterpriseRemoteCluster ${rercs}, used by ${reaadbs}. The other participating clusters hold its admin credentials in their RERC Secrets, and would keep presenting the old password after the rotation; nothing was changed`,
    `give the run every other participating cluster: --participant-context CONTEXT (repeat it; kubeconfig contexts), e.g. kubectl reccred rotate ${target.name} -n ${target.namespace} --participant-context cluster-b --participant-context cluster-c`,
  );
}

/**
 * change-user and reset on a participating REC: the other clusters' RERC Secrets would keep the old
 * username or a password that no longer exists. Refused before anything changes, with the documented steps.
 */
export async function refuseIfActiveActive(target: RecTarget, operation: 'change-user' | 'reset'): Promise<void> {
  const found = await participationIn(target.cluster, target);
  if (!found.rercs.length) return;
  const rercs = found.rercs.map((r) => `${r.metadata.namespace ?? target.namespace}/${r.metadata.name}`).join(', ');
  throw refused(
    `REC ${target.name} takes part in Active-Active (RedisEnterpriseRemoteCluster ${rercs}); ${operation} does not update the other clusters' RERC Secrets, which would then present credentials that no longer work; nothing was changed`,
    operation === 'reset'
      ? `to replace every password of an Active-Active REC, change it on the cluster, then update the RERC Secret redis-enterprise-<RERC name> on the local cluster first and then on every other participating cluster, watching each RERC return to Active (content/operate/kubernetes/active-active/edit-rerc.md); to rotate it safely instead: kubectl reccred rotate ${target.name} -n ${target.namespace} --participant-context CONTEXT ...`
      : `change the admin user by hand (content/operate/kubernetes/active-active/edit-rerc.md: update the RERC Secret on every participating cluster, local first)`,
  );
}

/**
 * Active-Active databases outside the operator (created with crdb-cli, or by an operator before 6.4.2-6: no
 * REAADB of the REC's cluster carries their guid) keep the REC's admin credentials in their own configuration,
 * which only `crdb-cli crdb update --credentials` or PATCH /v1/crdbs/{guid} changes
 * (security/access-control/manage-passwords/active-active-admin-credentials.md). The plugin does not (README,
 * "Active-Active"): refused before anything changes, with the documented steps.
 */
export async function refuseUnmanagedActiveActive(target: RecTarget, stored: StoredCredentials, reaadbs: Reaadb[]): Promise<void> {
  let crdbs;
  try {
    crdbs = await target.rest.activeActiveDatabases(stored);
  } catch (err) {
    if (!(err instanceof RestApiError)) throw err;
    throw refused(
      `cannot tell whether REC ${target.name} takes part in Active-Active databases created outside the operator: ${err.message}; nothing was changed`,
      `check what the cluster's REST API answers to GET /v1/crdbs (the REC admin has view_crdb_list, permissions.md), then run this again`,
    );
  }
  const managed = new Set(reaadbs.flatMap((d) => d.status?.guid ?? []));
  const unmanaged = crdbs.filter((c) => !managed.has(c.guid));
  if (!unmanaged.length) return;
  const named = unmanaged.map((c) => `${c.name ?? '(no name)'} (guid ${c.guid})`).join(', ');
  throw refused(
    `REC ${target.name} takes part in Active-Active databases that no RedisEnterpriseActiveActiveDatabase of its cluster manages: ${named}. Their configuration holds the REC's admin credentials, which the rotation would leave pointing at a removed password, and the plugin does not update it; nothing was changed`,
    `rotate by hand as content/operate/rs/security/access-control/manage-passwords/active-active-admin-credentials.md says: change the admin password, then in a REC pod "crdb-cli crdb list" for each database's guid and instance ids, and "crdb-cli crdb update --crdb-guid GUID --credentials id=ID,username=USER,password=PASSWORD ... --force" with every participating cluster's current credentials, then update ${target.store.location}. If a REAADB in another namespace manages them, grant list on redisenterpriseactiveactivedatabases in every namespace`,
  );
}

/** The journal's copy of the participants, before anything changed. */
export function recordParticipants(participants: Participant[]): NonNullable<JournalRecord['participants']> {
  return participants.map((p) => ({
    context: p.context,
    namespace: p.cluster.namespace,
    rerc: p.rerc,
    secret: p.secret,
    ...(p.vaultNamespace !== undefined ? { vaultNamespace: p.vaultNamespace } : {}),
    reaadbs: p.reaadbs,
  }));
}

const SECRET_CHECKS: Omit<AccessCheck, 'name'>[] = [
  { verb: 'get', resource: 'secrets' },
  { verb: 'patch', resource: 'secrets' },
  { verb: 'get', resource: 'redisenterpriseremoteclusters', group: 'app.redislabs.com' },
];

/**
 * Read-only, in every participating cluster: its RERC is Active/Valid, its Secret is readable and
 * patchable (access reviews) and holds the REC's current credentials, and every REAADB using it is
 * active/Valid with replication up.
 */
export async function checkParticipants(participants: Participant[], stored: StoredCredentials): Promise<void> {
  const problems: string[] = [];
  await Promise.all(
    participants.map(async (p) => {
      // A Vault entry is not a Kubernetes object: reading it below is its check, as for a Vault-backed REC.
      const checks = SECRET_CHECKS.filter((c) => c.resource !== 'secrets' || p.store.type === 'kubernetes').map((c) => ({
        ...c,
        name: c.resource === 'secrets' ? p.secret : p.rerc,
      }));
      const denied = (await Promise.all(checks.map(async (c) => ((await p.cluster.canI(c)) ? undefined : c)))).filter((c) => c !== undefined);
      if (denied.length) {
        problems.push(`${where(p)}: permission missing in namespace ${p.cluster.namespace}: ${denied.map((c) => `${c.verb} ${c.resource} "${c.name}"`).join(', ')}`);
        return;
      }
      const health = await participantHealth(p);
      if (health.off) problems.push(`${where(p)}: ${health.off}`);
      let held;
      try {
        held = await p.store.read();
      } catch (err) {
        if (!(err instanceof StoreMissingError)) throw err;
        problems.push(`${where(p)}: ${p.store.location} does not exist; RERC ${p.rerc} must find the REC's credentials there (edit-rerc.md)`);
        return;
      }
      if (held.username !== stored.username || held.password !== stored.password) {
        problems.push(`${where(p)}: ${p.store.location} does not hold the REC's current credentials (it must, before a rotation; see edit-rerc.md)`);
      }
    }),
  );
  if (problems.length) {
    throw refused(
      `Active-Active is not ready for a rotation: ${problems.join('; ')}; nothing was changed`,
      'fix each cluster first (kubectl get rerc,reaadb -A in each), then run this again',
    );
  }
}

/** What is not healthy in the participant's cluster (undefined: nothing), and whether its RERC shows the Secret version it validated. */
async function participantHealth(p: Participant, secretVersion?: string): Promise<{ off?: string; observedShown: boolean }> {
  const rerc = await getRerc(p.cluster, p.rerc);
  const off: string[] = [];
  if (!rercActive(rerc)) off.push(describeRerc(rerc));
  // "Observed secret resource version. For internal use only." (crds/rerc_crd.yaml)
  const observed = rerc.status?.internalObservedSecretResourceVersion;
  if (secretVersion !== undefined && observed !== undefined && observed !== secretVersion) off.push(`RERC ${rerc.metadata.name} has not yet read its new Secret`);
  const names = new Set(p.reaadbs);
  const reaadbs = ((await listReaadbs(p.cluster)).items ?? []).filter((d) => names.has(d.metadata.name));
  const missing = p.reaadbs.filter((n) => !reaadbs.some((d) => d.metadata.name === n));
  if (missing.length) off.push(`REAADB ${missing.join(', ')} not found`);
  for (const d of reaadbs) if (!reaadbHealthy(d)) off.push(describeReaadb(d));
  return { ...(off.length ? { off: off.join(', ') } : {}), observedShown: observed !== undefined };
}

/**
 * Waits until the participant's RERC is Active/Valid again and its REAADBs are healthy. Where the operator
 * shows which Secret version the RERC validated, that must be the Secret's current one (a later write of
 * the same credentials, a label or a GitOps re-apply, moves it); where it does not, a healthy RERC proves
 * nothing (the old password is still valid), so the settle is waited from the write.
 */
async function awaitHealthy(ctx: ProcedureContext, p: Participant, want: Creds, writtenAt: number): Promise<void> {
  const timeoutMs = ctx.options.propagationTimeoutMs;
  const started = Date.now();
  for (;;) {
    ctx.stillHeld();
    const held = await p.store.read();
    const current = held.username === want.username && held.password === want.password ? held.version : undefined;
    if (current === undefined)
      throw resumable(`${where(p)}: ${p.store.location} no longer holds the credentials just written; someone else changed it`, 'inspect it, then run finish or abort');
    // What internalObservedSecretResourceVersion holds for a Vault entry is not documented: a Vault-backed RERC is waited like one that shows nothing.
    const health = await participantHealth(p, p.store.type === 'kubernetes' ? current : undefined);
    if (!health.off) {
      if (!health.observedShown || p.store.type === 'vault') {
        // The operator serves Vault entries from its cache (VAULT_CACHE_SECRET_EXPIRATION_SECONDS): no shorter wait.
        await waitUntil(ctx, writtenAt + Math.max(settleMs(ctx), p.store.minimumSettleMs), `${where(p)}: settle (the RERC does not show which secret version it read)`);
      }
      return;
    }
    const elapsed = Date.now() - started;
    if (elapsed >= timeoutMs) {
      throw resumable(
        `${where(p)}: not Active again after ${formatDuration(timeoutMs)}: ${health.off}; both passwords are still valid`,
        'see kubectl get rerc,reaadb there; then run finish or abort',
      );
    }
    ctx.progress.waiting(`${where(p)}: ${health.off}; ${formatDuration(elapsed)} of up to ${formatDuration(timeoutMs)}`);
    await sleep(ctx.pollMs, ctx.signal);
  }
}

/** A refusal from another cluster's store names the cluster: the Secret's namespace and name alone do not. */
async function inCluster<T>(p: Participant, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof ReccredError) throw new ReccredError(`${where(p)}: ${err.message}`, err.exitCode, err.hint);
    throw err;
  }
}

/**
 * The journal's participants a finish or an abort must reach. finish writes every one. updateParticipants writes
 * one cluster's Secret and journals its mark before it writes the next, so an abort has to put back only those
 * marked updated and the first one not marked (written just before a kill, perhaps): the clusters after it were
 * never written, and a context of theirs that is unreachable or gone from the kubeconfig does not block the abort.
 */
export function participantsToReach(record: JournalRecord, direction: 'finish' | 'abort'): NonNullable<JournalRecord['participants']> {
  const recorded = record.participants ?? [];
  if (direction === 'finish') return recorded;
  const firstUnmarked = recorded.findIndex((s) => !s.updatedAt);
  return recorded.filter((s, i) => s.updatedAt !== undefined || i === firstUnmarked);
}

/** Each participant's Secret gets `want`, in order, each followed by its RERC and REAADBs recovering; journaled per cluster. */
export async function updateParticipants(ctx: ProcedureContext, participants: Participant[], from: Creds, want: Creds, direction: 'update' | 'restore'): Promise<void> {
  const order = direction === 'update' ? [...participants] : [...participants].reverse();
  for (const p of order) {
    // By context, not position: an abort is given only the participants it must reach (participantsToReach).
    const i = (ctx.record.participants ?? []).findIndex((s) => s.context === p.context);
    // Read afresh each time: each step's mark is journaled before the next one starts.
    const state = ctx.record.participants?.[i];
    if (!state) continue;
    // Every cluster is looked at, not only the unmarked ones: a Secret marked updated may have been put back
    // since, and a run killed between a write and its mark leaves one changed but unrecorded. The swap is a
    // no-op where the Secret already holds `want`.
    if (direction === 'restore' && state.restoredAt) continue;
    await ctx.progress.step(`${direction === 'update' ? 'update' : 'restore'} ${p.store.location} in ${where(p)}, then RERC ${p.rerc} Active and its REAADBs active`, async () => {
      await inCluster(p, () => storeSwap(ctx, from, want, p.store));
      // From now: on a resume the write's own time is not known, and a later start only waits longer.
      await awaitHealthy(ctx, p, want, Date.now());
    });
    if (direction === 'update' ? state.updatedAt : state.restoredAt) continue;
    const now = new Date().toISOString();
    const next = (ctx.record.participants ?? []).map((s, j) => (j === i ? { ...s, ...(direction === 'update' ? { updatedAt: now } : { restoredAt: now }) } : s));
    await advance(ctx, { participants: next });
  }
}

/** Right before a password is removed: every participant's Secret holds the credentials that remain (in an abort, those it reached: the others were never written). */
export async function participantsHold(participants: Participant[], remaining: Creds): Promise<void> {
  for (const p of participants) {
    const held = await p.store.read();
    if (held.username !== remaining.username || held.password !== remaining.password) {
      throw resumable(`${where(p)}: ${p.store.location} no longer holds the credentials that remain; nothing was removed`, 'inspect it, then run finish or abort');
    }
  }
}
