// plugin.yaml, and the archives the release code makes today for every target, against every rule krew
// and the krew-index CI apply (scripts/krew/validate-manifest.ts); then crafted manifests and archives
// that break one rule each.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import yaml from 'js-yaml';
import { repoRoot } from '../../scripts/build-bundle.js';
import { planInstall } from '../../scripts/krew/install.js';
import { goFormatFloat32, validateArchive, validateManifest, type Platform, type PluginManifest } from '../../scripts/krew/validate-manifest.js';
import { DEFAULT_BASE_URL, manifestFor, PLUGIN_NAME, releaseVersion } from '../../scripts/release.js';
import { tarGz, zip } from '../../scripts/release/archive.js';
import { TARGETS } from '../../scripts/sea/runtime.js';
import { freshReleaseArchives } from './built-binaries.js';

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

type Mutable = PluginManifest & { spec: NonNullable<PluginManifest['spec']> };

function mutate(change: (m: Mutable) => void): PluginManifest {
  const m = good() as Mutable;
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
    assert.equal((doc as PluginManifest).spec!.platforms!.length, TARGETS.length);
  });

  it('accepts the archives the release code makes today, for every target, and the manifest made from them', async function () {
    this.timeout(900_000);
    const archives = await freshReleaseArchives([...TARGETS]);
    for (const a of archives) assert.deepEqual(validateArchive(a.platform, a.name, a.data), [], a.name);
    const manifest = manifestFor(
      releaseVersion(),
      archives.map((a) => a.platform),
      DEFAULT_BASE_URL,
    );
    assert.deepEqual(validateManifest(manifest, PLUGIN_NAME), []);
  });

  it('keeps caveats to setup steps (krew docs: not a documentation field); the usage note they carried is in --help', function () {
    this.timeout(60_000);
    const caveats = (yaml.load(fs.readFileSync(path.join(repoRoot, 'plugin.yaml'), 'utf8')) as PluginManifest).spec!.caveats!;
    const usage = 'Passwords are never taken as arguments';
    assert.ok(!caveats.includes(usage) && !/--password/.test(caveats), caveats);
    assert.match(caveats, /copy the completion helper/);
    const help = execFileSync(path.join(repoRoot, 'bin', 'kubectl-reccred'), ['--help'], { encoding: 'utf8' });
    assert.ok(help.includes(usage), help);
  });

  it('accepts a minimal valid manifest', () => {
    assert.deepEqual(validateManifest(good(), NAME), []);
  });

  it('accepts a short description of exactly 50 bytes and a manifest with no files (krew applies from "*" to ".")', () => {
    assert.deepEqual(
      validateManifest(
        mutate((m) => (m.spec.shortDescription = 'x'.repeat(50))),
        NAME,
      ),
      [],
    );
    assert.deepEqual(
      validateManifest(
        mutate((m) => (m.spec.platforms![0]!.files = null)),
        NAME,
      ),
      [],
    );
  });

  const platform0 = (m: Mutable) => m.spec.platforms![0]!;
  const windows = (m: Mutable) => m.spec.platforms![1]!;

  it('reads numbers and booleans bound for a string as sigs.k8s.io/yaml does: as strings, then judged as such', () => {
    const loose = (m: Mutable) => m as unknown as { spec: Record<string, unknown> & { platforms: Array<{ selector: { matchLabels: Record<string, unknown> } }> } };
    // `version: 1.5` is "1.5": only the missing v is wrong; `shortDescription: 12345` is "12345", accepted.
    const version = validateManifest(
      mutate((m) => (loose(m).spec.version = 1.5)),
      NAME,
    );
    assert.deepEqual(version, [
      `failed to parse plugin version: version string "1.5" not starting with 'v' [krew internal/index/validation/validate.go, krew internal/installation/semver/version.go]`,
    ]);
    assert.deepEqual(
      validateManifest(
        mutate((m) => (loose(m).spec.shortDescription = 12345)),
        NAME,
      ),
      [],
    );
    // `arch: 386` unquoted is "386", a platform krew supports; a boolean homepage is "true", judged as a URL.
    assert.deepEqual(
      validateManifest(
        mutate((m) => (loose(m).spec.platforms[0]!.selector.matchLabels.arch = 386)),
        NAME,
      ),
      [],
    );
    assert.match(
      validateManifest(
        mutate((m) => (loose(m).spec.homepage = true)),
        NAME,
      ).join('\n'),
      /homepage must be an https URL, not "true"/,
    );
  });

  it("formats floats as Go's strconv.FormatFloat(v, 'g', -1, 32)", () => {
    const cases: Array<[number, string]> = [
      [1.5, '1.5'],
      [1.1, '1.1'],
      [0.1, '0.1'],
      [3.14159265, '3.1415927'],
      [100000.5, '100000.5'],
      [1e6, '1e+06'],
      [1234567.5, '1.2345675e+06'],
      [0.0001, '0.0001'],
      [0.00001, '1e-05'],
      [-2.5e-7, '-2.5e-07'],
      [1e21, '1e+21'],
      [Infinity, '+Inf'],
      [-Infinity, '-Inf'],
      [NaN, 'NaN'],
    ];
    for (const [v, go] of cases) assert.equal(goFormatFloat32(v), go, String(v));
  });

  it('lets a caveats command, indented by two spaces, run past 80 characters: it must stay on one line to paste whole', () => {
    const command = `  (cd "\${KREW_ROOT:-$HOME/.krew}" && cp store/reccred/v0.1.0/kubectl_complete-reccred bin/)`;
    assert.ok(command.length > 80);
    assert.deepEqual(
      validateManifest(
        mutate((m) => (m.spec.caveats = `Copy the helper:\n${command}\n`)),
        NAME,
      ),
      [],
    );
  });
  // One manifest per rule, each breaking only that rule; the message must name it.
  const broken: Array<[string, PluginManifest, RegExp]> = [
    // decoding (sigs.k8s.io/yaml into krew's types): a mapping or list where a scalar goes, and the reverse
    ['platforms as a mapping', mutate((m) => ((m.spec as Record<string, unknown>).platforms = { linux: {} })), /spec\.platforms must be a list, not a mapping/],
    [
      'a short description that is a mapping',
      mutate((m) => ((m.spec as Record<string, unknown>).shortDescription = { text: 'x' })),
      /spec\.shortDescription must be a string, not a mapping/,
    ],
    ['a bin that is a list', mutate((m) => ((platform0(m) as Record<string, unknown>).bin = ['kubectl-reccred'])), /spec\.platforms\[0\]\.bin must be a string, not a list/],
    [
      'a selector that is a string',
      mutate((m) => ((platform0(m) as Record<string, unknown>).selector = 'linux/amd64')),
      /spec\.platforms\[0\]\.selector must be a mapping, not "linux\/amd64"/,
    ],
    [
      'matchLabels that is a list',
      mutate((m) => ((platform0(m).selector as Record<string, unknown>).matchLabels = ['os=linux'])),
      /selector\.matchLabels must be a mapping, not a list/,
    ],
    [
      'a matchLabels value that is a list',
      mutate((m) => (platform0(m).selector = { matchLabels: { os: ['linux'], arch: 'amd64' } as unknown as Record<string, string> })),
      /selector\.matchLabels\.os must be a string, not a list/,
    ],
    [
      'matchExpressions that is a mapping',
      mutate((m) => ((platform0(m).selector as Record<string, unknown>).matchExpressions = { key: 'os', operator: 'In', values: ['linux'] })),
      /selector\.matchExpressions must be a list, not a mapping/,
    ],
    [
      'a matchExpressions entry that is a string',
      mutate((m) => ((platform0(m).selector as Record<string, unknown>).matchExpressions = ['os in (linux)'])),
      /selector\.matchExpressions\[0\] must be a mapping, not "os in \(linux\)"/,
    ],
    [
      'matchExpressions values that are a mapping',
      mutate((m) => ((platform0(m).selector as Record<string, unknown>).matchExpressions = [{ key: 'os', operator: 'In', values: { linux: true } }])),
      /selector\.matchExpressions\[0\]\.values must be a list, not a mapping/,
    ],
    [
      'files that is a mapping',
      mutate((m) => ((platform0(m) as Record<string, unknown>).files = { from: '*', to: '.' })),
      /spec\.platforms\[0\]\.files must be a list, not a mapping/,
    ],
    // internal/index/validation/validate.go
    ['wrong apiVersion', mutate((m) => (m.apiVersion = 'krew.googlecontainertools.github.com/v1alpha1')), /apiVersion="krew.googlecontainertools.github.com\/v1alpha1"/],
    ['wrong kind', mutate((m) => (m.kind = 'Plugins')), /kind="Plugins"/],
    ['name not the file name', mutate((m) => (m.metadata = { name: 'other' })), /should be named "reccred", not "other"/],
    ['no short description', mutate((m) => delete m.spec.shortDescription), /should have a short description/],
    ['short description on two lines', mutate((m) => (m.spec.shortDescription = 'one\ntwo')), /line breaks in short description/],
    ['no version', mutate((m) => delete m.spec.version), /should have a version/],
    ['version without v', mutate((m) => (m.spec.version = '0.1.0')), /not starting with 'v'/],
    ['version with two numbers', mutate((m) => (m.spec.version = 'v1.2')), /illegal version string/],
    ['version with a zero-prefixed number', mutate((m) => (m.spec.version = 'v01.2.3')), /zero-prefixed/],
    ['version with a zero-prefixed pre-release number', mutate((m) => (m.spec.version = 'v1.2.3-01')), /zero-prefixed/],
    ['version with a bad pre-release', mutate((m) => (m.spec.version = 'v1.2.3-beta..1')), /pre-release/],
    ['no platforms', mutate((m) => (m.spec.platforms = [])), /should have a platform/],
    ['no uri', mutate((m) => delete platform0(m).uri), /`uri` has to be set/],
    ['no sha256', mutate((m) => delete platform0(m).sha256), /`sha256` sum has to be set/],
    ['uppercase sha256', mutate((m) => (platform0(m).sha256 = 'A'.repeat(64))), /`sha256` value A+ is not valid/],
    ['short sha256', mutate((m) => (platform0(m).sha256 = 'a'.repeat(63))), /`sha256` value a+ is not valid/],
    ['no bin', mutate((m) => delete platform0(m).bin), /`bin` has to be set/],
    ['empty files', mutate((m) => (platform0(m).files = [])), /`files` has to be unspecified or non-empty/],
    ['file without from', mutate((m) => (platform0(m).files = [{ to: '.' }])), /`from` field has to be set/],
    ['file without to', mutate((m) => (platform0(m).files = [{ from: 'LICENSE' }])), /`to` field has to be set/],
    ['no selector', mutate((m) => delete platform0(m).selector), /nil selector/],
    ['empty selector', mutate((m) => (platform0(m).selector = {})), /empty selector/],
    ['selector on another key', mutate((m) => (platform0(m).selector = { matchLabels: { os: 'linux', distro: 'debian' } })), /key "distro" not supported/],
    [
      'matchLabels given but empty',
      mutate((m) => (platform0(m).selector = { matchLabels: {}, matchExpressions: [{ key: 'os', operator: 'In', values: ['linux'] }] })),
      /`matchLabels` specified but empty/,
    ],
    [
      'matchExpressions given but empty',
      mutate((m) => (platform0(m).selector = { matchLabels: { os: 'linux', arch: 'amd64' }, matchExpressions: [] })),
      /`matchExpressions` specified but empty/,
    ],
    // apimachinery LabelSelectorAsSelector (krew internal/installation/platform.go)
    [
      'unknown selector operator',
      mutate((m) => (platform0(m).selector = { matchExpressions: [{ key: 'os', operator: 'in', values: ['linux'] }] })),
      /"in" is not a valid label selector operator/,
    ],
    ['In without values', mutate((m) => (platform0(m).selector = { matchExpressions: [{ key: 'os', operator: 'In' }] })), /values set can't be empty/],
    ['Exists with values', mutate((m) => (platform0(m).selector = { matchExpressions: [{ key: 'os', operator: 'Exists', values: ['linux'] }] })), /values set must be empty/],
    ['a label value that is not one', mutate((m) => (platform0(m).selector = { matchLabels: { os: 'linux!', arch: 'amd64' } })), /"linux!" is not a valid label value/],
    // cmd/validate-krew-manifest/main.go
    ['selector matching nothing', mutate((m) => (platform0(m).selector = { matchLabels: { os: 'plan9', arch: 'amd64' } })), /doesn't match any supported platforms/],
    [
      'overlapping selectors',
      mutate((m) => (windows(m).selector = { matchExpressions: [{ key: 'os', operator: 'In', values: ['linux', 'windows'] }] })),
      /overlapping selectors that select linux\/amd64/,
    ],
    // internal/installation/move.go and install.go, decidable from the manifest alone
    ['to not clean: ./', mutate((m) => (platform0(m).files = [{ from: '*', to: './' }])), /not clean, ".\/" should be "."/],
    ['to not clean: trailing slash', mutate((m) => (platform0(m).files = [{ from: '*', to: 'bin/' }])), /not clean, "bin\/" should be "bin"/],
    ['to not clean: double slash', mutate((m) => (platform0(m).files = [{ from: '*', to: 'a//b' }])), /not clean, "a\/\/b" should be "a\/b"/],
    ['to not clean: a .. inside', mutate((m) => (platform0(m).files = [{ from: '*', to: 'a/../b' }])), /not clean, "a\/..\/b" should be "b"/],
    ['to with / on a windows platform (clean on Unix, not for krew built for Windows)', mutate((m) => (windows(m).files = [{ from: '*', to: 'sub/dir' }])), /not clean on Windows/],
    ['to leaving the folder', mutate((m) => (platform0(m).files = [{ from: '*', to: '..' }])), /"\.\." leaves the version folder/],
    ['to named ..x (pathutil.IsSubPath refuses any ".." prefix)', mutate((m) => (platform0(m).files = [{ from: '*', to: '..x' }])), /"\.\.x" leaves the version folder/],
    ['from leaving the archive', mutate((m) => (platform0(m).files = [{ from: '../*', to: '.' }])), /leaves the archive/],
    // ours: install.go installs such a plugin without linking it (errors.Wrapf of a nil error is nil)
    ['bin outside', mutate((m) => (platform0(m).bin = '../kubectl-reccred')), /leaves the version folder \[ours: krew installs the plugin unlinked/],
    ['bin named ..x', mutate((m) => (platform0(m).bin = '..kubectl-reccred')), /leaves the version folder \[ours: krew installs the plugin unlinked/],
    [
      'bin outside with \\ on a windows platform',
      mutate((m) => (windows(m).bin = '..\\kubectl-reccred.exe')),
      /leaves the version folder \[ours: krew installs the plugin unlinked/,
    ],
    // ours, labelled as such
    ['short description over 50 bytes, several words', mutate((m) => (m.spec.shortDescription = 'Rotate Redis Enterprise cluster credentials safely!')), /51 bytes.*ours/],
    ['short description over 50 bytes, one word', mutate((m) => (m.spec.shortDescription = 'x'.repeat(51))), /51 bytes.*ours/],
    ['short description of 26 characters but 52 bytes (krew counts bytes)', mutate((m) => (m.spec.shortDescription = 'é'.repeat(26))), /52 bytes/],
    ['no description', mutate((m) => delete m.spec.description), /description is required \[ours/],
    ['description line over 80', mutate((m) => (m.spec.description = `${'word '.repeat(17)}\n`)), /description has a line longer than 80 characters \[ours/],
    [
      'caveats line over 80 that is not an indented command',
      mutate((m) => (m.spec.caveats = `Run this:\n${'word '.repeat(17)}\n`)),
      /caveats has a line longer than 80 characters \[ours/,
    ],
    ['no homepage', mutate((m) => delete m.spec.homepage), /homepage is required \[ours/],
    ['http homepage', mutate((m) => (m.spec.homepage = 'http://example.com')), /https URL.*\[ours/],
    ['http uri', mutate((m) => (platform0(m).uri = 'http://example.com/a.tar.gz')), /uri must be https \[ours/],
    ['absolute bin', mutate((m) => (platform0(m).bin = '/kubectl-reccred')), /must be relative \[ours/],
    ['windows bin without .exe', mutate((m) => (windows(m).bin = 'kubectl-reccred')), /\.exe for windows \[ours/],
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

  it('rejects a plugin name krew does not allow, whatever metadata.name says', () => {
    for (const name of ['re.cred', 'Con', 'lpt1']) {
      const m = mutate((x) => (x.metadata = { name }));
      assert.match(validateManifest(m, name).join('\n'), /is not allowed/, name);
    }
  });
});

describe('krew archive checks (the install steps of validate-krew-manifest, as krew takes them)', () => {
  const bin = { name: 'kubectl-reccred', data: Buffer.from('#!/bin/sh\n'), mode: 0o755 };
  const license = { name: 'LICENSE', data: Buffer.from('Apache'), mode: 0o644 };
  const platform = (archive: Buffer, binPath = 'kubectl-reccred', files: Platform['files'] = [{ from: '*', to: '.' }]): Platform => ({
    selector: { matchLabels: { os: 'linux', arch: 'amd64' } },
    uri: 'https://example.com/x.tar.gz',
    sha256: sha(archive),
    bin: binPath,
    files,
  });
  const check = (archive: Buffer, binPath?: string, files?: Platform['files']) => validateArchive(platform(archive, binPath, files), 'x', archive).join('\n');

  /** One raw ustar member: any type flag, name and checksum, which the release writer never produces. */
  function tarMember(name: string, typeflag: string, data = Buffer.alloc(0), opts: { mode?: number; badChecksum?: boolean } = {}): Buffer {
    const h = Buffer.alloc(512);
    h.write(name, 0, 'utf8');
    h.write(`${(opts.mode ?? 0o644).toString(8).padStart(7, '0')}\0`, 100, 'ascii');
    h.write('0000000\0', 108, 'ascii');
    h.write('0000000\0', 116, 'ascii');
    h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
    h.write('00000000000\0', 136, 'ascii');
    h.write('        ', 148, 'ascii');
    h.write(typeflag, 156, 'latin1');
    h.write('ustar\0', 257, 'ascii');
    h.write('00', 263, 'ascii');
    let sum = h.reduce((a, b) => a + b, 0);
    if (opts.badChecksum) sum += 1;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    return Buffer.concat([h, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
  }
  const tarGzOf = (...members: Buffer[]) => zlib.gzipSync(Buffer.concat([...members, Buffer.alloc(1024)]));
  const goodMembers = () => [tarMember('kubectl-reccred', '0', bin.data, { mode: 0o755 }), tarMember('LICENSE', '0', license.data)];
  const pax = (records: Record<string, string>) =>
    Buffer.from(
      Object.entries(records)
        .map(([k, v]) => {
          const body = ` ${k}=${v}\n`;
          let n = body.length + 1;
          while (`${n}${body}`.length !== n) n++;
          return `${n}${body}`;
        })
        .join(''),
    );

  it('accepts a good tar.gz and zip, and makes them byte for byte the same twice', () => {
    const t = tarGz([bin, license]);
    assert.equal(check(t), '');
    assert.ok(t.equals(tarGz([license, bin])), 'entry order must not matter');
    const z = zip([{ ...bin, name: 'kubectl-reccred.exe' }, license]);
    assert.equal(check(z, 'kubectl-reccred.exe'), '');
    assert.ok(z.equals(zip([license, { ...bin, name: 'kubectl-reccred.exe' }])));
  });

  it('sniffs the type from the content (http.DetectContentType), whatever the name says', () => {
    const t = tarGz([bin, license]);
    const z = zip([bin, license]);
    assert.equal(validateArchive(platform(t), 'named-as-a.zip', t).join(), '');
    assert.equal(validateArchive(platform(z), 'named-as-a.tar.gz', z).join(), '');
  });

  it('rejects an uncompressed tar (application/octet-stream)', () => {
    assert.match(check(Buffer.concat([...goodMembers(), Buffer.alloc(1024)])), /mime type "application\/octet-stream".*not a supported archive format/);
  });

  it('rejects a valid tar.gz whose bytes 34-35 are "LP": DetectContentType calls it application/vnd.ms-fontobject before gzip', () => {
    // A gzip member with a file name in its header (FNAME) puts chosen bytes at 34-35.
    const tar = Buffer.concat([...goodMembers(), Buffer.alloc(1024)]);
    const header = Buffer.from([0x1f, 0x8b, 0x08, 0x08, 0, 0, 0, 0, 0, 3]);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(zlib.crc32(tar), 0);
    trailer.writeUInt32LE(tar.length, 4);
    const gz = Buffer.concat([header, Buffer.from(`${'x'.repeat(24)}LP.tar\0`), zlib.deflateRawSync(tar), trailer]);
    assert.ok(zlib.gunzipSync(gz).equals(tar), 'a well-formed gzip');
    assert.match(check(gz), /mime type "application\/vnd.ms-fontobject"/);
  });

  it('rejects a zip behind a stub (zip readers find it from the end, krew sniffs the start)', () => {
    const z = Buffer.concat([Buffer.from('MZ stub\0'), zip([bin, license])]);
    assert.match(check(z), /not a supported archive format/);
  });

  it('rejects an entry whose name holds "..", even inside a name (downloader.go suspiciousPath)', () => {
    assert.match(check(tarGzOf(...goodMembers(), tarMember('docs/../README', '0'))), /suspicious entry "docs\/..\/README"/);
    assert.match(check(tarGzOf(...goodMembers(), tarMember('notes..txt', '0'))), /suspicious entry "notes..txt"/);
    assert.match(check(zip([bin, license, { name: 'a..b', data: Buffer.from('x'), mode: 0o644 }])), /suspicious entry "a..b"/);
  });

  it('rejects an absolute entry, / or \\ (downloader.go suspiciousPath)', () => {
    assert.match(check(tarGzOf(...goodMembers(), tarMember('/etc/motd', '0'))), /absolute entry "\/etc\/motd"/);
    assert.match(check(zip([bin, license, { name: '\\evil', data: Buffer.from('x'), mode: 0o644 }])), /absolute entry/);
  });

  it('rejects tar members that are neither files nor folders: symlink, hard link, FIFO', () => {
    for (const flag of ['2', '1', '6'])
      assert.match(check(tarGzOf(...goodMembers(), tarMember('extra', flag))), new RegExp(`unable to handle file type ${flag} for "extra"`), flag);
  });

  it('skips a PAX global header named pax_global_header (git archive writes one) and rejects one named otherwise', () => {
    const records = pax({ comment: 'abc' });
    assert.equal(check(tarGzOf(tarMember('pax_global_header', 'g', records), ...goodMembers())), '');
    assert.match(check(tarGzOf(tarMember('global', 'g', records), ...goodMembers())), /unable to handle file type g for "global"/);
  });

  it('reads names as Go does: a PAX path record and a GNU long name replace the header name', () => {
    const long = `${'d'.repeat(120)}/kubectl-reccred`;
    const viaPax = tarGzOf(
      tarMember('PaxHeader', 'x', pax({ path: 'kubectl-reccred' })),
      tarMember('short', '0', bin.data, { mode: 0o755 }),
      tarMember('LICENSE', '0', license.data),
    );
    assert.equal(check(viaPax), '');
    const viaGnu = tarGzOf(tarMember('././@LongLink', 'L', Buffer.from(`${long}\0`)), tarMember('short', '0', bin.data, { mode: 0o755 }), tarMember('LICENSE', '0', license.data));
    assert.equal(check(viaGnu, long, null), '');
  });

  it('rejects a tar header whose checksum is wrong', () => {
    assert.match(check(tarGzOf(tarMember('kubectl-reccred', '0', bin.data, { mode: 0o755, badChecksum: true }), tarMember('LICENSE', '0', license.data))), /invalid header/);
  });

  it('rejects a symlink in a zip (ours: krew would write it as a file holding the target)', () => {
    const z = zip([bin, license, { name: 'link', data: Buffer.from('kubectl-reccred'), mode: 0o777 }]);
    const central = z.lastIndexOf(Buffer.from('link'));
    z.writeUInt32LE((0o120777 << 16) >>> 0, central - 46 + 38);
    assert.match(check(z), /link is not a regular file \[ours/);
  });

  it('applies files as move.go does: a glob that matches nothing, and a file already moved by an earlier glob, fail', () => {
    const t = tarGz([bin, license]);
    assert.match(check(t, 'kubectl-reccred', [{ from: '*.exe', to: '.' }]), /no files in the plugin archive matched the glob pattern=\*\.exe/);
    assert.match(
      check(t, 'kubectl-reccred', [
        { from: '*', to: '.' },
        { from: 'LICENSE', to: '.' },
      ]),
      /matched the glob pattern=LICENSE/,
    );
  });

  it('applies files as move.go does: an existing from is renamed to `to`; a glob goes into the folder `to`', () => {
    const t = tarGz([bin, license]);
    const direct = [
      { from: 'kubectl-reccred', to: 'bin' },
      { from: 'LICENSE', to: '.' },
    ];
    assert.equal(check(t, 'bin', direct), '');
    assert.match(check(t, 'bin/kubectl-reccred', direct), /source binary \("bin\/kubectl-reccred"\) cannot be found/);
    assert.equal(
      check(t, 'bin/kubectl-reccred', [
        { from: 'kubectl-*', to: 'bin' },
        { from: 'LICENSE', to: '.' },
      ]),
      '',
    );
  });

  it('rejects a `from` that is a malformed glob as move.go does ("could not get files using a glob string")', () => {
    const t = tarGz([bin, license]);
    for (const from of ['[', 'kubectl-[]', 'kubectl-\\']) {
      assert.match(
        check(t, 'kubectl-reccred', [{ from, to: '.' }]),
        /could not get files using a glob string: syntax error in pattern .*\[krew internal\/installation\/move\.go\]/,
        from,
      );
    }
  });

  it('rejects a bin that names a folder, or the version folder itself (ours: krew links it, kubectl runs only files)', () => {
    const t = tarGz([{ ...bin, name: 'bin/kubectl-reccred' }, license]);
    assert.equal(check(t, 'bin/kubectl-reccred'), '');
    assert.match(check(t, 'bin'), /bin "bin" is a folder, not a file \[ours/);
    assert.match(check(t, '.'), /bin "\." is a folder, not a file \[ours/);
    assert.match(check(t, 'bin/'), /bin "bin\/" is a folder, not a file \[ours/);
  });

  it('installs a bin outside the version folder without linking it, as install.go does, and rejects it as ours', () => {
    const t = tarGz([bin, license]);
    const plan = planInstall(platform(t, '../kubectl-reccred'), t);
    assert.equal(plan.linked, false, 'krew returns no error and makes no link');
    assert.deepEqual([...plan.files.keys()].sort(), ['LICENSE', 'kubectl-reccred'], 'the files are installed all the same');
    assert.match(check(t, '../kubectl-reccred'), /leaves the version folder \[ours: krew installs the plugin unlinked/);
  });

  it('rejects an unclean `to` at install too (move.go), before any file moves', () => {
    assert.match(check(tarGz([bin, license]), 'kubectl-reccred', [{ from: '*', to: './' }]), /the provided path is not clean/);
  });

  it('rejects a wrong sha256, a missing LICENSE, a missing bin and a non-executable bin', () => {
    const t = tarGz([bin, license]);
    assert.match(validateArchive({ ...platform(t), sha256: 'c'.repeat(64) }, 'x.tar.gz', t).join(), /does not match/);
    assert.match(check(tarGz([bin])), /could not find license file/);
    assert.match(check(t, 'other'), /source binary \("other"\) cannot be found/);
    assert.match(check(tarGz([{ ...bin, mode: 0o644 }, license])), /not executable \[ours/);
  });
});
