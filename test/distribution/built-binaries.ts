// Executables for targets the test scripts do not build (they build linux-amd64 only): built here when
// missing or older than anything they are made from, so a test runs what the sources make today. And the
// release archives `npm run release` would make from them, through its own code (releaseArchive).
import fs from 'node:fs';
import path from 'node:path';
import { binaryPath, buildBinaries } from '../../scripts/build-binaries.js';
import { repoRoot } from '../../scripts/build-bundle.js';
import { DEFAULT_BASE_URL, releaseArchive, releaseVersion, type ReleaseArchive } from '../../scripts/release.js';
import { targetId, type Target } from '../../scripts/sea/runtime.js';

/** What an executable is made from: the sources, the bundle and SEA scripts, the locked dependencies. */
const INPUTS = ['src', 'scripts/build-bundle.ts', 'scripts/build-binaries.ts', 'scripts/bundle', 'scripts/sea', 'package.json', 'package-lock.json'];

function newestMtime(p: string): number {
  const st = fs.statSync(p, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...fs.readdirSync(p).map((n) => newestMtime(path.join(p, n))));
}

/** The executables of `targets`, rebuilt first when stale; returns their paths and how long the build took. */
export async function freshBinaries(targets: Target[]): Promise<{ paths: string[]; builtMs: number }> {
  const started = Date.now();
  // Test files run in parallel workers: one builds, the others wait and find the executables fresh.
  await withBuildLock(async () => {
    const newest = Math.max(...INPUTS.map((p) => newestMtime(path.join(repoRoot, p))));
    const stale = targets.filter((t) => (fs.statSync(binaryPath(t), { throwIfNoEntry: false })?.mtimeMs ?? 0) < newest);
    if (stale.length) await buildBinaries({ targets: stale, log: () => {} });
  });
  return { paths: targets.map((t) => binaryPath(t)), builtMs: Date.now() - started };
}

const LOCK = path.join(repoRoot, 'dist', '.build-lock');

async function withBuildLock(build: () => Promise<void>): Promise<void> {
  fs.mkdirSync(path.dirname(LOCK), { recursive: true });
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch {
      // A lock older than any build is a dead worker's.
      const age = Date.now() - (fs.statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 10 * 60_000) fs.rmSync(LOCK, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    await build();
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

/** Archives made in this process, by target, with the mtime of the executable they hold. */
const archives = new Map<string, { executableMtimeMs: number; archive: ReleaseArchive }>();

/**
 * The release archives of `targets` (default base URL, package.json's version) from today's executables,
 * rebuilt first when stale. Compressing one takes about ten seconds, so each is made once per executable
 * and process: the distribution tests share them.
 */
export async function freshReleaseArchives(targets: Target[]): Promise<ReleaseArchive[]> {
  const { paths } = await freshBinaries(targets);
  return targets.map((t, i) => {
    const executableMtimeMs = fs.statSync(paths[i]!).mtimeMs;
    let made = archives.get(targetId(t));
    if (made?.executableMtimeMs !== executableMtimeMs) {
      made = { executableMtimeMs, archive: releaseArchive(t, releaseVersion(), DEFAULT_BASE_URL) };
      archives.set(targetId(t), made);
    }
    return made.archive;
  });
}
