// The Events a run records on its REC, for `kubectl describe rec` and event exporters. Recording is optional:
// without the permission (or when the API server refuses one) the run says so once and carries on; an Event
// never stops a rotation, and its note passes the redactor like every other line.
import { KubeApiError } from '../kube/api-client.js';
import type { Cluster } from '../kube/cluster.js';
import { createEvent, type EventRegarding, type NewEvent } from '../kube/events.js';
import type { Rec } from '../kube/resources.js';
import { redactor } from '../output/redactor.js';

export const EVENTS_PERMISSION = { verb: 'create', resource: 'events', group: 'events.k8s.io' } as const;

// Said once per run, whatever the number of RECs and namespaces.
let said = false;

export class RecEvents {
  private allowed: Promise<boolean> | undefined;
  private readonly regarding: EventRegarding;
  private readonly recorded = new Set<string>();
  /** A milestone was recorded (the operation started): its end is recorded too. */
  started = false;

  constructor(
    private readonly cluster: Cluster,
    rec: Rec,
    private readonly note: (text: string) => void,
  ) {
    this.regarding = {
      apiVersion: rec.apiVersion,
      kind: 'RedisEnterpriseCluster',
      name: rec.metadata.name,
      namespace: cluster.namespace,
      ...(rec.metadata.uid ? { uid: rec.metadata.uid } : {}),
    };
  }

  /** Whether Events can be recorded here (one access review per namespace, shared by a fleet). */
  permitted(): Promise<boolean> {
    this.allowed ??= this.cluster.canI(EVENTS_PERMISSION).then(
      (ok) => {
        if (!ok) this.off(`this account may not create events.events.k8s.io in namespace ${this.cluster.namespace}`);
        return ok;
      },
      () => false,
    );
    return this.allowed;
  }

  /** Records `e` once per run (a resumed step does not repeat it); never throws. */
  async record(e: NewEvent): Promise<void> {
    const key = `${e.reason}\n${e.note}`;
    if (this.recorded.has(key)) return;
    this.recorded.add(key);
    if (!(await this.permitted())) return;
    try {
      await createEvent(this.cluster, this.regarding, { ...e, note: redactor.scrub(e.note) });
    } catch (err) {
      this.allowed = Promise.resolve(false);
      this.off(err instanceof KubeApiError ? `${err.status} ${err.reason}` : err instanceof Error ? err.message : String(err));
    }
  }

  private off(why: string): void {
    if (said) return;
    said = true;
    this.note(`Events: not recorded on the REC (${why}); the run carries on. To see rotations in kubectl describe rec, grant "create" on events in the events.k8s.io group.`);
  }
}
