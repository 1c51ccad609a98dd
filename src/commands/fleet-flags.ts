// The flags that pick several RECs, shared by rotate and status.
import type { Argv } from 'yargs';
import { DEFAULT_CONCURRENCY } from '../fleet/concurrency.js';

export function withFleetFlags<T>(y: Argv<T>) {
  return y
    .positional('rec', { type: 'string', array: true, default: [] as string[], describe: 'Name(s) of RedisEnterpriseCluster(s) in the namespace' })
    .option('selector', { alias: 'l', type: 'string', describe: 'Label selector (kubectl syntax) picking the RECs, e.g. tier=prod' })
    .option('all-namespaces', { alias: 'A', type: 'boolean', default: false, describe: 'Act on the RECs of every namespace (with -l: the matching ones)' })
    .option('concurrency', {
      type: 'number',
      default: DEFAULT_CONCURRENCY,
      describe: 'RECs in active steps at once; waits (propagation, settle) of all RECs overlap and take no slot',
    });
}

export interface FleetFlags {
  rec: string[];
  selector?: string;
  allNamespaces: boolean;
  concurrency: number;
}

/** Several RECs (or a selector): the command runs over a fleet. */
export const isFleet = (flags: FleetFlags): boolean => flags.rec.length !== 1 || flags.selector !== undefined || flags.allNamespaces;

export const fleetSelection = (flags: FleetFlags) => ({ rec: flags.rec, selector: flags.selector, allNamespaces: flags.allNamespaces, concurrency: flags.concurrency });
