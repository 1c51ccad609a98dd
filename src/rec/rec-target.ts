// One REC and everything a procedure touches for it: the resource, its pods, the credential store,
// the pod transport and REST client, and the journal.
import type { Cluster } from '../kube/cluster.js';
import type { Pod } from '../kube/resources.js';
import type { Session } from './session.js';
import { Journal } from '../journal/journal.js';
import { RecEvents } from './rec-events.js';
import { PodTransport } from '../pod/pod-transport.js';
import { RestClient } from '../rest/rest-client.js';
import { findRec, type FoundRec } from './rec-lookup.js';

export interface RecTarget extends FoundRec {
  namespace: string;
  /** The REC's namespace, for the REC itself and the Secrets beside it. */
  cluster: Cluster;
  pods: Pod[];
  transport: PodTransport;
  rest: RestClient;
  journal: Journal;
  /** Events on the REC, for kubectl describe rec (optional: without the permission, none). */
  events: RecEvents;
}

export async function loadRecTarget(session: Session, name: string): Promise<RecTarget> {
  return completeRecTarget(session, await findRec(session, name));
}

/** The rest of a target: the REC's pods (listed now), and the clients and journal that work on them. */
export async function completeRecTarget(session: Session, found: FoundRec): Promise<RecTarget> {
  const pods = await session.cluster.listRecPods(found.name);
  const transport = new PodTransport(session.api, session.namespace, session.timeoutMs);
  return {
    ...found,
    namespace: session.namespace,
    cluster: session.cluster,
    pods,
    transport,
    rest: new RestClient(transport, pods),
    journal: new Journal(session.cluster, found.name),
    events: new RecEvents(session.cluster, found.rec, (t) => session.progress.note(t)),
  };
}
