// Run by the pinned Node runtime (scripts/sea/code-cache.ts bundles it): compiles the CLI script as the
// executable does (scripts/bundle/cli-loader.ts), runs one command that fails without touching a cluster, and
// writes V8's code cache of the script. Made after a run, the cache holds the functions that run compiled
// (yargs, the commands, the modules `get` loads, the error path), not only the script's top level.
// Usage: node --random-seed=1 code-cache-maker.cjs CLI_SCRIPT MISSING_KUBECONFIG OUTPUT
import fs from 'node:fs';
import { compileCli } from '../bundle/cli-loader.js';

const [cliScript, missingKubeconfig, output] = process.argv.slice(2);
if (!cliScript || !missingKubeconfig || !output) throw new Error('usage: code-cache-maker CLI_SCRIPT MISSING_KUBECONFIG OUTPUT');
const { exports, script } = compileCli(fs.readFileSync(cliScript, 'utf8'), cliScript, require);
// `get` against a kubeconfig that does not exist: yargs, the command, the operation's modules, the
// kubeconfig resolution, then the explained error (exit 2, on stderr).
void exports.runCli(['get', 'rec', '--kubeconfig', missingKubeconfig], 100).then(() => {
  fs.writeFileSync(output, script.createCachedData());
  process.exitCode = 0;
});
