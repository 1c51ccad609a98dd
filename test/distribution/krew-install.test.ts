// Installs the linux-amd64 archive the way krew does (extract, apply `files`, link `bin` into a bin
// folder on PATH) and drives it through the real kubectl: plugin discovery, `version`, and shell
// completion (kubectl 1.26+ runs kubectl_complete-reccred) against the simulated cluster.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import yaml from 'js-yaml';
import { binaryPath, buildBinaries } from '../../scripts/build-binaries.js';
import { repoRoot } from '../../scripts/build-bundle.js';
import { applyFiles, validateArchive, type Platform, type PluginManifest } from '../../scripts/krew/validate-manifest.js';
import { readArchive, tarGz } from '../../scripts/release/archive.js';
import { completionLauncher } from '../../scripts/release/complete-launcher.js';
import { findTarget } from '../../scripts/sea/runtime.js';
import { startSimCluster, type SimCluster } from '../sim/cluster.js';

const linux = findTarget('linux-amd64');

/** The release archive if `npm run release` made one, else the same archive made here from the executable. */
async function linuxArchive(): Promise<{ name: string; data: Buffer; platform: Platform }> {
  const manifestFile = path.join(repoRoot, 'plugin.yaml');
  if (fs.existsSync(manifestFile)) {
    const m = yaml.load(fs.readFileSync(manifestFile, 'utf8')) as PluginManifest;
    const p = m.spec!.platforms!.find((x) => x.selector?.matchLabels?.os === 'linux' && x.selector.matchLabels.arch === 'amd64')!;
    const file = path.join(repoRoot, 'dist', 'release', path.basename(p.uri!));
    if (fs.existsSync(file) && createHash('sha256').update(fs.readFileSync(file)).digest('hex') === p.sha256) {
      return { name: path.basename(file), data: fs.readFileSync(file), platform: p };
    }
  }
  if (!fs.existsSync(binaryPath(linux))) await buildBinaries({ targets: [linux] });
  const launcher = completionLauncher(linux);
  const data = tarGz([
    { name: 'LICENSE', data: fs.readFileSync(path.join(repoRoot, 'LICENSE')), mode: 0o644 },
    { name: 'kubectl-reccred', data: fs.readFileSync(binaryPath(linux)), mode: 0o755 },
    { name: launcher.name, data: launcher.data, mode: 0o755 },
  ]);
  const platform: Platform = {
    selector: { matchLabels: { os: 'linux', arch: 'amd64' } },
    uri: 'https://example.invalid/kubectl-reccred_linux_amd64.tar.gz',
    sha256: createHash('sha256').update(data).digest('hex'),
    bin: 'kubectl-reccred',
    files: ['LICENSE', 'kubectl-reccred', launcher.name].map((from) => ({ from, to: '.' })),
  };
  return { name: 'local.tar.gz', data, platform };
}

describe('krew-style install of the linux-amd64 archive, through the real kubectl', function () {
  this.timeout(300_000);
  let root: string;
  let binDir: string;
  let sim: SimCluster;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    const { name, data, platform } = await linuxArchive();
    assert.deepEqual(validateArchive(platform, name, data), []);
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-krew-'));
    const store = path.join(root, 'store', 'reccred', 'v0');
    binDir = path.join(root, 'bin');
    fs.mkdirSync(store, { recursive: true });
    fs.mkdirSync(binDir);
    for (const [target, entry] of applyFiles(readArchive(name, data), platform.files)) {
      fs.mkdirSync(path.dirname(path.join(store, target)), { recursive: true });
      fs.writeFileSync(path.join(store, target), entry.data, { mode: entry.mode });
    }
    // krew links only `bin`; the completion helper is linked by hand, as the manifest's caveats say.
    fs.symlinkSync(path.join(store, platform.bin!), path.join(binDir, 'kubectl-reccred'));
    fs.symlinkSync(path.join(store, 'kubectl_complete-reccred'), path.join(binDir, 'kubectl_complete-reccred'));
    sim = await startSimCluster({ recs: [{ name: 'rec' }, { name: 'rec-two' }], pods: 1 });
    env = { ...process.env, PATH: `${binDir}${path.delimiter}${process.env.PATH}`, KUBECONFIG: sim.kubeconfig };
  });
  after(async () => {
    await sim?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  // Asynchronous: the simulated API server runs in this process and must keep answering.
  const kubectl = async (...args: string[]) => (await promisify(execFile)('kubectl', args, { env, encoding: 'utf8' })).stdout;

  it('kubectl plugin list finds kubectl-reccred in the bin folder', async () => {
    const out = await kubectl('plugin', 'list', '--name-only');
    assert.match(out, /^kubectl-reccred$/m);
  });

  it('kubectl reccred version runs the single executable (Node inside, none needed outside)', async () => {
    const out = await kubectl('reccred', 'version');
    assert.match(out, /^kubectl-reccred \d+\.\d+\.\d+ \(node v22\.\d+\.\d+, linux\/x64\)$/m);
  });

  it('kubectl completes subcommands, flags, REC names and namespaces through kubectl_complete-reccred', async () => {
    const lines = (s: string) => s.trim().split('\n');
    const commands = lines(await kubectl('__complete', 'reccred', ''));
    assert.equal(commands.at(-1), ':4');
    assert.ok(
      commands.some((l) => l.startsWith('rotate\t')),
      commands.join('|'),
    );
    assert.deepEqual(lines(await kubectl('__complete', 'reccred', 'get', '')), ['rec', 'rec-two', ':4']);
    assert.deepEqual(lines(await kubectl('__complete', 'reccred', 'get', 'rec-')), ['rec-two', ':4']);
    assert.ok(lines(await kubectl('__complete', 'reccred', 'get', '--rev')).includes('--reveal'));
    assert.ok(lines(await kubectl('__complete', 'reccred', 'status', '-n', '')).includes('default'));
    assert.deepEqual(lines(await kubectl('__complete', 'reccred', '-o', '')), ['text', 'json', 'yaml', ':4']);
  });
});
