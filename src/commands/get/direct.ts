// `get` without yargs: the entry (src/main.ts) comes here when commands/plain-argv.ts could read the
// arguments; the bundle builds this as a script of its own (scripts/build-bundle.ts), so that such a run
// neither decodes nor compiles the rest of the command line.
import '../zod-config.js';
import { reportFailure } from '../report-failure.js';
import { runGet, type GetFlags } from './run.js';

export async function runGetDirect(flags: GetFlags): Promise<void> {
  try {
    await runGet(flags);
  } catch (err) {
    await reportFailure(err, process.argv);
  }
}
