// The middle step of rotate-user-passwords.md, "update the password in all database connections that
// connect with the user account": the workloads that read the application's Secret are restarted as
// `kubectl rollout restart` restarts them, and each rollout is waited until `kubectl rollout status` would
// call it complete. Only then may the old password go.
import { formatDuration } from '../duration/duration.js';
import { refused, resumable, usageError } from '../errors/exit-codes.js';
import { KubeApiError } from '../kube/api-client.js';
import type { Cluster } from '../kube/cluster.js';
import {
  describeWorkload,
  getWorkload,
  listWorkloads,
  readsSecret,
  restartGap,
  restartWorkload,
  rolloutStatus,
  unreadyPods,
  RESTARTED_AT,
  WORKLOAD_KINDS,
  WORKLOAD_RESOURCES,
  type WorkloadKind,
  type WorkloadRef,
} from '../kube/workloads.js';
import { advance, type ProcedureContext } from './procedure-steps.js';
import { sleep } from './waits.js';

export interface Consumer extends WorkloadRef {
  /** How its pod template reads the Secret (env, envFrom, volume, projected volume); empty when named by --consumers. */
  reads: string[];
}

const KIND_NAMES: Record<string, WorkloadKind> = {
  deployment: 'deployment',
  deployments: 'deployment',
  deploy: 'deployment',
  statefulset: 'statefulset',
  statefulsets: 'statefulset',
  sts: 'statefulset',
  daemonset: 'daemonset',
  daemonsets: 'daemonset',
  ds: 'daemonset',
};

/** --consumers deployment/app,statefulset/worker (kubectl's TYPE/NAME, with its short names and the apps group suffix). */
export function parseConsumers(value: string): WorkloadRef[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const [type = '', name = '', extra] = s.split('/');
      const kind = KIND_NAMES[type.replace(/\.apps$/, '').toLowerCase()];
      if (!kind || !name || extra !== undefined) {
        throw usageError(`--consumers: "${s}" is not TYPE/NAME with TYPE deployment, statefulset or daemonset`, 'e.g. --consumers deployment/app,statefulset/worker');
      }
      return { kind, name };
    });
}

function forbidden(cluster: Cluster, verb: string, kind: WorkloadKind): never {
  throw refused(
    `cannot ${verb} ${WORKLOAD_RESOURCES[kind]} in namespace ${cluster.namespace} (forbidden), so the workloads that read the Secret cannot be ${verb === 'list' ? 'found' : 'restarted'}; nothing was changed`,
    `grant "list" on deployments, statefulsets and daemonsets (apps) there and "get" and "patch" on the workloads to restart, or name them with --consumers (then "list" is not needed), or pass --no-restart and restart them yourself`,
  );
}

/** The Deployments, StatefulSets and DaemonSets of the Secret's namespace whose pod template reads it. */
export async function findConsumers(cluster: Cluster, secretName: string): Promise<Consumer[]> {
  const found: Consumer[] = [];
  for (const kind of WORKLOAD_KINDS) {
    let items;
    try {
      items = await listWorkloads(cluster, kind);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 403) forbidden(cluster, 'list', kind);
      throw err;
    }
    for (const w of items) {
      const reads = readsSecret(w, secretName);
      if (reads.length) found.push({ kind, name: w.metadata.name, reads });
    }
  }
  return found;
}

/** Each consumer exists and a restart replaces every one of its pods; refused before anything changes otherwise. */
export async function checkRestartable(cluster: Cluster, consumers: WorkloadRef[], secretName: string): Promise<Consumer[]> {
  const problems: string[] = [];
  const checked: Consumer[] = [];
  for (const c of consumers) {
    let w;
    try {
      w = await getWorkload(cluster, c.kind, c.name);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) {
        problems.push(`${describeWorkload(c)} does not exist in namespace ${cluster.namespace}`);
        continue;
      }
      if (err instanceof KubeApiError && err.status === 403) forbidden(cluster, 'get', c.kind);
      throw err;
    }
    const gap = restartGap(c.kind, w);
    if (gap) problems.push(`${describeWorkload(c)}: ${gap}`);
    checked.push({ ...c, reads: readsSecret(w, secretName) });
  }
  if (problems.length) {
    throw refused(
      `the consumers of the Secret cannot all be restarted onto the new password: ${problems.join('; ')}; nothing was changed`,
      'fix them, or leave them out with --consumers, or pass --no-restart and restart them yourself before user finish',
    );
  }
  return checked;
}

/** Restarts each consumer whose template does not carry `at` yet: a resumed run does not restart twice. */
export async function restartConsumers(ctx: ProcedureContext, cluster: Cluster, consumers: WorkloadRef[], at: string): Promise<number> {
  let restarted = 0;
  for (const c of consumers) {
    ctx.stillHeld();
    const w = await getWorkload(cluster, c.kind, c.name);
    if (w.spec.template?.metadata?.annotations?.[RESTARTED_AT] === at) continue;
    try {
      await restartWorkload(cluster, c.kind, c.name, at);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 403) forbidden(cluster, 'patch', c.kind);
      throw err;
    }
    restarted += 1;
  }
  return restarted;
}

