// Installs the linux-amd64 release archive (scripts/release.ts releaseArchive, from today's executable)
// the way krew does (krew-on-disk.ts over scripts/krew/install.ts: extract, apply `files` as move.go does,
// link `bin` into krew's bin/), then sets completion up by running the caveats' command exactly as
// `krew install` prints it, and drives the plugin through the real kubectl 1.33 against the simulated
// cluster: plugin discovery, `version`, shell completion (kubectl 1.26+ runs kubectl_complete-reccred).
// Then `krew upgrade` as upgrade.go does it (new version folder, relink, old folder deleted) to a second
// version built with another version string: completion must still work, through the new version, with
// nothing set up again (caveats are shown on install only).
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildBinary } from '../../scripts/build-binaries.js';
import { buildBundle } from '../../scripts/build-bundle.js';
import { validateArchive } from '../../scripts/krew/validate-manifest.js';
import { DEFAULT_BASE_URL, manifestFor, PLUGIN_NAME, releaseArchive, releaseVersion, type ReleaseArchive } from '../../scripts/release.js';
import { COMPLETE_EXE, completionLauncherName } from '../../scripts/release/complete-launcher.js';
import { buildSeaBlob } from '../../scripts/sea/blob.js';
import { findTarget } from '../../scripts/sea/runtime.js';
import { startSimCluster, type SimCluster } from '../sim/cluster.js';
import { kubectlBinary } from '../sim/kube/api-fixture.js';
import { freshReleaseArchives } from './built-binaries.js';
import { installOnDisk, pluginLinkName, upgradeOnDisk, type KrewPlugin } from './krew-on-disk.js';

const linux = findTarget('linux-amd64');
const KUBECTL = kubectlBinary('1.33');

/** The linux-amd64 executable built again in `dir` from a bundle whose VERSION says `version` (nothing else differs). */
async function executableWithVersion(version: string, dir: string): Promise<string> {
  const bundle = await buildBundle(path.join(dir, 'kubectl-reccred.cjs'));
  const text = fs.readFileSync(bundle.path, 'utf8');
  const from = `VERSION=${JSON.stringify(bundle.version)}`;
  assert.equal(text.split(from).length, 2, `the bundle sets ${from} once`);
  fs.writeFileSync(bundle.path, text.replace(from, `VERSION=${JSON.stringify(version.replace(/^v/, ''))}`));
  const blob = path.join(dir, 'kubectl-reccred.blob');
  buildSeaBlob({ main: bundle.path, output: blob });
  return buildBinary(linux, blob, dir).path;
}

/**
 * The commands in what `krew install` printed: the caveats lines indented by two spaces, as a user selects
 * them, from the first character after krew's " |  | " prefix and the indentation to the end of the line.
 */
function printedCommands(printed: string): string[] {
  const prefix = ' |  |   ';
  return printed
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .map((l) => l.slice(prefix.length));
}

/** Every folder on the PATH of `env` that holds `file`, first to last. */
const onPath = (env: NodeJS.ProcessEnv, file: string) => (env.PATH ?? '').split(path.delimiter).filter((d) => d && fs.existsSync(path.join(d, file)));

