// The SEA preparation blob. Its format belongs to the Node version that reads it, so the pinned runtime
// writes it (its linux-x64 build runs here), not the Node that runs this script.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cliScriptPath } from '../build-bundle.js';
import { CLI_ASSET, CODE_CACHE_ASSET } from '../bundle/cli-loader.js';
import { makeCodeCache } from './code-cache.js';
import { hostTarget, runtimeBinary } from './runtime.js';

export interface BlobOptions {
  /** The entry script (scripts/build-bundle.ts); the command line's script beside it becomes an asset. */
  main: string;
  output: string;
  /** Adds the command line's V8 code cache: only for the target whose runtime this machine runs (hostTarget). */
  codeCache?: boolean;
  log?: (line: string) => void;
}

export function buildSeaBlob({ main, output, codeCache = false, log }: BlobOptions): Buffer {
  fs.mkdirSync(path.dirname(output), { recursive: true });
  const assets: Record<string, string> = { [CLI_ASSET]: cliScriptPath(main) };
  if (codeCache) {
    const cache = `${output}.code-cache`;
    makeCodeCache(cliScriptPath(main), cache, log);
    assets[CODE_CACHE_ASSET] = cache;
  }
  const config = {
    main,
    output,
    disableExperimentalSEAWarning: true,
    // Off: the main script is the small entry, and the command line's cache is the asset above. Node's own
    // would be made before anything runs (the top level only), and a cache V8 rejects (V8 flags in
    // NODE_OPTIONS) makes Node print "Warning: Code cache data rejected." at every start
    // (lib/internal/main/embedding.js); a rejected asset cache is silent (scripts/bundle/cli-loader.ts).
    useCodeCache: false,
    useSnapshot: false,
    assets,
  };
  const configPath = `${output}.config.json`;
  fs.writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  execFileSync(runtimeBinary(hostTarget(), log), ['--experimental-sea-config', configPath], { stdio: ['ignore', 'ignore', 'inherit'] });
  return fs.readFileSync(output);
}
