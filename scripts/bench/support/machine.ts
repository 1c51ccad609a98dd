// The run's context, printed with every bench result: date, machine, load, Node and the kubectl reference.
import os from 'node:os';
import { realKubectl } from './kubectl.js';

const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ');

export async function machineTable(): Promise<string> {
  const kubectl = await realKubectl();
  const cpus = os.cpus();
  return [
    '| run | |',
    '|---|---|',
    `| date | ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} |`,
    `| machine | ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()} |`,
    `| load average (1 / 5 / 15 min) at the start | ${load()} |`,
    `| Node (the bench and the simulated cluster) | ${process.version} |`,
    `| kubectl reference | \`${kubectl.path}\` ${kubectl.version} |`,
  ].join('\n');
}

export function loadAtEnd(): string {
  return `Load average (1 / 5 / 15 min) at the end: ${load()}.`;
}

/** A section run on its own (`npx tsx scripts/bench/NAME.ts`): its result between the machine table and the final load. */
export async function standalone(run: () => Promise<string>): Promise<string> {
  const head = await machineTable();
  const body = await run();
  return `${head}\n\n${body.trimEnd()}\n\n${loadAtEnd()}\n`;
}
