// kubectl reccred get: the REC's admin credentials, password masked unless --reveal.
import { openSession, type SessionOptions } from '../rec/session.js';
import { redactor } from '../output/redactor.js';
import type { Outcome } from '../output/result.js';
import { completeRecTarget, findRec } from '../rec/rec-target.js';
import { baseResult } from '../procedures/procedure-run.js';

export interface GetRequest {
  session: SessionOptions;
  rec: string;
  /** The password in the result (stdout only). */
  reveal: boolean;
}

export async function get(request: GetRequest): Promise<Outcome> {
  const session = await openSession(request.session);
  const found = await findRec(session, request.rec);
  // The credentials and the pods at once: one round trip less than one after the other.
  const [target, creds] = await Promise.all([completeRecTarget(session, found), found.store.read()]);
  redactor.add(creds.password);
  const result = baseResult('get', session, request.rec, target);
  result.username = creds.username;
  result.phase = 'read';
  result.steps = [];
  result.pods = target.pods.map((p) => ({ name: p.metadata.name, propagation: 'unknown' as const }));
  if (request.reveal) result.password = creds.password;
  const masked = request.reveal ? creds.password : `******** (${creds.password.length} characters; --reveal to show)`;
  return {
    result,
    reveal: request.reveal,
    text: () =>
      [
        `REC:       ${target.name} (namespace ${target.namespace}, ${target.rec.status?.state ?? 'unknown'})`,
        `Store:     ${target.store.location} (${target.storeType})`,
        `Username:  ${creds.username}`,
        `Password:  ${masked}`,
        '',
      ].join('\n'),
  };
}
