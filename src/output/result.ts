// The one document `-o json|yaml` prints on stdout. Its schema is part of the contract (README) and is
// validated here before printing, so a field can't drift or carry a secret by accident.
import yaml from 'js-yaml';
import { z } from 'zod';
import type { ReccredError } from '../errors/exit-codes.js';
import { redactor } from './redactor.js';

export const StepSchema = z.object({
  name: z.string(),
  status: z.enum(['done', 'skipped', 'failed', 'running']),
  startedAt: z.string(),
  durationMs: z.number(),
  detail: z.string().optional(),
});

export const ResultSchema = z.object({
  apiVersion: z.literal('reccred.redis.io/v1'),
  kind: z.literal('Result'),
  command: z.string(),
  rec: z.string(),
  namespace: z.string(),
  store: z.object({ type: z.enum(['kubernetes', 'vault']), location: z.string() }).optional(),
  username: z.string().optional(),
  /** Password, present only with --reveal. */
  password: z.string().optional(),
  phase: z.string(),
  exitCode: z.number(),
  message: z.string(),
  steps: z.array(StepSchema),
  pods: z.array(z.object({ name: z.string(), ready: z.boolean().optional(), propagation: z.enum(['current', 'pending', 'unreachable', 'unknown']) })),
  journal: z
    .object({
      operation: z.string(),
      phase: z.string(),
      holder: z.string(),
      startedAt: z.string(),
      heartbeatAt: z.string(),
      storeUpdatedAt: z.string().optional(),
      /** Active-Active: each cluster's RERC Secret and how far the operation got with it ('' context: the REC's own cluster). */
      participants: z
        .array(z.object({ context: z.string(), namespace: z.string(), rerc: z.string(), secret: z.string(), state: z.enum(['pending', 'updated', 'restored']) }))
        .optional(),
    })
    .optional(),
  /** user rotate: the workloads that read the application's Secret, how each reads it, and whether its rollout completed. */
  consumers: z.array(z.object({ workload: z.string(), reads: z.array(z.string()), state: z.enum(['pending', 'restarted', 'rolled-out', 'not-restarted']) })).optional(),
  /** --allow-managed-secret: the controllers that write the store, which this run was told to proceed despite. */
  managedSecretAllowed: z.array(z.string()).optional(),
  /** status: other users' unfinished operations (user rotate waiting for user finish). */
  userOperations: z.array(z.object({ username: z.string(), operation: z.string(), phase: z.string(), startedAt: z.string() })).optional(),
  /** status --check: each condition, and what failed it. */
  checks: z.array(z.object({ name: z.enum(['operation-age', 'pods-current', 'store-authenticates']), ok: z.boolean(), detail: z.string() })).optional(),
});
export type Result = z.infer<typeof ResultSchema>;

/** Several RECs in one command (a list, -l or -A): every REC's own Result, plus the summary. */
export const FleetResultSchema = z.object({
  apiVersion: z.literal('reccred.redis.io/v1'),
  kind: z.literal('FleetResult'),
  command: z.string(),
  /** The worst of the RECs' exit codes (3 > 1 > 4 > 2 > 0). */
  exitCode: z.number(),
  summary: z.object({
    total: z.number(),
    succeeded: z.number(),
    failed: z.number(),
    resumable: z.number(),
    refused: z.number(),
    usage: z.number(),
    /** Not started (--canary, --max-failures): phase "skipped", exit 4. */
    skipped: z.number().default(0),
    durationMs: z.number(),
  }),
  results: z.array(ResultSchema.extend({ durationMs: z.number() })),
});
export type FleetResult = z.infer<typeof FleetResultSchema>;

export type OutputFormat = 'text' | 'json' | 'yaml';

/**
 * What an operation hands back for the command line to print: its result, the error that stopped it
 * (already explained: message, hint, exit code), and how to show it as text.
 */
export interface Outcome {
  result: Result;
  error?: ReccredError;
  /** The text form on stdout when it succeeded (default: the result's message). */
  text?: () => string;
  /** stdout may carry a secret (--reveal, a password handed over once). */
  reveal?: boolean;
  /** The document is already on stdout (a password handed over before the journal moved on). */
  printed?: boolean;
}

/** Prints an outcome as SPEC 2 asks: the error on stderr, one document on stdout; returns the exit code. */
export function printOutcome(outcome: Outcome, format: OutputFormat): number {
  const { result, error } = outcome;
  if (error) process.stderr.write(`error: ${error.message}\n${error.hint ? `  ${error.hint}\n` : ''}`);
  if (!outcome.printed) {
    const text = outcome.text ?? (() => (result.exitCode === 0 && result.message ? `${result.message}\n` : ''));
    printResult(result, format, text, outcome.reveal === true);
  }
  return result.exitCode;
}

export function printFleetResult(fleet: FleetResult, format: OutputFormat, text: () => string): void {
  emit(FleetResultSchema.parse(fleet), format, text, false);
}

export function printResult(result: Result, format: OutputFormat, text: () => string, reveal = false): void {
  emit(ResultSchema.parse(result), format, text, reveal);
}

function emit(doc: unknown, format: OutputFormat, text: () => string, reveal: boolean): void {
  let out: string;
  if (format === 'json') out = JSON.stringify(doc, null, 2) + '\n';
  else if (format === 'yaml') out = yaml.dump(doc, { lineWidth: -1 });
  else out = text();
  // Defence in depth: only --reveal may put a known secret on stdout.
  process.stdout.write(reveal ? out : redactor.scrub(out));
}
