// `npm run release [-- --no-build] [-- --base-url URL]`: krew archives in dist/release/, their sha256,
// plugin.yaml at the repository root (generated from those archives, then validated) and the
// .krew.yaml template that krew-release-bot renders for krew-index on each tag.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { binaryPath, buildBinaries } from './build-binaries.js';
import { repoRoot } from './build-bundle.js';
import { validateArchive, validateManifest, type Platform, type PluginManifest } from './krew/validate-manifest.js';
import { tarGz, zip, type ArchiveEntry } from './release/archive.js';
import { completionLauncher, completionLauncherName } from './release/complete-launcher.js';
import { exeName, TARGETS, type Target } from './sea/runtime.js';

export const PLUGIN_NAME = 'reccred';
export const DEFAULT_BASE_URL = 'https://github.com/redis-field/kubectl-reccred';
export const releaseDir = path.join(repoRoot, 'dist', 'release');

const SHORT_DESCRIPTION = 'Rotate Redis Enterprise cluster credentials safely';
const DESCRIPTION = `Performs the documented Redis Enterprise (REC) credential procedures on
Kubernetes in one safe, resumable command: zero-downtime rotation of the
admin password (both passwords valid until every pod has the new one),
finish/abort after an interruption, status. Needs only the Kubernetes API:
it execs into a REC pod and calls the cluster REST API from inside it.
`;
// Setup steps only (krew's docs, site/content/docs/developer-guide/plugin-manifest.md: caveats are not
// documentation; usage is in --help). The helper is copied, not linked: krew upgrade deletes the version
// folder a link would point into, while the copy calls whichever kubectl-reccred krew links in bin/.
// krew prints caveats after " |  | " (cmd/krew/cmd/install.go, info.go indent), so each command is one
// line a user can select and paste whole: the POSIX one in a subshell, so that its cd leaves the user's
// shell where it was; the Windows one literal for cmd.exe (no cp there, no \${VAR:-default}).
const CAVEATS = `krew links only kubectl-reccred onto PATH. For "kubectl reccred <TAB>"
(kubectl 1.26+), copy the completion helper into krew's bin folder once;
it calls the kubectl-reccred krew keeps there, so it survives upgrades.
Linux and macOS (sh, bash, zsh):
  (cd "\${KREW_ROOT:-$HOME/.krew}" && cp store/reccred/{{VERSION}}/${completionLauncherName('linux')} bin/)
Windows (cmd.exe; if KREW_ROOT is set, use that folder instead):
  copy "%USERPROFILE%\\.krew\\store\\reccred\\{{VERSION}}\\${completionLauncherName('windows')}" "%USERPROFILE%\\.krew\\bin\\"
`;

export const archiveName = (t: Target, version: string) => `kubectl-reccred_${version}_${t.os}_${t.arch}.${t.os === 'windows' ? 'zip' : 'tar.gz'}`;

function archiveEntries(t: Target, executable: string): ArchiveEntry[] {
  return [
    { name: 'LICENSE', data: fs.readFileSync(path.join(repoRoot, 'LICENSE')), mode: 0o644 },
    { name: exeName(t), data: fs.readFileSync(executable), mode: 0o755 },
    { ...completionLauncher(t), mode: 0o755 },
  ];
}

function platformFor(t: Target, uri: string, sha256: string): Platform {
  const launcher = completionLauncherName(t.os);
  return {
    selector: { matchLabels: { os: t.os, arch: t.arch } },
    uri,
    sha256,
    bin: exeName(t),
    files: ['LICENSE', exeName(t), launcher].map((f) => ({ from: f, to: '.' })),
  };
}

export function manifestFor(version: string, platforms: Platform[], homepage: string): PluginManifest {
  return {
    apiVersion: 'krew.googlecontainertools.github.com/v1alpha2',
    kind: 'Plugin',
    metadata: { name: PLUGIN_NAME },
    spec: {
      version,
      homepage,
      shortDescription: SHORT_DESCRIPTION,
      description: DESCRIPTION,
      caveats: CAVEATS.replaceAll('{{VERSION}}', version),
      platforms,
    },
  };
}

const dump = (doc: unknown) => yaml.dump(doc, { lineWidth: -1, noRefs: true, sortKeys: false });

/**
 * krew-release-bot's template: it fills in the tag, each URI and its sha256 when a release is published.
 * Its addURIAndSha returns "uri: ...\n    sha256: ..." (four spaces, for a list item at two); under a
 * selector at six, `indent 6` re-indents the second line (the bot's pkg/source/template.go indent first
 * strips those four spaces). test/distribution/krew-release-bot.test.ts renders it as the bot does.
 */
