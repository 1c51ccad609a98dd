// kubectl reccred status: the journal, per-pod propagation of the stored credentials, the store and
// the last rotation. Read-only, and it never authenticates against the REST API.
import type { GlobalFlags } from '../../cli/global-flags.js';
import { openSession } from '../../cli/session.js';
import { ageOf, holderIsAlive } from '../../journal/journal.js';
import { podIsReady } from '../../kube/resources.js';
import { redactor } from '../../output/redactor.js';
import { printResult } from '../../output/result.js';
import { loadRecTarget } from '../../rec/rec-target.js';
import { baseResult } from '../../rotation/procedure-run.js';
import { podPropagation } from '../../rotation/waits.js';
import { ROTATED_AT } from '../../store/secret-store.js';

export interface StatusFlags extends GlobalFlags {
  rec: string;
}

export async function status(flags: StatusFlags): Promise<number> {
  const session = await openSession(flags);
  const target = await loadRecTarget(session, flags.rec);
  const [creds, journal, secret] = await Promise.all([target.store.read(), target.journal.read(), session.cluster.getSecret(target.secretName)]);
  redactor.add(creds.password, journal?.oldPassword, journal?.newPassword);
  const propagation = await podPropagation(target, creds);
  const result = baseResult('status', session, flags.rec, target);
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
    result.journal = { operation, phase, holder, startedAt, heartbeatAt, storeUpdatedAt };
  }
  const rotatedAt = secret?.metadata.annotations?.[ROTATED_AT];
  const text = () => {
    const lines = [
      `REC:            ${target.name} (namespace ${target.namespace}, ${target.rec.status?.state ?? 'unknown'})`,
      `Store:          ${target.store.location}, user ${creds.username}`,
      `Last rotation:  ${rotatedAt ? `${rotatedAt} (${ageOf(rotatedAt)} ago)` : 'unknown (not rotated by this tool)'}`,
      journal
        ? `Operation:      ${journal.operation} in phase "${journal.phase}", held by ${journal.holder} (${holderIsAlive(journal) ? 'running' : 'not running: finish or abort it'}), started ${ageOf(journal.startedAt)} ago`
        : 'Operation:      none in progress',
      'Pods (mounted credentials vs store):',
      ...result.pods.map((p) => `  ${p.name.padEnd(24)} ${p.ready ? 'Ready   ' : 'NotReady'} ${p.propagation}`),
      '',
    ];
    return lines.join('\n');
  };
  printResult(result, session.flags.output, text);
  return 0;
}
