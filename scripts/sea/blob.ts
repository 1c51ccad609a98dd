// The SEA preparation blob. Its format belongs to the Node version that reads it, so the pinned runtime
// writes it (its linux-x64 build runs here), not the Node that runs this script.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { hostTarget, runtimeBinary } from './runtime.js';

export interface BlobOptions {
  main: string;
  output: string;
  log?: (line: string) => void;
}

export function buildSeaBlob({ main, output, log }: BlobOptions): Buffer {
  fs.mkdirSync(path.dirname(output), { recursive: true });
  const config = {
    main,
    output,
    disableExperimentalSEAWarning: true,
    // Off: V8's code cache is specific to the CPU and V8 flags it was made with (so wrong for four of the
    // five targets) and varies from run to run, which would break reproducible builds.
    useCodeCache: false,
    useSnapshot: false,
  };
  const configPath = `${output}.config.json`;
  fs.writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  execFileSync(runtimeBinary(hostTarget(), log), ['--experimental-sea-config', configPath], { stdio: ['ignore', 'ignore', 'inherit'] });
  return fs.readFileSync(output);
}
