// plugin.yaml against every rule krew and the krew-index CI apply, and crafted manifests that break
// one rule each.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { repoRoot } from '../../scripts/build-bundle.js';
import { validateArchive, validateManifest, type PluginManifest } from '../../scripts/krew/validate-manifest.js';
import { tarGz, zip } from '../../scripts/release/archive.js';
import { createHash } from 'node:crypto';

const NAME = 'reccred';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function good(): PluginManifest {
  return {
    apiVersion: 'krew.googlecontainertools.github.com/v1alpha2',
    kind: 'Plugin',
    metadata: { name: NAME },
    spec: {
      version: 'v0.1.0',
      homepage: 'https://github.com/example/kubectl-reccred',
      shortDescription: 'Rotate Redis Enterprise cluster credentials safely',
      description: 'Rotates credentials.\n',
      platforms: [
        { selector: { matchLabels: { os: 'linux', arch: 'amd64' } }, uri: 'https://example.com/a.tar.gz', sha256: 'a'.repeat(64), bin: 'kubectl-reccred' },
        { selector: { matchLabels: { os: 'windows', arch: 'amd64' } }, uri: 'https://example.com/a.zip', sha256: 'b'.repeat(64), bin: 'kubectl-reccred.exe' },
      ],
    },
  };
}

function mutate(change: (m: PluginManifest & { spec: NonNullable<PluginManifest['spec']> }) => void): PluginManifest {
  const m = good() as PluginManifest & { spec: NonNullable<PluginManifest['spec']> };
  change(m);
  return m;
}

describe('krew manifest validator', () => {
  it('accepts the plugin.yaml that npm run release wrote', () => {
    // Committed with every release (the krew-index PR is made from it): its absence is a failure, not a skip.
    const file = path.join(repoRoot, 'plugin.yaml');
    assert.ok(fs.existsSync(file), 'plugin.yaml is in the repository (npm run release writes it)');
    const doc = yaml.load(fs.readFileSync(file, 'utf8'));
    assert.deepEqual(validateManifest(doc, NAME), []);
    const m = doc as PluginManifest;
    assert.equal(m.spec!.platforms!.length, 5);
    // And the archives it names, when they are still in dist/release/.
    for (const p of m.spec!.platforms!) {
      const archive = path.join(repoRoot, 'dist', 'release', path.basename(p.uri!));
      if (fs.existsSync(archive)) assert.deepEqual(validateArchive(p, path.basename(archive), fs.readFileSync(archive)), []);
    }
  });

  it('accepts a minimal valid manifest', () => {
    assert.deepEqual(validateManifest(good(), NAME), []);
  });

  const broken: Array<[string, PluginManifest, RegExp]> = [
    ['wrong apiVersion', mutate((m) => (m.apiVersion = 'krew.googlecontainertools.github.com/v1alpha1')), /apiVersion/],
    ['wrong kind', mutate((m) => (m.kind = 'Plugins')), /kind/],
    ['name not the file name', mutate((m) => (m.metadata = { name: 'other' })), /metadata.name/],
    ['no short description', mutate((m) => delete m.spec.shortDescription), /shortDescription is required/],
    ['short description on two lines', mutate((m) => (m.spec.shortDescription = 'one\ntwo')), /one line/],
    ['short description too long', mutate((m) => (m.spec.shortDescription = 'word '.repeat(20).trim())), /longer than 70/],
    ['no homepage', mutate((m) => delete m.spec.homepage), /homepage/],
    ['http homepage', mutate((m) => (m.spec.homepage = 'http://example.com')), /homepage/],
    ['version without v', mutate((m) => (m.spec.version = '0.1.0')), /leading v/],
    ['version not semver', mutate((m) => (m.spec.version = 'v1.2')), /semantic version/],
    ['no platforms', mutate((m) => (m.spec.platforms = [])), /at least one platform/],
    ['no uri', mutate((m) => delete m.spec.platforms![0]!.uri), /uri has to be set/],
    ['uppercase sha256', mutate((m) => (m.spec.platforms![0]!.sha256 = 'A'.repeat(64))), /sha256/],
    ['short sha256', mutate((m) => (m.spec.platforms![0]!.sha256 = 'a'.repeat(63))), /sha256/],
    ['no bin', mutate((m) => delete m.spec.platforms![0]!.bin), /bin has to be set/],
    ['bin outside', mutate((m) => (m.spec.platforms![0]!.bin = '../kubectl-reccred')), /inside the archive/],
    ['windows bin without .exe', mutate((m) => (m.spec.platforms![1]!.bin = 'kubectl-reccred')), /\.exe/],
    ['empty files', mutate((m) => (m.spec.platforms![0]!.files = [])), /files has to be unspecified or non-empty/],
    ['file without to', mutate((m) => (m.spec.platforms![0]!.files = [{ from: 'LICENSE' }])), /to has to be set/],
    ['no selector', mutate((m) => delete m.spec.platforms![0]!.selector), /nil selector/],
    ['empty selector', mutate((m) => (m.spec.platforms![0]!.selector = {})), /empty selector/],
    ['selector on another key', mutate((m) => (m.spec.platforms![0]!.selector = { matchLabels: { os: 'linux', distro: 'debian' } })), /not supported/],
    ['selector matching nothing', mutate((m) => (m.spec.platforms![0]!.selector = { matchLabels: { os: 'plan9', arch: 'amd64' } })), /matches no platform/],
    [
      'overlapping selectors',
      mutate((m) => (m.spec.platforms![1]!.selector = { matchExpressions: [{ key: 'os', operator: 'In', values: ['linux', 'windows'] }] })),
      /overlap on os=linux\/arch=amd64/,
    ],
  ];
  for (const [what, manifest, message] of broken) {
    it(`rejects: ${what}`, () => {
      const errors = validateManifest(manifest, NAME);
      assert.ok(
        errors.some((e) => message.test(e)),
        `expected ${message} among ${JSON.stringify(errors)}`,
      );
    });
  }
});