export function krewReleaseBotTemplate(baseUrl: string): string {
  const m = manifestFor('{{ .TagName }}', [], baseUrl);
  const head = dump({ ...m, spec: { ...m.spec, platforms: undefined } }).replace(/^\s+platforms: null\n/m, '');
  const platforms = TARGETS.map((t) => {
    const p = platformFor(t, '', '');
    const uri = `${baseUrl}/releases/download/{{ .TagName }}/${archiveName(t, '{{ .TagName }}')}`;
    return [
      `    - selector:`,
      `        matchLabels:`,
      `          os: ${t.os}`,
      `          arch: ${t.arch}`,
      `      {{ addURIAndSha "${uri}" .TagName | indent 6 }}`,
      `      bin: ${p.bin}`,
      `      files:`,
      ...p.files!.flatMap((f) => [`        - from: ${f.from}`, `          to: "${f.to}"`]),
    ].join('\n');
  });
  return `# krew-release-bot renders this into plugins/${PLUGIN_NAME}.yaml of krew-index on each release tag.\n${head.replace("version: '{{ .TagName }}'", 'version: "{{ .TagName }}"')}  platforms:\n${platforms.join('\n')}\n`;
}

/** The tag of this version: `v` and package.json's version. */
export function releaseVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  return `v${pkg.version}`;
}

export interface ReleaseArchive {
  target: Target;
  name: string;
  data: Buffer;
  sha256: string;
  /** The manifest platform that installs it from its release URI. */
  platform: Platform;
}

/** One target's release archive and its manifest platform; `executable` defaults to the one build-binaries made. */
export function releaseArchive(t: Target, version: string, baseUrl: string, executable = binaryPath(t)): ReleaseArchive {
  const name = archiveName(t, version);
  const entries = archiveEntries(t, executable);
  const data = t.os === 'windows' ? zip(entries) : tarGz(entries);
  const sha256 = createHash('sha256').update(data).digest('hex');
  return { target: t, name, data, sha256, platform: platformFor(t, `${baseUrl}/releases/download/${version}/${name}`, sha256) };
}

export interface ReleaseResult {
  manifestPath: string;
  archives: Array<{ target: Target; file: string; sha256: string; bytes: number }>;
}

export async function release(options: { build?: boolean; baseUrl?: string } = {}): Promise<ReleaseResult> {
  const baseUrl = (options.baseUrl ?? process.env.RECCRED_RELEASE_BASE_URL ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  const version = releaseVersion();
  if (options.build !== false) await buildBinaries();
  fs.rmSync(releaseDir, { recursive: true, force: true });
  fs.mkdirSync(releaseDir, { recursive: true });
  const archives: ReleaseResult['archives'] = [];
  const platforms: Platform[] = [];
  for (const t of TARGETS) {
    const a = releaseArchive(t, version, baseUrl);
    const file = path.join(releaseDir, a.name);
    fs.writeFileSync(file, a.data);
    archives.push({ target: t, file, sha256: a.sha256, bytes: a.data.length });
    platforms.push(a.platform);
  }
  fs.writeFileSync(path.join(releaseDir, 'SHA256SUMS'), archives.map((a) => `${a.sha256}  ${path.basename(a.file)}\n`).join(''));

  const manifest = manifestFor(version, platforms, baseUrl);
  const errors = validateManifest(manifest, PLUGIN_NAME);
  archives.forEach((a, i) => errors.push(...validateArchive(platforms[i]!, path.basename(a.file), fs.readFileSync(a.file))));
  if (errors.length) throw new Error(`the generated manifest fails validation:\n  ${errors.join('\n  ')}`);
  const manifestPath = path.join(repoRoot, 'plugin.yaml');
  fs.writeFileSync(manifestPath, `# Generated by npm run release from the archives in dist/release/; do not edit.\n${dump(manifest)}`);
  fs.writeFileSync(path.join(repoRoot, '.krew.yaml'), krewReleaseBotTemplate(baseUrl));
  return { manifestPath, archives };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const baseAt = args.indexOf('--base-url');
  const r = await release({ build: !args.includes('--no-build'), baseUrl: baseAt >= 0 ? args[baseAt + 1] : undefined });
  for (const a of r.archives) process.stdout.write(`${a.sha256}  ${path.relative(repoRoot, a.file)} (${a.bytes} bytes)\n`);
  process.stdout.write(`${path.relative(repoRoot, r.manifestPath)} written and validated; .krew.yaml template written\n`);
}
