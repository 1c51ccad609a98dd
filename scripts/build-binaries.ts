// `npm run build:binaries [-- --target linux-amd64] [-- --check-reproducible]`: the bundle, then one
// Node single executable per target under dist/bin/<os>-<arch>/. See README, "Build".
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundle, describeBundle, helpTextsPath, repoRoot } from './build-bundle.js';
import { SCRIPTS } from './bundle/script-loader.js';
import { buildSeaBlob } from './sea/blob.js';
import { removeSignature, signAdhoc, verifyAdhocSignature } from './sea/macho.js';
import { removeAuthenticode, withChecksum } from './sea/pe.js';
import { exeName, findTarget, hostTarget, NODE_VERSION, runtimeBinary, TARGETS, targetId, type Target } from './sea/runtime.js';

/** The fuse Node's SEA support looks for (node/src/node_sea.cc). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const binRoot = path.join(repoRoot, 'dist', 'bin');

export interface BuiltBinary {
  target: Target;
  path: string;
  sha256: string;
  bytes: number;
}

export const binaryPath = (t: Target, root = binRoot) => path.join(root, targetId(t), exeName(t));

const sha256File = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

function inject(file: string, blobPath: string, t: Target): void {
  // postject's own CLI in a child: LIEF prints harmless warnings on stdout/stderr, shown only on failure.
  const cli = path.join(path.dirname(createRequire(import.meta.url).resolve('postject')), 'cli.js');
  const args = [cli, file, 'NODE_SEA_BLOB', blobPath, '--sentinel-fuse', SEA_FUSE];
  if (t.format === 'macho') args.push('--macho-segment-name', 'NODE_SEA');
  try {
    execFileSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`postject failed for ${targetId(t)}:\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
  }
}

/** The Node runtime for `t`, its signature removed, written to `work`; in a function of its own, so its buffer is not kept alive past the write. */
function writeUnsignedRuntime(t: Target, work: string, log: (line: string) => void): void {
  let base: Buffer = fs.readFileSync(runtimeBinary(t, log));
  if (t.format === 'macho') base = removeSignature(base);
  if (t.format === 'pe') base = removeAuthenticode(base);
  fs.writeFileSync(work, base);
}

/**
 * Written 64 KiB at a time, as an installer's copy loop writes it (krew's extraction, tar, cp). Linux can
 * keep one large write in the page cache as 2 MiB folios, which an executable's mapping then maps whole:
 * a freshly built executable started up to 40 MB larger in resident size (and in the peak memory a
 * benchmark reads) than the same bytes installed, and a start-up measured here would not be the user's.
 */
function writeInPieces(file: string, bytes: Buffer): void {
  const fd = fs.openSync(file, 'w');
  try {
    for (let at = 0; at < bytes.length; at += 64 * 1024) fs.writeSync(fd, bytes, at, Math.min(64 * 1024, bytes.length - at));
  } finally {
    fs.closeSync(fd);
  }
}

export function buildBinary(t: Target, blobPath: string, root = binRoot, log: (line: string) => void = () => {}): BuiltBinary {
  const out = binaryPath(t, root);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const work = `${out}.partial`;
  writeUnsignedRuntime(t, work, log);
  inject(work, blobPath, t);
  let bin: Buffer = fs.readFileSync(work);
  if (t.format === 'macho') {
    // arm64 macOS refuses unsigned code; x86_64 accepts it, but one rule for both is simpler to trust.
    bin = signAdhoc(removeSignature(bin), 'kubectl-reccred');
    verifyAdhocSignature(bin);
  }
  if (t.format === 'pe') bin = withChecksum(bin);
  writeInPieces(work, bin);
  fs.chmodSync(work, 0o755);
  fs.renameSync(work, out);
  return { target: t, path: out, sha256: createHash('sha256').update(bin).digest('hex'), bytes: bin.length };
}

/**
 * Only the executable whose runtime this machine runs carries the command line's V8 code cache: a cache is
 * made by running that runtime (scripts/sea/code-cache.ts), and fits no other V8 build.
 */
export const carriesCodeCache = (t: Target) => targetId(t) === targetId(hostTarget());

const blobPath = (codeCache: boolean) => path.join(repoRoot, 'dist', 'sea', codeCache ? `kubectl-reccred-${targetId(hostTarget())}.blob` : 'kubectl-reccred.blob');

