// How every command ends: the operation's outcome printed (stderr message, one document on stdout) and
// its exit code set. Loaded only when a command runs.
import type { Outcome, OutputFormat } from '../output/result.js';

export async function printAndExit(outcome: Promise<Outcome>, format: OutputFormat): Promise<void> {
  const [done, { printOutcome }] = await Promise.all([outcome, import('../output/result.js')]);
  process.exitCode = printOutcome(done, format);
}
