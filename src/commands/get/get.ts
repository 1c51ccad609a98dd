// kubectl reccred get: the REC's admin credentials, password masked unless --reveal.
import type { GlobalFlags } from '../../cli/global-flags.js';
import { openSession } from '../../cli/session.js';
import { redactor } from '../../output/redactor.js';
import { printResult } from '../../output/result.js';
import { loadRecTarget } from '../../rec/rec-target.js';
import { baseResult } from '../../rotation/procedure-run.js';

export interface GetFlags extends GlobalFlags {
  rec: string;
  reveal?: boolean;
}

export async function get(flags: GetFlags): Promise<number> {
  const session = await openSession(flags);
  const target = await loadRecTarget(session, flags.rec);
  const creds = await target.store.read();
  redactor.add(creds.password);
  const result = baseResult('get', session, flags.rec, target);
  result.username = creds.username;
  result.phase = 'read';
  result.steps = [];
  result.pods = target.pods.map((p) => ({ name: p.metadata.name, propagation: 'unknown' as const }));
  if (flags.reveal) result.password = creds.password;
  const masked = flags.reveal ? creds.password : `******** (${creds.password.length} characters; --reveal to show)`;
  printResult(
    result,
    session.flags.output,
    () =>
      [
        `REC:       ${target.name} (namespace ${target.namespace}, ${target.rec.status?.state ?? 'unknown'})`,
        `Store:     ${target.store.location} (${target.storeType})`,
        `Username:  ${creds.username}`,
        `Password:  ${masked}`,
        '',
      ].join('\n'),
    flags.reveal,
  );
  return 0;
}
