// The Windows executable (windows-amd64, the one in the krew zip) run for real under Wine against the
// simulated cluster: `get`, then a whole `rotate`, judged by final state (the cluster accepts only the new
// password, the Secret holds it, no journal left). The plugin talks to the API server and execs into pods
// itself, so no kubectl.exe is needed. Skipped, with the reason printed, only where wine64 is not
// installed; .ci/run installs Debian's wine64, so CI always runs it.
// Node on Wine: Node 22 refuses to start below Windows 8.1 and a new prefix says Windows 7, hence
// `winecfg /v win10` once for the prefix; its console cannot write to pipes (EBADF), hence files.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findTarget } from '../../scripts/sea/runtime.js';
import { startSimCluster, type SimCluster } from '../sim/cluster.js';
import { validPasswords } from '../e2e/harness.js';
import { freshBinaries } from './built-binaries.js';

const REC = 'rec';
const NS = 'default';

const onPath = (name: string) =>
  (process.env.PATH ?? '')
    .split(path.delimiter)
    .map((d) => path.join(d, name))
    .find((f) => fs.existsSync(f));
const existing = (...files: string[]) => files.find((f) => fs.existsSync(f));

/** The 64-bit loader: on PATH, or where Debian's wine64 package puts it (/usr/lib/wine); the `wine` wrapper picks it too. */
function findWine(): { loader: string; server: string } | undefined {
  const loader = onPath('wine64') ?? existing('/usr/lib/wine/wine64') ?? onPath('wine');
  const server = onPath('wineserver') ?? existing('/usr/lib/wine/wineserver64', '/usr/lib/wine/wineserver');
  return loader && server ? { loader, server } : undefined;
}

describe('the Windows executable under Wine: get and rotate against the simulated cluster', function () {
  this.timeout(300_000);
  const wine = findWine();
  let work: string;
  let exe: string;
  let sim: SimCluster;
  let wineEnv: NodeJS.ProcessEnv;
  const timings: string[] = [];
  const timed = async <T>(what: string, f: () => Promise<T> | T): Promise<T> => {
    const started = Date.now();
    try {
      return await f();
    } finally {
      timings.push(`${what} ${((Date.now() - started) / 1000).toFixed(1)}s`);
    }
  };

  before(async function () {
    if (!wine) {
      console.log('    skipped: wine64 is not installed (Debian: apt-get install wine64; .ci/run installs it)');
      this.skip();
    }
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-wine-'));
    exe = (await timed('build windows-amd64 (when stale)', () => freshBinaries([findTarget('windows-amd64')]))).paths[0]!;
    wineEnv = { ...process.env, WINEPREFIX: path.join(work, 'prefix'), WINEDEBUG: '-all', WINELOADER: wine!.loader, WINEDLLOVERRIDES: 'mscoree,mshtml=' };
    await timed('prefix', () => {
      const r = spawnSync(wine!.loader, ['winecfg', '/v', 'win10'], { env: wineEnv, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000, encoding: 'utf8' });
      assert.equal(r.status, 0, `winecfg /v win10 failed: ${r.stderr}`);
    });
    sim = await timed('sim', () => startSimCluster({ recs: [{ name: REC }], pods: 1 }));
  });

  after(async () => {
    console.log(`    wine timings: ${timings.join(', ')}`);
    await sim?.stop();
    if (wine && work) spawnSync(wine.server, ['-k'], { env: wineEnv, stdio: 'ignore', timeout: 30_000 });
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  /** Runs the .exe under Wine, asynchronously (the simulated API server lives in this process), output through files. */
  async function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const out = path.join(work, 'stdout');
    const err = path.join(work, 'stderr');
    const fds = [fs.openSync(out, 'w'), fs.openSync(err, 'w')] as const;
    try {
      const child = spawn(wine!.loader, [exe, ...args], {
        cwd: work,
        env: { ...wineEnv, KUBECONFIG: sim.kubeconfig, RECCRED_POLL_MS: '200' },
        stdio: ['ignore', fds[0], fds[1]],
      });
      const code = await new Promise<number | null>((resolve, reject) => {
        child.on('error', reject);
        child.on('close', resolve);
      });
      return { code, stdout: fs.readFileSync(out, 'utf8'), stderr: fs.readFileSync(err, 'utf8') };
    } finally {
      fds.forEach((fd) => fs.closeSync(fd));
    }
  }

  it('version: it is the Windows build of Node that runs', async () => {
    const r = await timed('version', () => run(['version']));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^kubectl-reccred \d+\.\d+\.\d+ \(node v22\.\d+\.\d+, win32\/x64\)$/m);
  });

  it('get --reveal -o json: the credentials the Secret holds', async () => {
    const r = await timed('get', () => run(['get', REC, '-n', NS, '--reveal', '-o', 'json']));
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { username?: string; password?: string };
    assert.deepEqual({ username: doc.username, password: doc.password }, sim.credentials(REC));
  });

  it('rotate: the cluster accepts only the new password, and the Secret holds it', async () => {
    const before = sim.credentials(REC)!;
    const r = await timed('rotate', () => run(['rotate', REC, '-n', NS, '--settle', '3s', '--propagation-timeout', '60s']));
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const after = sim.credentials(REC)!;
    assert.equal(after.username, before.username);
    assert.notEqual(after.password, before.password, 'the Secret holds a new password');
    assert.deepEqual(validPasswords(sim, REC, after.username), [after.password], 'the cluster accepts exactly the new password');
    assert.equal(sim.store.get('secrets', NS, `${REC}-reccred-journal`), undefined, 'no journal left');
    assert.ok(!r.stdout.includes(after.password) && !r.stderr.includes(after.password), 'the new password is not printed');
  });
});
