// kubectl reccred status: the journal, per-pod propagation of the stored credentials, the store and
// the last rotation. Read-only, and it never authenticates against the REST API.
import { openSession, type Session, type SessionOptions } from '../rec/session.js';
import { ageOf, userJournals } from '../journal/journal.js';
import { holderProcess, takeoverWaitMs } from '../journal/lease.js';
import { podIsReady } from '../kube/resources.js';
import { redactor } from '../output/redactor.js';
import type { Outcome } from '../output/result.js';
import { loadRecTarget, type RecTarget } from '../rec/rec-target.js';
import { baseResult } from '../procedures/procedure-run.js';
import { podPropagation } from '../procedures/waits.js';
import { ROTATED_AT } from '../store/secret-store.js';

export interface StatusRequest {
  session: SessionOptions;
  rec: string;
}

export async function status(request: StatusRequest): Promise<Outcome> {
  const session = await openSession(request.session);
  const target = await loadRecTarget(session, request.rec);
  return recStatus(session, target);
}

/** One REC's status document and its text form; prints nothing. */
export async function recStatus(session: Session, target: RecTarget): Promise<Outcome & { text: () => string }> {
  const [creds, journal, secret, users] = await Promise.all([
    target.store.read(),
    target.journal.read(),
    session.cluster.getSecret(target.secretName),
    userJournals(session.cluster, target.name),
  ]);
  for (const u of users) redactor.add(u.oldPassword, u.newPassword);
  redactor.add(creds.password, journal?.oldPassword, journal?.newPassword);
  const propagation = await podPropagation(target, creds);
  const result = baseResult('status', session, target.name, target);
  result.username = creds.username;
  result.steps = [];
  result.phase = journal ? journal.phase : 'idle';
  result.pods = target.pods.map((p) => ({
    name: p.metadata.name,
    ready: podIsReady(p),
    propagation: propagation.find((s) => s.pod === p.metadata.name)?.state ?? 'unknown',
  }));
  if (journal) {
    const { operation, phase, holder, startedAt, heartbeatAt, storeUpdatedAt } = journal;
    const participants = journal.participants?.map((p) => ({
      context: p.context,
      namespace: p.namespace,
      rerc: p.rerc,
      secret: p.secret,
      state: p.restoredAt ? ('restored' as const) : p.updatedAt ? ('updated' as const) : ('pending' as const),
    }));
    result.journal = { operation, phase, holder, startedAt, heartbeatAt, storeUpdatedAt, ...(participants ? { participants } : {}) };
  }
  if (users.length) result.userOperations = users.map((u) => ({ username: u.username, operation: u.operation, phase: u.phase, startedAt: u.startedAt }));
  const rotatedAt = secret?.metadata.annotations?.[ROTATED_AT];
  const text = () => {
    const lines = [
      `REC:            ${target.name} (namespace ${target.namespace}, ${target.rec.status?.state ?? 'unknown'})`,
      `Store:          ${target.store.location}, user ${creds.username}`,
      `Last rotation:  ${rotatedAt ? `${rotatedAt} (${ageOf(rotatedAt)} ago)` : 'unknown (not rotated by this tool)'}`,
      journal
        ? `Operation:      ${journal.operation} in phase "${journal.phase}", held by ${journal.holder} (${holderProcess(journal.lease) === 'gone' ? 'its process on this machine is gone: finish or abort it' : `finish or abort takes it over once its lease stays unchanged for ${Math.round(takeoverWaitMs(journal.lease) / 1000)}s`}), started ${ageOf(journal.startedAt)} ago`
        : 'Operation:      none in progress',
      ...(result.journal?.participants ?? []).map(
        (p) => `Active-Active:  ${p.context || 'this cluster'}: RERC ${p.rerc}, secret ${p.namespace}/${p.secret} ${p.state === 'pending' ? 'not updated yet' : p.state}`,
      ),
      ...users.map((u) =>
        u.operation === 'user-rotate' && u.phase === 'stored'
          ? `User:           ${u.username} has two valid passwords since ${ageOf(u.storeUpdatedAt ?? u.startedAt)}; once clients use the new one: kubectl reccred user finish ${target.name} -n ${target.namespace} --user ${u.username}`
          : `User:           ${u.operation} of ${u.username} unfinished in phase "${u.phase}"; run the same user command again to complete it`,
      ),
      'Pods (mounted credentials vs store):',
      ...result.pods.map((p) => `  ${p.name.padEnd(24)} ${p.ready ? 'Ready   ' : 'NotReady'} ${p.propagation}`),
      '',
    ];
    return lines.join('\n');
  };
  return { result, text };
}