/**
 * Waits until every consumer's rollout is complete by `kubectl rollout status`'s rules, for at most `timeoutMs`
 * in all; a rollout that does not complete (or that kubectl would call failed) stops the run resumable, naming
 * the workload and what its pods report. Both passwords stay valid meanwhile.
 */
export async function awaitRollouts(ctx: ProcedureContext, cluster: Cluster, consumers: WorkloadRef[], at: string, timeoutMs: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    ctx.stillHeld();
    const pending: { ref: WorkloadRef; message: string; failed: boolean }[] = [];
    for (const c of consumers) {
      // Its generation is at least the restart's: a complete rollout of it replaced every pod that started before the restart.
      const status = rolloutStatus(c.kind, await getWorkload(cluster, c.kind, c.name));
      if (!status.done) pending.push({ ref: c, message: status.message, failed: status.failed === true });
    }
    if (!pending.length) return;
    const elapsed = Date.now() - started;
    const failed = pending.find((p) => p.failed);
    if (failed || elapsed >= timeoutMs) {
      const stuck = failed ?? pending[0];
      if (!stuck) return;
      const w = await getWorkload(cluster, stuck.ref.kind, stuck.ref.name);
      const pods = await unreadyPods(cluster, w).catch(() => []);
      throw resumable(
        `the rollout of ${describeWorkload(stuck.ref)} ${failed ? 'failed' : `did not complete within ${formatDuration(timeoutMs)}`} (restarted at ${at}): ${stuck.message}${pods.length ? `; ${pods.join('; ')}` : ''}; both passwords are still valid`,
        `see kubectl rollout status ${describeWorkload(stuck.ref)} -n ${cluster.namespace} and kubectl describe pods there; once it is fixed, run the same command again, or undo with user abort` +
          // statefulset.md, "Forced rollback": a StatefulSet waits on a broken pod even after its template is fixed.
          (stuck.ref.kind === 'statefulset'
            ? ` (a StatefulSet stuck on a broken pod continues only once that pod is deleted: kubectl delete pod -n ${cluster.namespace} POD)`
            : ''),
      );
    }
    ctx.progress.waiting(`${pending.map((p) => `${describeWorkload(p.ref)}: ${p.message}`).join('; ')}; ${formatDuration(elapsed)} of up to ${formatDuration(timeoutMs)}`);
    await sleep(ctx.pollMs, ctx.signal);
  }
}

const MARKS = {
  forward: { restarted: 'consumersRestartedAt', rolledOut: 'consumersRolledOutAt' },
  back: { restarted: 'consumersRestartedBackAt', rolledOut: 'consumersRolledBackAt' },
} as const;

/**
 * Moves the journal's consumers onto the password now in the Secret (the new one, or `back` to the old one on
 * abort): one restartedAt value, journaled before the first restart so a resumed run writes the same one, then
 * every rollout complete; journaled once done.
 */
export async function moveConsumers(ctx: ProcedureContext, cluster: Cluster, rolloutTimeoutMs: number, direction: 'forward' | 'back' = 'forward'): Promise<void> {
  const consumers = ctx.record.consumers ?? [];
  const marks = MARKS[direction];
  if (!consumers.length || ctx.record[marks.rolledOut]) return;
  const named = consumers.map(describeWorkload).join(', ');
  let at = ctx.record[marks.restarted];
  if (at === undefined) {
    // RFC 3339 has whole seconds: a restart back within the second of the restart forward would patch nothing.
    let next = Math.floor(Date.now() / 1000) * 1000;
    const forward = ctx.record.consumersRestartedAt;
    if (direction === 'back' && forward !== undefined && Date.parse(forward) >= next) next = Date.parse(forward) + 1000;
    at = new Date(next).toISOString().replace(/\.\d+Z$/, 'Z');
    await advance(ctx, { [marks.restarted]: at });
  }
  const restartedAt = at;
  await ctx.progress.step(
    `restart ${named}${direction === 'back' ? ' onto the old password' : ''} (kubectl rollout restart: ${RESTARTED_AT} ${restartedAt})`,
    () => restartConsumers(ctx, cluster, consumers, restartedAt),
    (n) => (n < consumers.length ? `${consumers.length - n} already restarted` : undefined),
  );
  await ctx.progress.step(`every rollout complete (kubectl rollout status rules; up to ${formatDuration(rolloutTimeoutMs)})`, () =>
    awaitRollouts(ctx, cluster, consumers, restartedAt, rolloutTimeoutMs),
  );
  await advance(ctx, { [marks.rolledOut]: new Date().toISOString() });
}
