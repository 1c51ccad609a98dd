// The SEA preparation blob. Its format belongs to the Node version that reads it, so the pinned runtime
// writes it (its linux-x64 build runs here), not the Node that runs this script.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { helpTextsPath, scriptPath } from '../build-bundle.js';
import { CACHED_SCRIPTS, codeCacheAsset, HELP_TEXTS_ASSET, scriptAsset, SCRIPTS } from '../bundle/script-loader.js';
import { makeCodeCache } from './code-cache.js';
import { hostTarget, runtimeBinary } from './runtime.js';

export interface BlobOptions {
  /** The entry script (scripts/build-bundle.ts); the scripts and help texts beside it become assets. */
  main: string;
  output: string;
  /** Adds the V8 code caches of the command line and get: only for the target whose runtime this machine runs (hostTarget). */
  codeCache?: boolean;
  log?: (line: string) => void;
}

export function buildSeaBlob({ main, output, codeCache = false, log }: BlobOptions): Buffer {
  fs.mkdirSync(path.dirname(output), { recursive: true });
  const assets: Record<string, string> = {
    ...Object.fromEntries(SCRIPTS.map((name) => [scriptAsset(name), scriptPath(main, name)])),
    [HELP_TEXTS_ASSET]: helpTextsPath(main),
  };
  if (codeCache)
    for (const name of CACHED_SCRIPTS) {
      const cache = `${output}.${name}.code-cache`;
      makeCodeCache(name, scriptPath(main, name), cache, log);
      assets[codeCacheAsset(name)] = cache;
    }
  const config = {
    main,
    output,
    disableExperimentalSEAWarning: true,
    // Off: the main script is the small entry, and the caches of the scripts it loads are the assets above. Node's own
    // would be made before anything runs (the top level only), and a cache V8 rejects (V8 flags in
    // NODE_OPTIONS) makes Node print "Warning: Code cache data rejected." at every start
    // (lib/internal/main/embedding.js); a rejected asset cache is silent (scripts/bundle/script-loader.ts).
    useCodeCache: false,
    useSnapshot: false,
    assets,
  };
  const configPath = `${output}.config.json`;
  fs.writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  execFileSync(runtimeBinary(hostTarget(), log), ['--experimental-sea-config', configPath], { stdio: ['ignore', 'ignore', 'inherit'] });
  return fs.readFileSync(output);
}
