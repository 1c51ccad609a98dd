// `npm run bench`: runs every section in scripts/bench/*.ts in file-name order (each exports
// `run(): Promise<string>` returning markdown) and prints the results one after another, between the run's
// date, machine, load and kubectl reference (scripts/bench/support/machine.ts) and the load at the end.
// RECCRED_BENCH_SIZES=1,10 limits the fleet section's sizes for a quick check.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadAtEnd, machineTable } from './bench/support/machine.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bench');
process.stdout.write(`## Bench\n\n${await machineTable()}\n\n`);
const sections = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .sort();
for (const file of sections) {
  const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as { run?: () => Promise<string> };
  if (typeof mod.run !== 'function') throw new Error(`scripts/bench/${file} exports no run()`);
  process.stderr.write(`bench: ${file}\n`);
  process.stdout.write(`${(await mod.run()).trimEnd()}\n\n`);
}
process.stdout.write(`${loadAtEnd()}\n`);
