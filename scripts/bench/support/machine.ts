// The run's context, printed with every bench result: date, machine, load, Node, the sources and the kubectl
// reference; and a line of it under each section (measuredSection), so that a section quoted alone carries it.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { realKubectl } from './kubectl.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ');

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()}`;
}

/**
 * The commit the sources are at and how many tracked files differ from it. Read-only, and without git's optional
 * index refresh (GIT_OPTIONAL_LOCKS=0): other engineers work in the same tree.
 */
async function sources(): Promise<string> {
  const git = (args: string[]) => promisify(execFile)('git', ['-C', repo, ...args], { env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } });
  try {
    const head = (await git(['rev-parse', '--short', 'HEAD'])).stdout.trim();
    const changed = (await git(['status', '--porcelain', '--untracked-files=no'])).stdout.split('\n').filter(Boolean).length;
    return changed ? `commit ${head} with ${changed} tracked files changed` : `commit ${head}, no tracked file changed`;
  } catch {
    return 'unknown (no git)';
  }
}

export async function machineTable(): Promise<string> {
  const kubectl = await realKubectl();
  return [
    '| run | |',
    '|---|---|',
    `| date | ${now()} |`,
    `| machine | ${machine()} |`,
    `| load average (1 / 5 / 15 min) at the start | ${load()} |`,
    `| Node (the bench and the simulated cluster) | ${process.version} |`,
    `| sources | ${await sources()} |`,
    `| kubectl reference | \`${kubectl.path}\` ${kubectl.version} |`,
  ].join('\n');
}

/** The machine's CPU time since boot in clock ticks, and the part of it stolen by the hypervisor (/proc/stat). */
function cpuTicks(): { total: number; steal: number } | undefined {
  try {
    const [first = ''] = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1);
    const fields = first.trim().split(/\s+/).slice(1, 9).map(Number);
    // user nice system idle iowait irq softirq steal (proc(5))
    return { total: fields.reduce((a, b) => a + b, 0), steal: fields[7] ?? 0 };
  } catch {
    return undefined;
  }
}

/**
 * Steal between two readings: the share of the machine's CPU time its hypervisor gave to other guests. A host
 * that is shared more runs the simulated cluster slower, and this shows it beside the figures.
 */
function stealSince(before: ReturnType<typeof cpuTicks>): string {
  const after = cpuTicks();
  if (!before || !after || after.total <= before.total) return '';
  const share = (100 * (after.steal - before.steal)) / (after.total - before.total);
  return `; CPU steal ${share.toFixed(1)} % (the hypervisor's share of the CPUs during the section)`;
}

/**
 * A section's markdown followed by the conditions it was measured under: when, on what, the load average when it
 * started and when it ended (other work on the machine shows there), and the sources.
 */
export async function measuredSection(run: () => Promise<string>): Promise<string> {
  const startedAt = now();
  const started = Date.now();
  const loadBefore = load();
  const ticksBefore = cpuTicks();
  const body = await run();
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  return `${body.trimEnd()}\n\n_Measured ${startedAt} (${seconds} s) on ${machine()}; load average (1 / 5 / 15 min) ${loadBefore} at the section's start, ${load()} at its end${stealSince(ticksBefore)}; sources: ${await sources()}._\n`;
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
