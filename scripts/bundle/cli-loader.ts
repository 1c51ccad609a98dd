// How the bundle's entry (src/main.ts) reaches the command line (src/commands/cli.ts), which
// scripts/build-bundle.ts builds as a script of its own: what the entry answers alone (help, version, the
// completion scripts) never compiles its 2 MB. Beside a plain bundle the script is a file; in the single
// executable it is an asset, compiled with the V8 code cache made for it at build time
// (scripts/sea/code-cache.ts) where the executable carries one.
import fs from 'node:fs';
import path from 'node:path';
import { getRawAsset, isSea } from 'node:sea';
import vm from 'node:vm';
import type * as Cli from '../../src/commands/cli.js';

/** The single executable's assets (scripts/sea/blob.ts). */
export const CLI_ASSET = 'cli.cjs';
export const CODE_CACHE_ASSET = 'cli.code-cache';

/**
 * CommonJS's module wrapper. The cache is made (scripts/sea/code-cache-maker.ts) and used through this same
 * function: V8 checks a cache against its source by length only, so the texts must be the same.
 */
const wrap = (source: string) => `(function (exports, require, module, __filename, __dirname) {${source}\n})`;

export interface CompiledCli {
  exports: typeof Cli;
  script: vm.Script;
}

/**
 * Compiles and runs the CLI script. A cache V8 rejects (another V8 version, other V8 flags, as NODE_OPTIONS
 * can set) costs only the time it would have saved: V8 then compiles the source as if none were given.
 */
export function compileCli(source: string, filename: string, requireBuiltin: NodeJS.Require, cachedData?: Buffer): CompiledCli {
  const script = new vm.Script(wrap(source), {
    filename,
    ...(cachedData ? { cachedData } : {}),
    // import() of a built-in module (esbuild leaves those as they are) as the script's own loader would do it.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = { exports: {} };
  const run = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: object, filename: string, dirname: string) => void;
  run(module.exports, requireBuiltin, module, filename, path.dirname(filename));
  return { exports: module.exports as typeof Cli, script };
}

function asset(key: string): Buffer | undefined {
  try {
    const raw = getRawAsset(key);
    // The executable's own bytes, not a copy: read only.
    return typeof raw === 'string' ? Buffer.from(raw, 'utf8') : Buffer.from(raw);
  } catch {
    return undefined;
  }
}

/** The command line's module; `fileBesideEntry` names the script beside a plain bundle. */
export function loadCli(fileBesideEntry: string): typeof Cli {
  if (isSea()) {
    const source = asset(CLI_ASSET);
    if (!source) throw new Error(`the executable lacks its ${CLI_ASSET} asset`);
    return compileCli(source.toString('utf8'), process.execPath, require, asset(CODE_CACHE_ASSET)).exports;
  }
  const file = path.join(__dirname, fileBesideEntry);
  return compileCli(fs.readFileSync(file, 'utf8'), file, require).exports;
}
