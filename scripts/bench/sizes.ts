// Sizes of what a user downloads and runs (issue 22, report only): the linux-amd64 single executable built from the
// sources as they are now, and every release archive `npm run release` makes (scripts/release.ts). The archives
// are read from dist/release when it holds the current ones: archives named for package.json's version whose
// linux-amd64 archive holds the same files byte for byte as the archive made now would (release.ts writes all of
// them from one build, and the build is reproducible). Otherwise the executables are built (when stale, under the
// distribution tests' build lock) and each archive is made in memory by release.ts's own releaseArchive: dist/release
// and plugin.yaml are left as they are (only `npm run release` writes them, together). `run()` returns a markdown
// report; run this file directly to print it.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { readTarGz } from '../krew/extract.js';
import { repoRoot } from '../build-bundle.js';
import { archiveName, releaseDir, releaseVersion } from '../release.js';
import { completionLauncher } from '../release/complete-launcher.js';
import { exeName, findTarget, hostTarget, runtimeBinary, TARGETS, targetId } from '../sea/runtime.js';
import { freshBinaries, freshReleaseArchives } from '../../test/distribution/built-binaries.js';
import { measuredSection, standalone } from './support/machine.js';

const LINUX = findTarget('linux-amd64');

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

/** Why dist/release's archives are not the current ones, or undefined when they are. */
function staleness(version: string, executable: string): string | undefined {
  const t = LINUX;
  const missing = TARGETS.filter((x) => !fs.existsSync(path.join(releaseDir, archiveName(x, version))));
  if (missing.length) return `dist/release has no ${version} archive for ${missing.map(targetId).join(', ')}`;
  const expected = new Map<string, Buffer>([
    ['LICENSE', fs.readFileSync(path.join(repoRoot, 'LICENSE'))],
    [exeName(t), fs.readFileSync(executable)],
    [completionLauncher(t).name, completionLauncher(t).data],
  ]);
  const entries = readTarGz(fs.readFileSync(path.join(releaseDir, archiveName(t, version))));
  const differing = [...expected].filter(([name, data]) => !entries.find((e) => e.name === name)?.data.equals(data)).map(([name]) => name);
  if (entries.length !== expected.size || differing.length) return `its ${targetId(t)} archive differs from today's in ${differing.join(', ') || 'its list of files'}`;
  return undefined;
}

/** '' when the executable runs `version` here (or cannot run on this machine), else why not: sizes of a broken build say little. */
async function startsOrWhy(executable: string): Promise<string> {
  if (hostTarget() !== LINUX) return '';
  try {
    await promisify(execFile)(executable, ['version']);
    return '';
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const why = (e.stderr || e.message).trim().split('\n').filter(Boolean).pop() ?? 'no output';
    return ` (**this build does not start**: ${why.slice(0, 200).replace(/\|/g, '\\|')})`;
  }
}

async function measure(): Promise<string> {
  const version = releaseVersion();
  const [linuxExe] = (await freshBinaries([LINUX])).paths;
  const exeBytes = fs.statSync(linuxExe!).size;
  const rows = [`| ${targetId(LINUX)} executable (\`dist/bin/${targetId(LINUX)}/${exeName(LINUX)}\`)${await startsOrWhy(linuxExe!)} | ${mb(exeBytes)} | ${exeBytes} |`];
  if (hostTarget() === LINUX) {
    const runtimeBytes = fs.statSync(runtimeBinary(LINUX)).size;
    rows.push(`| of which beyond the Node runtime it is built on (the SEA blob: bundle and what comes with it) | ${mb(exeBytes - runtimeBytes)} | ${exeBytes - runtimeBytes} |`);
  }
  const stale = staleness(version, linuxExe!);
  let source: string;
  if (!stale) {
    source = `read from dist/release (current: its ${targetId(LINUX)} archive holds today's executable byte for byte)`;
    for (const t of TARGETS) {
      const bytes = fs.statSync(path.join(releaseDir, archiveName(t, version))).size;
      rows.push(`| \`${archiveName(t, version)}\` | ${mb(bytes)} | ${bytes} |`);
    }
  } else {
    source = `made now by release.ts's releaseArchive from executables built from today's sources (${stale}); dist/release left as it is`;
    for (const a of await freshReleaseArchives([...TARGETS])) rows.push(`| \`${a.name}\` | ${mb(a.data.length)} | ${a.data.length} |`);
  }
  return [`### Sizes (${version}; no target, report only)`, '', `Archives: ${source}. 1 MB = 2^20 bytes.`, '', '| file | size | bytes |', '|---|---:|---:|', ...rows].join('\n');
}

export function run(): Promise<string> {
  return measuredSection(measure);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.stdout.write(await standalone(run));
}