describe('krew install and upgrade of the linux-amd64 archive, through the real kubectl', function () {
  this.timeout(600_000);
  let sim: SimCluster;
  let archiveA: ReleaseArchive;
  let archiveB: ReleaseArchive;
  const scratch: string[] = [];
  const versionA = releaseVersion();
  const versionB = versionA.replace(/\d+$/, (n) => String(Number(n) + 1));
  const manifestOf = (version: string, archive: ReleaseArchive) => manifestFor(version, [archive.platform], DEFAULT_BASE_URL) as KrewPlugin;
  const tempDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-krew-'));
    scratch.push(dir);
    return dir;
  };

  /**
   * Version A installed as krew installs it into a fresh KREW_ROOT, then the POSIX command krew printed run
   * as pasted into a shell in the user's home: with KREW_ROOT set, or with krew's default $HOME/.krew.
   */
  function installA(krewRootVariable: boolean): { root: string; env: NodeJS.ProcessEnv; printed: string } {
    const home = tempDir();
    const root = krewRootVariable ? path.join(tempDir(), 'krew') : path.join(home, '.krew');
    const printed = installOnDisk(root, manifestOf(versionA, archiveA), archiveA.platform, archiveA.data);
    const shellEnv = { PATH: process.env.PATH, HOME: home, ...(krewRootVariable ? { KREW_ROOT: root } : {}) };
    const afterwards = execFileSync('sh', ['-ec', `${printedCommands(printed)[0]}\npwd`], { cwd: home, env: shellEnv, encoding: 'utf8' });
    assert.equal(afterwards.trim(), home, "the command leaves the user's shell in the folder it was in");
    return { root, printed, env: { ...process.env, PATH: `${path.join(root, 'bin')}${path.delimiter}${process.env.PATH}`, KUBECONFIG: sim.kubeconfig } };
  }

  before(async () => {
    archiveA = (await freshReleaseArchives([linux]))[0]!;
    assert.deepEqual(validateArchive(archiveA.platform, archiveA.name, archiveA.data), []);
    archiveB = releaseArchive(linux, versionB, DEFAULT_BASE_URL, await executableWithVersion(versionB, tempDir()));
    assert.deepEqual(validateArchive(archiveB.platform, archiveB.name, archiveB.data), []);
    assert.notEqual(archiveB.sha256, archiveA.sha256, "version B's archive is not version A's");
    sim = await startSimCluster({ recs: [{ name: 'rec' }, { name: 'rec-two' }], pods: 1 });
  });
  after(async () => {
    await sim?.stop();
    for (const dir of scratch) fs.rmSync(dir, { recursive: true, force: true });
  });

  // Asynchronous: the simulated API server runs in this process and must keep answering.
  const kubectl = async (env: NodeJS.ProcessEnv, ...args: string[]) => (await promisify(execFile)(KUBECTL, args, { env, encoding: 'utf8' })).stdout;
  const lines = (s: string) => s.trim().split('\n');
  const versionLine = (version: string) => new RegExp(`^kubectl-reccred ${version.replace(/^v/, '').replace(/\./g, '\\.')} \\(node v22\\.\\d+\\.\\d+, linux/x64\\)$`, 'm');

  describe('after krew install', () => {
    let env: NodeJS.ProcessEnv;
    let printed: string;
    before(() => ({ env, printed } = installA(false)));

    it('krew prints each caveats command on a line of its own, whole, for sh and for cmd.exe', () => {
      const [posix, windows, ...more] = printedCommands(printed);
      assert.deepEqual(more, [], printed);
      assert.match(posix!, /^\(cd .*\)$/, 'one subshell: a cd inside it does not move the user');
      execFileSync('sh', ['-nc', posix!]); // complete on its own: no continuation line
      const [source, target, ...extra] = [...windows!.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
      assert.equal(windows!.replace(/"[^"]*"/g, '""'), 'copy "" ""', windows);
      assert.deepEqual(extra, []);
      // krew's Windows layout is the same under %USERPROFILE%\.krew: store\<name>\<version>\<file>, bin\.
      assert.deepEqual(source!.split('\\'), ['%USERPROFILE%', '.krew', 'store', PLUGIN_NAME, versionA, completionLauncherName('windows')]);
      assert.equal(target, '%USERPROFILE%\\.krew\\bin\\');
    });

    it('kubectl plugin list finds kubectl-reccred in the bin folder', async () => {
      const out = await kubectl(env, 'plugin', 'list', '--name-only');
      assert.match(out, /^kubectl-reccred$/m);
    });

    it('kubectl reccred version runs the single executable (Node inside, none needed outside)', async () => {
      assert.match(await kubectl(env, 'reccred', 'version'), versionLine(versionA));
    });

    it('kubectl completes subcommands, flags, REC names and namespaces through kubectl_complete-reccred', async () => {
      const commands = lines(await kubectl(env, '__complete', 'reccred', ''));
      assert.equal(commands.at(-1), ':4');
      assert.ok(
        commands.some((l) => l.startsWith('rotate\t')),
        commands.join('|'),
      );
      assert.deepEqual(lines(await kubectl(env, '__complete', 'reccred', 'get', '')), ['rec', 'rec-two', ':4']);
      assert.deepEqual(lines(await kubectl(env, '__complete', 'reccred', 'get', 'rec-')), ['rec-two', ':4']);
      assert.ok(lines(await kubectl(env, '__complete', 'reccred', 'get', '--rev')).includes('--reveal'));
      assert.ok(lines(await kubectl(env, '__complete', 'reccred', 'status', '-n', '')).includes('default'));
      assert.deepEqual(lines(await kubectl(env, '__complete', 'reccred', '-o', '')), ['text', 'json', 'yaml', ':4']);
    });
  });

  it(`completion set up on install keeps working after krew upgrade (${versionA} -> ${versionB}), through the new version`, async () => {
    const { root, env } = installA(true);
    const store = path.join(root, 'store', PLUGIN_NAME);
    const link = path.join(root, 'bin', pluginLinkName(PLUGIN_NAME, false));
    const helper = path.join(root, 'bin', COMPLETE_EXE);
    assert.ok(fs.lstatSync(helper).isFile(), 'the caveats leave a regular file in bin/, not a link into the version folder');
    // What the caveats used to say: a link into the version folder. Kept beside, to show what the upgrade does to it.
    const oldStyle = path.join(root, 'old-style-helper');
    fs.symlinkSync(path.join(store, versionA, COMPLETE_EXE), oldStyle);
    assert.match(await kubectl(env, 'reccred', 'version'), versionLine(versionA));
    assert.deepEqual(lines(await kubectl(env, '__complete', 'reccred', 'get', 'rec-')), ['rec-two', ':4']);

    upgradeOnDisk(root, manifestOf(versionB, archiveB), archiveB.platform, archiveB.data);

    assert.deepEqual(fs.readdirSync(store), [versionB], 'krew upgrade removed the old version folder');
    assert.equal(fs.existsSync(oldStyle), false, 'a link into the old version folder now dangles');
    assert.ok(fs.realpathSync(link).startsWith(path.join(store, versionB) + path.sep), 'bin/kubectl-reccred now resolves into the new version');
    assert.deepEqual(onPath(env, 'kubectl-reccred'), [path.join(root, 'bin')], 'no other kubectl-reccred on PATH the helper could reach');
    // The one kubectl-reccred the helper can reach is version B's executable, and it answers completions.
    assert.match(await kubectl(env, 'reccred', 'version'), versionLine(versionB));
    assert.deepEqual(lines(await kubectl(env, '__complete', 'reccred', 'get', 'rec-')), ['rec-two', ':4']);
    assert.deepEqual(lines(await kubectl(env, '__complete', 'reccred', '-o', '')), ['text', 'json', 'yaml', ':4']);
  });
});
