// The V8 code cache of a script the entry loads (scripts/bundle/script-loader.ts), for the executable whose
// runtime this machine runs (hostTarget; the build runs only that one). A cache belongs to one V8 version
// and one set of V8 flags, and V8 checks both when it reads one: another target's runtime could not use it.
// The same sources make the same bytes: V8 leaves --random-seed out of the flags it checks
// (deps/v8/src/flags/flags.cc ComputeFlagListHash: "Skip v8_flags.random_seed ... to allow predictable
// code caching"), and a fixed seed is what makes the cache predictable.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { getFlagTable } from '../bundle/flag-table.js';
import type { ScriptName } from '../bundle/script-loader.js';
import { hostTarget, runtimeBinary } from './runtime.js';

const maker = path.join(path.dirname(fileURLToPath(import.meta.url)), 'code-cache-maker.ts');

export function makeCodeCache(name: ScriptName, scriptFile: string, output: string, log?: (line: string) => void): Buffer {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-code-cache-'));
  try {
    const makerScript = path.join(scratch, 'code-cache-maker.cjs');
    esbuild.buildSync({ entryPoints: [maker], outfile: makerScript, bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning' });
    try {
      // No environment: no NODE_OPTIONS (V8 flags there would make a cache the executable rejects), no
      // KUBECONFIG, no HOME; the run's answer (an error, exit 2) is not wanted.
      execFileSync(
        runtimeBinary(hostTarget(), log),
        ['--random-seed=1', makerScript, name, scriptFile, path.join(scratch, 'no-kubeconfig'), output, JSON.stringify(getFlagTable())],
        {
          cwd: scratch,
          env: {},
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
    } catch (err) {
      throw new Error(`making the code cache failed:\n${(err as { stderr?: Buffer }).stderr ?? ''}`, { cause: err });
    }
    return fs.readFileSync(output);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
