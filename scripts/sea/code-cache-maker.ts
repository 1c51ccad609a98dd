// Run by the pinned Node runtime (scripts/sea/code-cache.ts bundles it): compiles a script as the executable
// does (scripts/bundle/script-loader.ts), runs one command that fails without touching a cluster, and writes
// V8's code cache of the script. Made after a run, the cache holds the functions that run compiled (for the
// command line: yargs, the commands, the modules `get` loads, the error path), not only the top level.
// Usage: node --random-seed=1 code-cache-maker.cjs cli|get SCRIPT MISSING_KUBECONFIG OUTPUT FLAG_TABLE_JSON
import fs from 'node:fs';
import { compileScript } from '../bundle/script-loader.js';
import { parsePlainArgv, type FlagTable } from '../../src/commands/plain-argv.js';
import type * as Cli from '../../src/commands/cli.js';
import type * as Direct from '../../src/commands/get/direct.js';
import type { GetFlags } from '../../src/commands/get/run.js';

const [name, scriptFile, missingKubeconfig, output, flagTable] = process.argv.slice(2);
if (!scriptFile || !missingKubeconfig || !output || !flagTable || (name !== 'cli' && name !== 'get'))
  throw new Error('usage: code-cache-maker cli|get SCRIPT MISSING_KUBECONFIG OUTPUT FLAG_TABLE_JSON');
const { exports, script } = compileScript(fs.readFileSync(scriptFile, 'latin1'), scriptFile, require);
// `get` against a kubeconfig that does not exist: (yargs, the command,) the operation's modules, the
// kubeconfig resolution, then the explained error (exit 2, on stderr).
const argv = ['get', 'rec', '--kubeconfig', missingKubeconfig];
const run =
  name === 'cli'
    ? (exports as typeof Cli).runCli(argv, 100)
    : (exports as typeof Direct).runGetDirect(parsePlainArgv(argv, JSON.parse(flagTable) as FlagTable) as unknown as GetFlags);
void run.then(() => {
  fs.writeFileSync(output, script.createCachedData());
  process.exitCode = 0;
});
