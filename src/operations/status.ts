// kubectl reccred status: the journal, per-pod propagation of the stored credentials, the store and
// the last rotation. Read-only; it authenticates against the REST API only with --check, once.
import { openSession, type Session, type SessionOptions } from '../rec/session.js';
import { ageOf, userJournals, type JournalRecord } from '../journal/journal.js';
import { holderProcess, takeoverWaitMs } from '../journal/lease.js';
import { podIsReady } from '../kube/resources.js';
import { redactor } from '../output/redactor.js';
import type { Outcome, Result } from '../output/result.js';
import { ExitCode, ReccredError } from '../errors/exit-codes.js';
import { formatDuration } from '../duration/duration.js';
import { AuthenticationFailedError } from '../rest/rest-errors.js';
import type { StoredCredentials } from '../store/credential-store.js';
import { loadRecTarget, type RecTarget } from '../rec/rec-target.js';
import { baseResult } from '../procedures/base-result.js';
import { outcome } from '../procedures/procedure-run.js';
import { podPropagation } from '../procedures/waits.js';
import { ROTATED_AT } from '../store/secret-store.js';

export interface StatusRequest {
  session: SessionOptions;
  rec: string;
  check?: StatusCheck;
}

/** status --check: the REC is healthy only if no operation is older than maxOperationAgeMs, every pod mounts the store's credentials, and they authenticate. */
export interface StatusCheck {
  maxOperationAgeMs: number;
}

export async function status(request: StatusRequest): Promise<Outcome> {
  const session = await openSession(request.session);
  const target = await loadRecTarget(session, request.rec);
  return recStatus(session, target, request.check);
}

/** One REC's status document and its text form; prints nothing. */
export async function recStatus(session: Session, target: RecTarget, check?: StatusCheck): Promise<Outcome & { text: () => string }> {
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
  const error = check ? await healthChecks(target, result, creds, journal, users, check) : undefined;
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
      ...(result.checks ? ['Checks:', ...result.checks.map((c) => `  ${c.ok ? 'ok    ' : 'FAILED'} ${c.name}: ${c.detail}`)] : []),
      '',
    ];
    return lines.join('\n');
  };
  return { ...outcome(result, error), text };
}

/**
 * The three conditions of status --check, recorded in the result; the error (exit 1) names the failed ones.
 * Pods may lag the store while an operation younger than the limit runs: that is its propagation wait. The
 * store's credentials are tried with one login, never repeated (SPEC 3.4).
 */
async function healthChecks(
  target: RecTarget,
  result: Result,
  creds: StoredCredentials,
  own: JournalRecord | undefined,
  users: JournalRecord[],
  check: StatusCheck,
): Promise<ReccredError | undefined> {
  const operations = [...(own ? [own] : []), ...users];
  const ageMs = (j: JournalRecord) => Date.now() - Date.parse(j.startedAt);
  const old = operations.filter((j) => ageMs(j) > check.maxOperationAgeMs);
  // Only the REC's own operation moves its pods; a user's says nothing about them.
  const young = own !== undefined && ageMs(own) <= check.maxOperationAgeMs;
  const lagging = result.pods.filter((p) => p.propagation !== 'current');
  let login: string | undefined;
  if (own?.operation === 'reset' && (own.replaceSentAt !== undefined || own.phase !== 'recorded')) {
    // After reset's PUT the store may hold a password that no longer works (SPEC 3.1): a login would only add a failure.
    login = 'not tried: a reset is replacing the passwords (run kubectl reccred finish now)';
  } else {
    try {
      await target.rest.authenticate(creds);
    } catch (err) {
      login =
        err instanceof AuthenticationFailedError
          ? `the REST API refused them (401): a wrong password or a locked account`
          : `could not be checked: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  result.checks = [
    {
      name: 'operation-age',
      ok: !old.length,
      detail: old.length
        ? old.map((j) => `${j.operation} of ${j.username} in phase ${j.phase}, started ${ageOf(j.startedAt)} ago`).join('; ') +
          ` (limit ${formatDuration(check.maxOperationAgeMs)})`
        : operations.length
          ? `${operations.length} in progress, within ${formatDuration(check.maxOperationAgeMs)}`
          : 'none in progress',
    },
    {
      name: 'pods-current',
      ok: !lagging.length || young,
      detail: lagging.length
        ? `${lagging.map((p) => `${p.name} ${p.propagation}`).join(', ')}${young ? ' (an operation in progress is propagating)' : ''}`
        : `all ${result.pods.length} pods mount the store's credentials`,
    },
    {
      name: 'store-authenticates',
      ok: login === undefined,
      detail: login === undefined ? `${target.store.location} authenticates ${creds.username}` : `${target.store.location}: ${login}`,
    },
  ];
  const failed = result.checks.filter((c) => !c.ok);
  if (!failed.length) return undefined;
  return new ReccredError(
    `REC ${target.name} is unhealthy: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}`,
    ExitCode.Failed,
    `see: kubectl reccred status ${target.name} -n ${target.namespace}`,
  );
}
