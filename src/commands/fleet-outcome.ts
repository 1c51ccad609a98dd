// How a fleet command ends: the fleet document (or table) on stdout, the worst REC's exit code.
import type { FleetOutcome } from '../fleet/fleet-run.js';
import type { OutputFormat } from '../output/result.js';

export async function printFleetOutcome(outcome: Promise<FleetOutcome>, format: OutputFormat): Promise<void> {
  const [{ fleet, text }, { printFleetResult }] = await Promise.all([outcome, import('../output/result.js')]);
  printFleetResult(fleet, format, text);
  process.exitCode = fleet.exitCode;
}
