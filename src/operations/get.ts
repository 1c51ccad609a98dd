// kubectl reccred get: the REC's admin credentials, password masked unless --reveal.
import { openSession, type SessionOptions } from '../rec/session.js';
import { redactor } from '../output/redactor.js';
import type { Outcome } from '../output/result.js';
import { findRec } from '../rec/rec-lookup.js';
import { baseResult } from '../procedures/base-result.js';

export interface GetRequest {
  session: SessionOptions;
  rec: string;
  /** The password in the result (stdout only). */
  reveal: boolean;
}

export async function get(request: GetRequest): Promise<Outcome> {
  const session = await openSession(request.session);
  const found = await findRec(session, request.rec);
  // The credentials and the pods at once: one round trip less than one after the other. Nothing else of a
  // procedure's target (pod transport, REST client, journal) is made, nor loaded.
  const [pods, creds] = await Promise.all([session.cluster.listRecPods(found.name), found.store.read()]);
  redactor.add(creds.password);
  const target = { ...found, namespace: session.namespace, pods };
  const result = baseResult('get', session, request.rec, target);
  result.username = creds.username;
  result.phase = 'read';
  result.steps = [];
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