describe('krew archive checks', () => {
  const bin = { name: 'kubectl-reccred', data: Buffer.from('#!/bin/sh\n'), mode: 0o755 };
  const license = { name: 'LICENSE', data: Buffer.from('Apache'), mode: 0o644 };
  const platform = (archive: Buffer, bin = 'kubectl-reccred') => ({
    selector: { matchLabels: { os: 'linux', arch: 'amd64' } },
    uri: 'https://example.com/x.tar.gz',
    sha256: sha(archive),
    bin,
    files: [{ from: '*', to: '.' }],
  });

  it('accepts a good tar.gz and zip, and makes them byte for byte the same twice', () => {
    const t = tarGz([bin, license]);
    assert.deepEqual(validateArchive(platform(t), 'x.tar.gz', t), []);
    assert.ok(t.equals(tarGz([license, bin])), 'entry order must not matter');
    const z = zip([{ ...bin, name: 'kubectl-reccred.exe' }, license]);
    assert.deepEqual(validateArchive(platform(z, 'kubectl-reccred.exe'), 'x.zip', z), []);
    assert.ok(z.equals(zip([license, { ...bin, name: 'kubectl-reccred.exe' }])));
  });

  it('rejects a wrong sha256, a missing LICENSE, a missing bin and a non-executable bin', () => {
    const t = tarGz([bin, license]);
    assert.match(validateArchive({ ...platform(t), sha256: 'c'.repeat(64) }, 'x.tar.gz', t).join(), /does not match/);
    const noLicense = tarGz([bin]);
    assert.match(validateArchive(platform(noLicense), 'x.tar.gz', noLicense).join(), /LICENSE/);
    assert.match(validateArchive(platform(t, 'other'), 'x.tar.gz', t).join(), /not among the installed files/);
    const notExec = tarGz([{ ...bin, mode: 0o644 }, license]);
    assert.match(validateArchive(platform(notExec), 'x.tar.gz', notExec).join(), /not executable/);
  });
});
