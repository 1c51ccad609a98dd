// The waits of a rotation, parsed once from their flags.
import { parseDuration } from '../duration/duration.js';
import type { RotationOptions } from '../procedures/procedure-steps.js';

export interface TimingFlags {
  settle: string;
  propagationTimeout: string;
  wait?: boolean;
}

export function rotationTiming(flags: TimingFlags): RotationOptions {
  return {
    settleMs: parseDuration(flags.settle, '--settle'),
    propagationTimeoutMs: parseDuration(flags.propagationTimeout, '--propagation-timeout'),
    noWait: flags.wait === false,
  };
}
