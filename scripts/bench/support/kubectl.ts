// The kubectl the bench compares against. The `kubectl` on PATH may be a dispatcher (the Google Cloud SDK's is):
// it GETs the server's /version and execs kubectl.1.NN beside it, so timing it times one extra process and one
// extra round trip. The bench runs the real binary directly: RECCRED_BENCH_KUBECTL if set, else the highest
// kubectl.1.NN in the folder the PATH's kubectl resolves to, else that kubectl itself.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

export interface Kubectl {
  path: string;
  /** clientVersion.gitVersion, e.g. v1.33.1. */
  version: string;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir || '.', name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      /* next folder */
    }
  }
  return undefined;
}

function realBinary(): string {
  const chosen = process.env.RECCRED_BENCH_KUBECTL;
  if (chosen) return path.resolve(chosen);
  const found = onPath('kubectl');
  if (!found) throw new Error('bench: no kubectl on PATH (set RECCRED_BENCH_KUBECTL to a kubectl binary)');
  const resolved = fs.realpathSync(found);
  const dir = path.dirname(resolved);
  const versioned = fs
    .readdirSync(dir)
    .map((f) => ({ f, m: /^kubectl\.1\.(\d+)$/.exec(f) }))
    .filter((x): x is { f: string; m: RegExpExecArray } => x.m !== null)
    .sort((a, b) => Number(b.m[1]) - Number(a.m[1]));
  return versioned[0] ? path.join(dir, versioned[0].f) : resolved;
}

let found: Promise<Kubectl> | undefined;

/** Asynchronous: callers may have a simulated API server in this process that must keep answering. */
export function realKubectl(): Promise<Kubectl> {
  found ??= (async () => {
    const bin = realBinary();
    const { stdout } = await promisify(execFile)(bin, ['version', '--client', '-o', 'json']);
    const version = (JSON.parse(stdout) as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion;
    if (!version) throw new Error(`bench: ${bin} printed no client version`);
    return { path: bin, version };
  })();
  return found;
}
