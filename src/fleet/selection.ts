// Which RECs a fleet command acts on: names in one namespace, a label selector, or every namespace.
// Refusals follow kubectl's (names cannot be combined with a selector or with --all-namespaces).
import { usageError } from '../errors/exit-codes.js';
import { openSession, type Session, type SessionOptions } from '../rec/session.js';
import { concurrencyOf } from './concurrency.js';
import { validateRecName } from '../rec/rec-lookup.js';

export interface FleetMember {
  namespace: string;
  name: string;
}

/** The RECs a fleet command acts on, as the command line chose them. */
export interface FleetSelection {
  rec: string[];
  selector?: string;
  allNamespaces: boolean;
  /** RECs in active steps at once. */
  concurrency: number;
}

export function describeSelection(flags: FleetSelection, namespace: string): string {
  if (flags.rec.length) return `${flags.rec.length} RECs in namespace ${namespace}`;
  const where = flags.allNamespaces ? 'all namespaces' : `namespace ${namespace}`;
  return flags.selector ? `RECs matching ${flags.selector} in ${where}` : `every REC in ${where}`;
}

/** The usage checks, before anything connects. */
export function checkSelection(flags: FleetSelection): void {
  if (!flags.rec.length && flags.selector === undefined && !flags.allNamespaces) {
    throw usageError('name a REC, or select RECs with -l/--selector or -A/--all-namespaces', 'see: kubectl reccred rotate --help');
  }
  if (flags.rec.length && (flags.selector !== undefined || flags.allNamespaces)) {
    throw usageError('name RECs or select them with -l/--selector or -A/--all-namespaces, not both');
  }
  if (flags.selector !== undefined && !flags.selector.trim()) throw usageError('--selector is empty');
  for (const name of flags.rec) validateRecName(name);
}

export async function selectRecs(session: Session, flags: FleetSelection): Promise<FleetMember[]> {
  checkSelection(flags);
  let members: FleetMember[];
  if (flags.rec.length) {
    members = [...new Set(flags.rec)].map((name) => ({ namespace: session.namespace, name }));
  } else {
    const recs = await session.cluster.listRecs(flags.allNamespaces, flags.selector);
    members = recs.map((r) => ({ namespace: r.metadata.namespace ?? session.namespace, name: r.metadata.name }));
  }
  if (!members.length) {
    throw usageError(`no RedisEnterpriseCluster matched (${describeSelection(flags, session.namespace)})`, 'list them with: kubectl get rec -A --show-labels');
  }
  return members.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

/** A fleet command's start: the usage checks, the connection, the RECs it acts on (sorted), its concurrency. */
export async function openFleet(sessionOptions: SessionOptions, selection: FleetSelection): Promise<{ session: Session; members: FleetMember[]; concurrency: number }> {
  checkSelection(selection);
  const concurrency = concurrencyOf(selection.concurrency);
  const session = await openSession(sessionOptions);
  return { session, members: await selectRecs(session, selection), concurrency };
}
