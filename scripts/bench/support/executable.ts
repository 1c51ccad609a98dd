// The plugin the bench measures, run as a user runs it: RECCRED_EXECUTABLE if set, else this machine's single
// executable built from the sources as they are now. The build is the distribution tests' (rebuilt when older than
// anything it is made from, under their build lock: test/distribution/built-binaries.ts), then copied into a folder
// of the bench's own, so that a test run rebuilding dist/bin meanwhile cannot change what the bench measures halfway.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freshBinaries } from '../../../test/distribution/built-binaries.js';
import { hostTarget, targetId } from '../../sea/runtime.js';

export interface BenchExecutable {
  path: string;
  /** What it is, for the tables. */
  label: string;
}

let chosen: Promise<BenchExecutable> | undefined;

export function benchExecutable(): Promise<BenchExecutable> {
  chosen ??= (async () => {
    if (process.env.RECCRED_EXECUTABLE) {
      const given = path.resolve(process.env.RECCRED_EXECUTABLE);
      return { path: given, label: `RECCRED_EXECUTABLE ${given}` };
    }
    const target = hostTarget();
    const { paths } = await freshBinaries([target]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-bench-exe-'));
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    const copy = path.join(dir, path.basename(paths[0]!));
    fs.copyFileSync(paths[0]!, copy);
    fs.chmodSync(copy, 0o755);
    const sha = createHash('sha256').update(fs.readFileSync(copy)).digest('hex').slice(0, 12);
    return { path: copy, label: `the ${targetId(target)} single executable built from the sources at the bench's start (sha256 ${sha}…)` };
  })();
  return chosen;
}

/** The plugin's environment: the given kubeconfig, and the default poll interval (RECCRED_POLL_MS unset), so the figures are a default run's. */
export function pluginEnv(kubeconfig: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: kubeconfig };
  delete env.RECCRED_POLL_MS;
  return env;
}
