// The Deployment controller (kubernetes/kubernetes pkg/controller/deployment): one ReplicaSet per pod template,
// named `<deployment>-<pod-template-hash>` and numbered by the `deployment.kubernetes.io/revision` annotation
// (sync.go getNewReplicaSet); the rolling update within maxSurge/maxUnavailable (rolling.go reconcileNewReplicaSet,
// reconcileOldReplicaSets, cleanupUnhealthyReplicas, scaleDownOldReplicaSetsForRollingUpdate; the 25%/25% defaults
// come from the API server, test/sim/apps/defaults.ts); Recreate (recreate.go); the status and its Available and
// Progressing conditions (sync.go calculateStatus, progress.go syncRolloutStatus, util/deployment_util.go:
// NewReplicaSetCreated, ReplicaSetUpdated, NewReplicaSetAvailable, ProgressDeadlineExceeded after
// spec.progressDeadlineSeconds without progress, DeploymentPaused/DeploymentResumed); old ReplicaSets beyond
// revisionHistoryLimit removed (sync.go cleanupDeployment).
import type { KubeObject, KubeStore } from '../kube/store.js';
import { canonicalJson, templateHash } from './names.js';
import { omitZero } from './replicaset-controller.js';
import { controllerRef, get, num, owned, rfc3339, scaledValue, writeObject, writeStatus, type Condition, type Obj } from './workloads.js';

const REVISION = 'deployment.kubernetes.io/revision';
const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
const HASH_LABEL = 'pod-template-hash';
// util/deployment_util.go annotationsToSkip: what a new ReplicaSet does not copy from its Deployment.
const ANNOTATIONS_TO_SKIP = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  'deployment.kubernetes.io/revision-history',
  DESIRED_REPLICAS,
  MAX_REPLICAS,
  'deprecated.deployment.rollback.to',
]);

