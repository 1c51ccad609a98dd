// The apps/v1 defaults the API server fills in on every write (kubernetes/kubernetes pkg/apis/apps/v1/defaults.go:
// SetDefaults_Deployment, SetDefaults_StatefulSet, SetDefaults_DaemonSet, SetDefaults_ReplicaSet). Clients depend on
// them: `kubectl rollout status` refuses a StatefulSet or DaemonSet whose updateStrategy.type is not RollingUpdate,
// and reads a StatefulSet with the defaulted rollingUpdate (partition 0) as a partitioned roll out
// (staging/src/k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go).
import type { KubeObject } from '../kube/store.js';

type Obj = Record<string, unknown>;

/** The object under `key`, created when absent (Go's pointer-to-struct defaulting). */
function child(parent: Obj, key: string): Obj {
  const v = parent[key];
  if (v && typeof v === 'object' && !Array.isArray(v)) return v as Obj;
  const o: Obj = {};
  parent[key] = o;
  return o;
}

/** Go's zero values: a missing, null or empty field is defaulted. */
const unset = (v: unknown) => v === undefined || v === null || v === '';

function setDefault(o: Obj, key: string, value: unknown): void {
  if (unset(o[key])) o[key] = value;
}

/** Fills the defaults of an apps/v1 object in place; `resource` is its plural name. */
export function setAppsDefaults(resource: string, o: KubeObject): void {
  const spec = child(o, 'spec');
  switch (resource) {
    case 'deployments': {
      setDefault(spec, 'replicas', 1);
      const strategy = child(spec, 'strategy');
      setDefault(strategy, 'type', 'RollingUpdate');
      if (strategy['type'] === 'RollingUpdate') {
        const ru = child(strategy, 'rollingUpdate');
        setDefault(ru, 'maxUnavailable', '25%');
        setDefault(ru, 'maxSurge', '25%');
      }
      setDefault(spec, 'revisionHistoryLimit', 10);
      setDefault(spec, 'progressDeadlineSeconds', 600);
      return;
    }
    case 'daemonsets': {
      const strategy = child(spec, 'updateStrategy');
      setDefault(strategy, 'type', 'RollingUpdate');
      if (strategy['type'] === 'RollingUpdate') {
        const ru = child(strategy, 'rollingUpdate');
        setDefault(ru, 'maxUnavailable', 1);
        setDefault(ru, 'maxSurge', 0);
      }
      setDefault(spec, 'revisionHistoryLimit', 10);
      return;
    }
    case 'statefulsets': {
      setDefault(spec, 'podManagementPolicy', 'OrderedReady');
      const strategy = child(spec, 'updateStrategy');
      // Only a defaulted type brings a rollingUpdate block: an explicit `type: RollingUpdate` without one keeps none.
      if (unset(strategy['type'])) {
        strategy['type'] = 'RollingUpdate';
        child(strategy, 'rollingUpdate');
      }
      const ru = strategy['rollingUpdate'];
      if (strategy['type'] === 'RollingUpdate' && ru && typeof ru === 'object') setDefault(ru as Obj, 'partition', 0);
      // StatefulSetAutoDeletePVC (GA in 1.32, on by default).
      const retention = child(spec, 'persistentVolumeClaimRetentionPolicy');
      setDefault(retention, 'whenDeleted', 'Retain');
      setDefault(retention, 'whenScaled', 'Retain');
      setDefault(spec, 'replicas', 1);
      setDefault(spec, 'revisionHistoryLimit', 10);
      return;
    }
    case 'replicasets':
      setDefault(spec, 'replicas', 1);
      return;
    default:
      return;
  }
}