export interface BuildOptions {
  targets?: Target[];
  root?: string;
  log?: (line: string) => void;
}

export async function buildBinaries(options: BuildOptions = {}): Promise<BuiltBinary[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const root = options.root ?? binRoot;
  const targets = options.targets ?? [...TARGETS];
  const bundle = await buildBundle();
  log(`bundle: ${describeBundle(bundle)}, version ${bundle.version}`);
  const blobs = new Map<boolean, string>();
  const blobFor = (t: Target): string => {
    const codeCache = carriesCodeCache(t);
    let blob = blobs.get(codeCache);
    if (!blob) {
      blob = blobPath(codeCache);
      buildSeaBlob({ main: bundle.path, output: blob, codeCache, log });
      blobs.set(codeCache, blob);
    }
    return blob;
  };
  const built: BuiltBinary[] = [];
  for (const t of targets) {
    const started = Date.now();
    const b = buildBinary(t, blobFor(t), root, log);
    log(`${targetId(t)}: ${path.relative(repoRoot, b.path)} ${b.bytes} bytes sha256 ${b.sha256} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
    built.push(b);
  }
  return built;
}

/**
 * Rebuilds every stage into a scratch folder and compares bytes: bundle and blob from the same sources,
 * then each executable from the same blob (sources may change under a running build; the stages may not).
 */
async function checkSameOutputs(built: BuiltBinary[]): Promise<boolean> {
  const scratch = fs.mkdtempSync(path.join(repoRoot, 'dist', 'repro-'));
  const report = (what: string, a: string, b: string) => {
    process.stdout.write(`${what}: ${a === b ? 'reproducible' : 'DIFFERS'} (${a})\n`);
    return a === b;
  };
  try {
    // Same file names in two folders: the entry names the command line's script.
    const [a, b] = [await buildBundle(path.join(scratch, 'a', 'kubectl-reccred.cjs')), await buildBundle(path.join(scratch, 'b', 'kubectl-reccred.cjs'))];
    let ok = report('bundle', sha256File(a.path), sha256File(b.path));
    for (const name of SCRIPTS) ok = report(`bundle (${name})`, sha256File(a.scripts[name].path), sha256File(b.scripts[name].path)) && ok;
    ok = report('bundle (help texts)', sha256File(helpTextsPath(a.path)), sha256File(helpTextsPath(b.path))) && ok;
    for (const codeCache of new Set(built.map((b) => carriesCodeCache(b.target)))) {
      const blobAgain = buildSeaBlob({ main: path.join(repoRoot, 'dist', 'kubectl-reccred.cjs'), output: path.join(scratch, 'again.blob'), codeCache });
      ok = report(codeCache ? 'sea blob (code cache)' : 'sea blob', sha256File(blobPath(codeCache)), createHash('sha256').update(blobAgain).digest('hex')) && ok;
    }
    for (const b of built) {
      const again = buildBinary(b.target, blobPath(carriesCodeCache(b.target)), scratch);
      ok = report(targetId(b.target), b.sha256, sha256File(again.path)) && ok;
      fs.rmSync(again.path);
    }
    return ok;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

function parseArgs(argv: string[]): { targets: Target[]; checkReproducible: boolean } {
  const targets: Target[] = [];
  let checkReproducible = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--target') targets.push(findTarget(argv[++i] ?? ''));
    else if (a.startsWith('--target=')) targets.push(findTarget(a.slice('--target='.length)));
    else if (a === '--check-reproducible') checkReproducible = true;
    else throw new Error(`unknown argument ${a}; usage: build-binaries [--target <os>-<arch>]... [--check-reproducible]`);
  }
  return { targets: targets.length ? targets : [...TARGETS], checkReproducible };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { targets, checkReproducible } = parseArgs(process.argv.slice(2));
  process.stderr.write(`Node ${NODE_VERSION} single executables for ${targets.map(targetId).join(', ')}\n`);
  const built = await buildBinaries({ targets });
  if (checkReproducible && !(await checkSameOutputs(built))) process.exitCode = 1;
  // A quick smoke check of the one executable this machine can run.
  const host = built.find((b) => b.target.os === 'linux' && b.target.arch === (process.arch === 'x64' ? 'amd64' : process.arch));
  if (host) process.stderr.write(execFileSync(host.path, ['version'], { encoding: 'utf8' }));
}