/** util.HasProgressDeadline: set and not MaxInt32. */
const hasProgressDeadline = (d: KubeObject) => typeof get(d, 'spec', 'progressDeadlineSeconds') === 'number' && get(d, 'spec', 'progressDeadlineSeconds') !== 2147483647;
const replicasOf = (o: KubeObject) => num(get(o, 'spec', 'replicas'), 1);
const revisionOf = (rs: KubeObject) => Number(rs.metadata.annotations?.[REVISION] ?? 0) || 0;
const isRolling = (d: KubeObject) => get(d, 'spec', 'strategy', 'type') !== 'Recreate';
const byCreation = (a: KubeObject, b: KubeObject) =>
  (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || a.metadata.name.localeCompare(b.metadata.name);

/** util.ResolveFenceposts: maxSurge rounds up, maxUnavailable down; both 0 makes maxUnavailable 1. */
function fenceposts(d: KubeObject): { surge: number; unavailable: number } {
  const desired = replicasOf(d);
  const surge = scaledValue(get(d, 'spec', 'strategy', 'rollingUpdate', 'maxSurge'), desired, true);
  let unavailable = scaledValue(get(d, 'spec', 'strategy', 'rollingUpdate', 'maxUnavailable'), desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}
const maxSurge = (d: KubeObject) => (isRolling(d) ? fenceposts(d).surge : 0);
function maxUnavailable(d: KubeObject): number {
  if (!isRolling(d) || replicasOf(d) === 0) return 0;
  return Math.min(fenceposts(d).unavailable, replicasOf(d));
}

/** A template with the pod-template-hash label removed (util.EqualIgnoreHash). */
function withoutHash(template: unknown): string {
  const t = structuredClone((template ?? {}) as Obj);
  const labels = get(t, 'metadata', 'labels') as Record<string, string> | undefined;
  if (labels) delete labels[HASH_LABEL];
  return canonicalJson(t);
}

const newCondition = (type: string, status: Condition['status'], reason: string, message: string, now: number): Condition => ({
  type,
  status,
  lastUpdateTime: rfc3339(now),
  lastTransitionTime: rfc3339(now),
  reason,
  message,
});

/** util.SetDeploymentCondition: same status and reason changes nothing; same status keeps lastTransitionTime. */
function setCondition(conds: Condition[], c: Condition): Condition[] {
  const current = conds.find((x) => x.type === c.type);
  if (current && current.status === c.status && current.reason === c.reason) return conds;
  const next = current && current.status === c.status ? { ...c, lastTransitionTime: current.lastTransitionTime! } : c;
  return [...conds.filter((x) => x.type !== c.type), next];
}

interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: Condition[];
  collisionCount?: number;
}

export class DeploymentController {
  constructor(private readonly ctx: { store: KubeStore }) {}

  sync(now: number): void {
    for (const d of this.ctx.store.list('deployments')) this.syncOne(d, now);
  }

  private syncOne(d: KubeObject, now: number): void {
    const { store } = this.ctx;
    const before = (d['status'] ?? {}) as DeploymentStatus;
    let conds = [...(before.conditions ?? [])];
    let collisionCount = before.collisionCount;
    // Every ReplicaSet this Deployment controls, kept current as they are scaled in this pass.
    const rsByName = new Map(owned(store, 'replicasets', d).map((rs) => [rs.metadata.name, rs]));
    const template = get(d, 'spec', 'template');
    const findNew = () => [...rsByName.values()].filter((rs) => withoutHash(get(rs, 'spec', 'template')) === withoutHash(template)).sort(byCreation)[0];
    const olds = () => [...rsByName.values()].filter((rs) => rs !== findNew());

    const scale = (rs: KubeObject, replicas: number): boolean => {
      const annotations = { ...(rs.metadata.annotations ?? {}), [DESIRED_REPLICAS]: String(replicasOf(d)), [MAX_REPLICAS]: String(replicasOf(d) + maxSurge(d)) };
      const sizeChanged = replicasOf(rs) !== replicas;
      const updated = writeObject(store, 'replicasets', rs, { spec: { ...(rs['spec'] as Obj), replicas }, annotations });
      rsByName.set(updated.metadata.name, updated);
      return sizeChanged;
    };

    // progress.go / sync.go checkPausedConditions.
    const paused = get(d, 'spec', 'paused') === true;
    if (hasProgressDeadline(d)) {
      const progressing = conds.find((c) => c.type === 'Progressing');
      if (progressing?.reason !== 'ProgressDeadlineExceeded') {
        const pausedCondition = progressing?.reason === 'DeploymentPaused';
        if (paused && !pausedCondition) conds = setCondition(conds, newCondition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused', now));
        else if (!paused && pausedCondition) conds = setCondition(conds, newCondition('Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed', now));
      }
    }

    const maxOldRevision = () => Math.max(0, ...olds().map(revisionOf));
    // getNewReplicaSet: an existing new ReplicaSet gets the next revision when it is behind; a missing one is
    // created (not for a paused Deployment, nor by Recreate while old pods run).
    const syncNewReplicaSet = (create: boolean): KubeObject | undefined => {
      const newRevision = String(maxOldRevision() + 1);
      const existing = findNew();
      if (existing) {
        if (revisionOf(existing) < Number(newRevision)) {
          const updated = writeObject(store, 'replicasets', existing, { annotations: { ...(existing.metadata.annotations ?? {}), [REVISION]: newRevision } });
          rsByName.set(updated.metadata.name, updated);
        }
        this.setRevision(d, String(revisionOf(rsByName.get(existing.metadata.name)!)));
        if (hasProgressDeadline(d) && !conds.some((c) => c.type === 'Progressing')) {
          conds = setCondition(conds, newCondition('Progressing', 'True', 'FoundNewReplicaSet', `Found new replica set "${existing.metadata.name}"`, now));
        }
        return rsByName.get(existing.metadata.name);
      }
      if (!create) return undefined;
      for (;;) {
        const hash = templateHash(template, collisionCount);
        const name = `${d.metadata.name}-${hash}`;
        const clash = store.get('replicasets', d.metadata.namespace, name);
        if (clash) {
          // A ReplicaSet of that name that is not this template: the hash collides, so count and rehash.
          collisionCount = (collisionCount ?? 0) + 1;
          continue;
        }
        const rsTemplate = structuredClone((template ?? {}) as Obj);
        const meta = ((rsTemplate['metadata'] as Obj | undefined) ?? {}) as { labels?: Record<string, string> };
        rsTemplate['metadata'] = { ...meta, labels: { ...(meta.labels ?? {}), [HASH_LABEL]: hash } };
        const selector = structuredClone((get(d, 'spec', 'selector') ?? {}) as { matchLabels?: Record<string, string> });
        selector.matchLabels = { ...(selector.matchLabels ?? {}), [HASH_LABEL]: hash };
        const annotations = Object.fromEntries(Object.entries(d.metadata.annotations ?? {}).filter(([k]) => !ANNOTATIONS_TO_SKIP.has(k)));
        const draft: KubeObject = {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          metadata: { name, namespace: d.metadata.namespace, labels: { ...(meta.labels ?? {}), [HASH_LABEL]: hash }, ownerReferences: [controllerRef(d)] },
          spec: { replicas: 0, minReadySeconds: num(get(d, 'spec', 'minReadySeconds')), selector, template: rsTemplate },
        };
        const replicas = isRolling(d) ? this.newReplicas(d, [...rsByName.values(), draft], draft) : replicasOf(d);
        draft.metadata.annotations = {
          ...annotations,
          [DESIRED_REPLICAS]: String(replicasOf(d)),
          [MAX_REPLICAS]: String(replicasOf(d) + maxSurge(d)),
          [REVISION]: newRevision,
        };
        draft['spec'] = { ...(draft['spec'] as Obj), replicas };
        draft.metadata['generation'] = 1;
        const created = store.create('replicasets', { ...draft, status: { replicas: 0 } });
        rsByName.set(name, created);
        this.setRevision(d, newRevision);
        if (hasProgressDeadline(d)) conds = setCondition(conds, newCondition('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${name}"`, now));
        return created;
      }
    };

    const finish = (rollout: boolean) => {
      const newRS = findNew();
      const all = [...rsByName.values()];
      this.writeDeploymentStatus(d, before, this.calculateStatus(d, all, newRS, conds, collisionCount, rollout, before, now));
    };

    if (paused) {
      syncNewReplicaSet(false);
      this.scaleIfNeeded(d, findNew(), olds(), scale);
      finish(false);
      return;
    }
    // A scaling event (spec.replicas changed while no template changed): sync.go scale.
    if (findNew() && this.scaleIfNeeded(d, findNew(), olds(), scale)) {
      finish(false);
      return;
    }

    if (!isRolling(d)) {
      // recreate.go rolloutRecreate: every old ReplicaSet to 0, and the new one only once no old pod runs.
      syncNewReplicaSet(false);
      let scaledDown = false;
      for (const rs of olds()) if (replicasOf(rs) > 0) scaledDown = scale(rs, 0) || scaledDown;
      if (scaledDown || olds().some((rs) => num(get(rs, 'status', 'replicas')) > 0)) return finish(true);
      const newRS = syncNewReplicaSet(true)!;
      if (replicasOf(newRS) !== replicasOf(d)) scale(newRS, replicasOf(d));
      if (this.complete(d, newRS, [...rsByName.values()])) this.cleanup(d, olds());
      return finish(true);
    }

    // rolling.go rolloutRolling: scale up the new ReplicaSet if we can, else scale down the old ones if we can.
    const newRS = syncNewReplicaSet(true)!;
    if (this.reconcileNew(d, [...rsByName.values()], newRS, scale)) return finish(true);
    if (this.reconcileOld(d, [...rsByName.values()], olds(), rsByName.get(newRS.metadata.name)!, scale)) return finish(true);
    if (this.complete(d, rsByName.get(newRS.metadata.name)!, [...rsByName.values()])) this.cleanup(d, olds());
    finish(true);
  }

  private setRevision(d: KubeObject, revision: string): void {
    const current = this.ctx.store.get('deployments', d.metadata.namespace, d.metadata.name);
    if (!current || current.metadata.annotations?.[REVISION] === revision) return;
    writeObject(this.ctx.store, 'deployments', current, { annotations: { ...(current.metadata.annotations ?? {}), [REVISION]: revision } });
  }

  /** util.NewRSNewReplicas for RollingUpdate: up to replicas + maxSurge pods in all. */
  private newReplicas(d: KubeObject, all: KubeObject[], newRS: KubeObject): number {
    const current = all.reduce((n, rs) => n + replicasOf(rs), 0);
    const maxTotal = replicasOf(d) + maxSurge(d);
    if (current >= maxTotal) return replicasOf(newRS);
    return replicasOf(newRS) + Math.min(maxTotal - current, replicasOf(d) - replicasOf(newRS));
  }

  private reconcileNew(d: KubeObject, all: KubeObject[], newRS: KubeObject, scale: (rs: KubeObject, n: number) => boolean): boolean {
    if (replicasOf(newRS) === replicasOf(d)) return false;
    if (replicasOf(newRS) > replicasOf(d)) return scale(newRS, replicasOf(d));
    const n = this.newReplicas(d, all, newRS);
    return n !== replicasOf(newRS) && scale(newRS, n);
  }

  private reconcileOld(d: KubeObject, all: KubeObject[], olds: KubeObject[], newRS: KubeObject, scale: (rs: KubeObject, n: number) => boolean): boolean {
    const oldPods = olds.reduce((n, rs) => n + replicasOf(rs), 0);
    if (oldPods === 0) return false;
    const allPods = all.reduce((n, rs) => n + replicasOf(rs), 0);
    const minAvailable = replicasOf(d) - maxUnavailable(d);
    const newUnavailable = replicasOf(newRS) - num(get(newRS, 'status', 'availableReplicas'));
    const maxScaledDown = allPods - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    // cleanupUnhealthyReplicas: old pods that are not available go first, oldest ReplicaSet first.
    const current = new Map(olds.map((rs) => [rs.metadata.name, rs]));
    let cleaned = 0;
    for (const rs of [...olds].sort(byCreation)) {
      if (cleaned >= maxScaledDown) break;
      const unhealthy = replicasOf(rs) - num(get(rs, 'status', 'availableReplicas'));
      if (replicasOf(rs) === 0 || unhealthy <= 0) continue;
      const down = Math.min(maxScaledDown - cleaned, unhealthy);
      scale(rs, replicasOf(rs) - down);
      current.set(rs.metadata.name, this.ctx.store.mustGet('replicasets', rs.metadata.namespace, rs.metadata.name));
      cleaned += down;
    }
    // scaleDownOldReplicaSetsForRollingUpdate: down to minAvailable available pods in all.
    const available = [...current.values(), newRS].reduce((n, rs) => n + num(get(rs, 'status', 'availableReplicas')), 0);
    let scaledDown = 0;
    if (available > minAvailable) {
      const total = available - minAvailable;
      for (const rs of [...current.values()].sort(byCreation)) {
        if (scaledDown >= total) break;
        if (replicasOf(rs) === 0) continue;
        const down = Math.min(replicasOf(rs), total - scaledDown);
        scale(rs, replicasOf(rs) - down);
        scaledDown += down;
      }
    }
    return cleaned + scaledDown > 0;
  }

  /** sync.go isScalingEvent and scale: one active ReplicaSet (or none) takes spec.replicas; a saturated new one leaves the old at 0. */
  private scaleIfNeeded(d: KubeObject, newRS: KubeObject | undefined, olds: KubeObject[], scale: (rs: KubeObject, n: number) => boolean): boolean {
    const active = [newRS, ...olds].filter((rs): rs is KubeObject => !!rs && replicasOf(rs) > 0);
    const scalingEvent = active.some((rs) => rs.metadata.annotations?.[DESIRED_REPLICAS] !== undefined && rs.metadata.annotations[DESIRED_REPLICAS] !== String(replicasOf(d)));
    if (!scalingEvent) return false;
    const latest = active.length === 0 ? (newRS ?? [...olds].sort(byCreation).pop()) : active.length === 1 ? active[0] : undefined;
    if (latest) return replicasOf(latest) !== replicasOf(d) ? scale(latest, replicasOf(d)) : false;
    if (newRS && replicasOf(newRS) === replicasOf(d) && num(get(newRS, 'status', 'availableReplicas')) === replicasOf(d)) {
      let scaled = false;
      for (const rs of olds) if (replicasOf(rs) > 0) scaled = scale(rs, 0) || scaled;
      return scaled;
    }
    return false;
  }

  /** util.DeploymentComplete on the status the ReplicaSets give now. */
  private complete(d: KubeObject, newRS: KubeObject, all: KubeObject[]): boolean {
    const r = replicasOf(d);
    const sum = (f: string) => all.reduce((n, rs) => n + num(get(rs, 'status', f)), 0);
    return num(get(newRS, 'status', 'replicas')) === r && sum('replicas') === r && sum('availableReplicas') === r;
  }

  /** cleanupDeployment: old ReplicaSets scaled to 0 beyond revisionHistoryLimit, oldest first. */
  private cleanup(d: KubeObject, olds: KubeObject[]): void {
    const limit = get(d, 'spec', 'revisionHistoryLimit');
    if (typeof limit !== 'number') return;
    const cleanable = olds.filter((rs) => rs.metadata['deletionTimestamp'] === undefined).sort(byCreation);
    for (const rs of cleanable.slice(0, Math.max(0, cleanable.length - limit))) {
      if (num(get(rs, 'status', 'replicas')) !== 0 || replicasOf(rs) !== 0) continue;
      this.ctx.store.delete('replicasets', rs.metadata.namespace, rs.metadata.name);
    }
  }

  /** sync.go calculateStatus, then progress.go syncRolloutStatus (when `rollout`) for the Progressing condition. */
  private calculateStatus(
    d: KubeObject,
    all: KubeObject[],
    newRS: KubeObject | undefined,
    conditions: Condition[],
    collisionCount: number | undefined,
    rollout: boolean,
    before: DeploymentStatus,
    now: number,
  ): DeploymentStatus {
    const sum = (f: string) => all.reduce((n, rs) => n + num(get(rs, 'status', f)), 0);
    const available = sum('availableReplicas');
    const total = all.reduce((n, rs) => n + replicasOf(rs), 0);
    let conds = conditions;
    const status: DeploymentStatus = {
      observedGeneration: num(d.metadata['generation'], 1),
      replicas: sum('replicas'),
      updatedReplicas: newRS ? num(get(newRS, 'status', 'replicas')) : 0,
      readyReplicas: sum('readyReplicas'),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
    };
    conds =
      available >= replicasOf(d) - maxUnavailable(d)
        ? setCondition(conds, newCondition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.', now))
        : setCondition(conds, newCondition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.', now));
    if (rollout) {
      if (!hasProgressDeadline(d)) conds = conds.filter((c) => c.type !== 'Progressing');
      const current = conds.find((c) => c.type === 'Progressing');
      const alreadyComplete = status.replicas === status.updatedReplicas && current?.reason === 'NewReplicaSetAvailable';
      if (hasProgressDeadline(d) && !alreadyComplete) {
        const subject = newRS ? `ReplicaSet "${newRS.metadata.name}"` : `Deployment "${d.metadata.name}"`;
        const r = replicasOf(d);
        const complete =
          status.updatedReplicas === r && status.replicas === r && status.availableReplicas === r && (status.observedGeneration ?? 0) >= num(d.metadata['generation'], 1);
        const oldBefore = (before.replicas ?? 0) - (before.updatedReplicas ?? 0);
        const oldNow = (status.replicas ?? 0) - (status.updatedReplicas ?? 0);
        const progressing =
          (status.updatedReplicas ?? 0) > (before.updatedReplicas ?? 0) ||
          oldNow < oldBefore ||
          (status.readyReplicas ?? 0) > (before.readyReplicas ?? 0) ||
          (status.availableReplicas ?? 0) > (before.availableReplicas ?? 0);
        if (complete) {
          conds = setCondition(conds, newCondition('Progressing', 'True', 'NewReplicaSetAvailable', `${subject} has successfully progressed.`, now));
        } else if (progressing) {
          // Every field but lastTransitionTime is refreshed: lastUpdateTime is where the progress deadline counts from.
          const c = newCondition('Progressing', 'True', 'ReplicaSetUpdated', `${subject} is progressing.`, now);
          if (current?.status === 'True') c.lastTransitionTime = current.lastTransitionTime!;
          conds = [...conds.filter((x) => x.type !== 'Progressing'), c];
        } else if (current && current.reason !== 'NewReplicaSetAvailable') {
          const deadline = num(get(d, 'spec', 'progressDeadlineSeconds'));
          const from = Date.parse(current.lastUpdateTime ?? '') || now;
          if (current.reason === 'ProgressDeadlineExceeded' || from + deadline * 1000 < now) {
            conds = setCondition(conds, newCondition('Progressing', 'False', 'ProgressDeadlineExceeded', `${subject} has timed out progressing.`, now));
          }
        }
      }
    }
    status.conditions = conds;
    if (collisionCount !== undefined) status.collisionCount = collisionCount;
    return omitZero(status as Obj, ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas']) as DeploymentStatus;
  }

  private writeDeploymentStatus(d: KubeObject, before: DeploymentStatus, next: DeploymentStatus): void {
    // The conditions' timestamps alone do not make a new status (SetDeploymentCondition leaves an equal condition).
    if (canonicalJson(before) === canonicalJson(next)) return;
    writeStatus(this.ctx.store, 'deployments', d, next as Obj);
  }
}
