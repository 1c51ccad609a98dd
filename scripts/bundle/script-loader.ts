// How the bundle's scripts reach one another. scripts/build-bundle.ts builds the entry (src/main.ts) and,
// as scripts of their own, the command line (src/commands/cli.ts), `get` without yargs
// (src/commands/get/direct.ts) and the Kubernetes client (@kubernetes/client-node, for the auth-providers
// only it implements): what a run does not need, it never decodes or compiles. Beside a plain bundle a
// script is a file; in the single executable it is an asset, compiled with the V8 code cache made for it at
// build time (scripts/sea/code-cache.ts) where the executable carries one.
import fs from 'node:fs';
import path from 'node:path';
import { getRawAsset, isSea } from 'node:sea';
import vm from 'node:vm';

/** The scripts besides the entry; each script's file is `kubectl-reccred-NAME.cjs` beside the entry. */
export const SCRIPTS = ['cli', 'get', 'kube-client'] as const;
export type ScriptName = (typeof SCRIPTS)[number];

/** The scripts made with a code cache: those every run of a command compiles. */
export const CACHED_SCRIPTS: readonly ScriptName[] = ['cli', 'get'];

/** The single executable's assets (scripts/sea/blob.ts). */
export const scriptAsset = (name: ScriptName) => `${name}.cjs`;
export const codeCacheAsset = (name: ScriptName) => `${name}.code-cache`;
/** The help texts rendered at bundle time (src/commands/built-help-texts.ts): a file beside the entry, or this asset. */
export const HELP_TEXTS_ASSET = 'help-texts.json';

/**
 * CommonJS's module wrapper. The cache is made (scripts/sea/code-cache-maker.ts) and used through this same
 * function: V8 checks a cache against its source by length only, so the texts must be the same.
 */
const wrap = (source: string) => `(function (exports, require, module, __filename, __dirname) {${source}\n})`;

export interface CompiledScript {
  exports: unknown;
  script: vm.Script;
}

/**
 * Compiles and runs a script. A cache V8 rejects (another V8 version, other V8 flags, as NODE_OPTIONS
 * can set) costs only the time it would have saved: V8 then compiles the source as if none were given.
 */
export function compileScript(source: string, filename: string, requireBuiltin: NodeJS.Require, cachedData?: Buffer): CompiledScript {
  const script = new vm.Script(wrap(source), {
    filename,
    ...(cachedData ? { cachedData } : {}),
    // import() of a built-in module (esbuild leaves those as they are) as the script's own loader would do it.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = { exports: {} };
  const run = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: object, filename: string, dirname: string) => void;
  run(module.exports, requireBuiltin, module, filename, path.dirname(filename));
  return { exports: module.exports, script };
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

/** A script's module; `fileBesideEntry` names its file beside a plain bundle. */
export function loadScript(name: ScriptName, fileBesideEntry: string): unknown {
  if (isSea()) {
    const source = asset(scriptAsset(name));
    if (!source) throw new Error(`the executable lacks its ${scriptAsset(name)} asset`);
    // latin1: the scripts are ASCII (the build checks), and Node hands a large latin1 text to V8 as one
    // external string, without the copy a UTF-8 decode makes.
    return compileScript(source.toString('latin1'), process.execPath, require, asset(codeCacheAsset(name))).exports;
  }
  const file = path.join(__dirname, fileBesideEntry);
  return compileScript(fs.readFileSync(file, 'latin1'), file, require).exports;
}

/**
 * The help texts (HELP_TEXTS_ASSET), read when a help is asked for; `fileBesideEntry` names their file beside a
 * plain bundle. Missing or unreadable, there are none: yargs renders the help itself.
 */
export function loadHelpTexts(fileBesideEntry: string): unknown {
  try {
    const text = isSea() ? asset(HELP_TEXTS_ASSET)?.toString('utf8') : fs.readFileSync(path.join(__dirname, fileBesideEntry), 'utf8');
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}
