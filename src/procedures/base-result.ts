// The result every operation starts from: the command, the REC, its store and pods once known.
import type { Result } from '../output/result.js';
import type { Session } from '../rec/session.js';
import type { RecTarget } from '../rec/rec-target.js';

export function baseResult(command: string, session: Session, recName: string, target?: Pick<RecTarget, 'storeType' | 'store' | 'pods'>): Result {
  return {
    apiVersion: 'reccred.redis.io/v1',
    kind: 'Result',
    command,
    rec: recName,
    namespace: session.namespace,
    store: target ? { type: target.storeType, location: target.store.location } : undefined,
    phase: 'not-started',
    exitCode: 0,
    message: '',
    steps: session.progress.steps,
    pods: target ? target.pods.map((p) => ({ name: p.metadata.name, propagation: 'unknown' as const })) : [],
  };
}
