// The targets of issue 22 as the sections met them in this process, for the summary section (targets.ts): each
// section records its figure beside the target it prints inline.

export interface TargetResult {
  /** What was measured, e.g. "exec sessions, one rotation of a 3-pod REC, kubelet delay 2 s". */
  figure: string;
  /** The figure as printed, e.g. "14" or "1.95× (195 ms / 100 ms)". */
  value: string;
  /** The target as printed, e.g. "≤ 6". */
  target: string;
  /** Undefined: not measured in this run (`value` says why). */
  met: boolean | undefined;
  /** Which section measured it. */
  section: string;
}

const results: TargetResult[] = [];

/** Records a target and returns its verdict as the tables print it. */
export function recordTarget(r: TargetResult): string {
  results.push(r);
  return verdict(r.met);
}

export const verdict = (met: boolean | undefined) => (met === undefined ? 'not measured' : met ? 'met' : '**NOT met**');

export function recordedTargets(): readonly TargetResult[] {
  return results;
}
