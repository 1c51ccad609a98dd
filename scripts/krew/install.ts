// krew's install, step by step as its code takes it (Unix build), so that the validator
// and the tests see what a user's krew would do with an archive:
// - internal/download/downloader.go: extract into a staging folder (extract.ts decides what is read;
//   tar files are opened without truncation, zip files with it; modes under the usual 022 umask);
// - internal/installation/install.go applyDefaults: no `files` means [{from: "*", to: "."}];
// - internal/installation/move.go findMoveTargets: `to` must be clean; a `from` naming an existing path
//   is moved to `to` itself (its own name when `to` is "."), otherwise it is a glob whose matches go
//   into the folder `to`; every source and target must stay inside its folder (pathutil.IsSubPath);
//   each move removes a folder already at the target, then renames;
// - install.go: `bin`, joined to the version folder, is linked only when it stays inside it (outside,
//   krew returns errors.Wrapf(nil, ...), i.e. no error: the plugin is installed, unlinked); a linked
//   `bin` must exist, file or folder (os.Stat), then bin/kubectl-<name> links to it (createOrUpdateLink).
// The steps run on an in-memory tree (planInstall); test/distribution/krew-on-disk.ts applies the
// result to a real KREW_ROOT, as install and upgrade do.
import { krewExtract, KrewRefusal, type ArchiveEntry } from './extract.js';
import { BadPattern, base, clean, dir, hasMeta, isSubPath, join, match, rel, split } from './go-path.js';

export { KrewRefusal };

export interface FileOperation {
  from?: string;
  to?: string;
}

export interface InstallablePlatform {
  bin?: string;
  files?: FileOperation[] | null;
}

type Node = { kind: 'file'; data: Buffer; mode: number } | { kind: 'dir'; mode: number };

const MOVE = 'krew internal/installation/move.go';
const INSTALL = 'krew internal/installation/install.go';
const STAGING = '/tmp/krew-downloads';
const MOVE_TMP = '/tmp/krew-temp-move';
const UMASK = 0o022;

/** The part of a file system krew's install touches, in memory, with Go's os semantics where they matter. */
class Tree {
  readonly nodes = new Map<string, Node>([
    ['/', { kind: 'dir', mode: 0o755 }],
    ['/tmp', { kind: 'dir', mode: 0o777 }],
  ]);

  stat = (p: string) => this.nodes.get(clean(p));

  mkdirAll(p: string, mode: number): void {
    const parts = clean(p).split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const at = `/${parts.slice(0, i).join('/')}`;
      const n = this.nodes.get(at);
      if (n?.kind === 'file') throw new KrewRefusal(`mkdir ${at}: not a directory`, MOVE);
      if (!n) this.nodes.set(at, { kind: 'dir', mode: mode & 0o777 & ~UMASK });
    }
  }

  /** os.OpenFile(p, O_CREATE|O_WRONLY[|O_TRUNC], mode) then a write: the mode applies only to a new file. */
  writeFile(p: string, data: Buffer, mode: number, truncate: boolean): void {
    const at = clean(p);
    const old = this.nodes.get(at);
    if (old?.kind === 'dir') throw new KrewRefusal(`open ${at}: is a directory`, MOVE);
    if (this.nodes.get(dir(at))?.kind !== 'dir') throw new KrewRefusal(`open ${at}: not a directory`, MOVE);
    if (old?.kind === 'file') {
      old.data = truncate || data.length >= old.data.length ? data : Buffer.concat([data, old.data.subarray(data.length)]);
      return;
    }
    this.nodes.set(at, { kind: 'file', data, mode: mode & 0o7777 & ~UMASK });
  }

  readdirnames(p: string): string[] {
    const prefix = clean(p) === '/' ? '/' : `${clean(p)}/`;
    return [...this.nodes.keys()].filter((k) => k !== '/' && k.startsWith(prefix) && !k.slice(prefix.length).includes('/')).map((k) => k.slice(prefix.length));
  }

  removeAll(p: string): void {
    const at = clean(p);
    for (const k of [...this.nodes.keys()]) if (k === at || k.startsWith(`${at}/`)) this.nodes.delete(k);
  }

  /** rename(2): the target's parent must exist; a folder cannot replace a file nor go inside itself. */
  rename(from: string, to: string): void {
    const src = this.nodes.get(from);
    if (!src) throw new KrewRefusal(`rename ${from} ${to}: no such file or directory`, MOVE);
    if (this.nodes.get(dir(to))?.kind !== 'dir') throw new KrewRefusal(`rename ${from} ${to}: no such file or directory`, MOVE);
    const dst = this.nodes.get(to);
    if (src.kind === 'dir' && (to === from || to.startsWith(`${from}/`))) throw new KrewRefusal(`rename ${from} ${to}: invalid argument`, MOVE);
    if (src.kind === 'dir' && dst?.kind === 'file') throw new KrewRefusal(`rename ${from} ${to}: not a directory`, MOVE);
    if (src.kind === 'file' && dst?.kind === 'dir') throw new KrewRefusal(`rename ${from} ${to}: is a directory`, MOVE);
    const moved = [...this.nodes.entries()].filter(([k]) => k === from || k.startsWith(`${from}/`));
    this.removeAll(to);
    for (const [k] of moved) this.nodes.delete(k);
    for (const [k, n] of moved) this.nodes.set(to + k.slice(from.length), n);
  }

  /** The files under `root`, by path relative to it. */
  filesUnder(root: string): Map<string, { data: Buffer; mode: number }> {
    const out = new Map<string, { data: Buffer; mode: number }>();
    for (const [k, n] of this.nodes) if (n.kind === 'file' && k.startsWith(`${root}/`)) out.set(k.slice(root.length + 1), { data: n.data, mode: n.mode });
    return out;
  }
}

/** path/filepath Glob: the pattern checked first, literal paths by Lstat, meta characters folder by folder. */
function glob(tree: Tree, pattern: string): string[] {
  match(pattern, '');
  if (!hasMeta(pattern)) return tree.stat(pattern) ? [pattern] : [];
  const [rawDir, file] = split(pattern);
  const d = rawDir === '' ? '.' : rawDir === '/' ? '/' : rawDir.slice(0, -1);
  const inDir = (folder: string, found: string[]) => {
    if (tree.stat(folder)?.kind !== 'dir') return found;
    for (const n of tree.readdirnames(folder).sort()) if (match(file, n)) found.push(join(folder, n));
    return found;
  };
  if (!hasMeta(d)) return inDir(d, []);
  if (d === pattern) throw new BadPattern(pattern);
  return glob(tree, d).reduce((found, m) => inDir(m, found), [] as string[]);
}

function extractInto(tree: Tree, entries: ArchiveEntry[], zip: boolean): void {
  tree.mkdirAll(STAGING, 0o700);
  for (const e of entries) {
    const target = join(STAGING, e.name);
    try {
      if (e.type === 'dir') tree.mkdirAll(target, e.mode);
      else {
        tree.mkdirAll(dir(target), 0o755);
        tree.writeFile(target, e.data, e.mode, zip);
      }
    } catch (err) {
      throw err instanceof KrewRefusal ? new KrewRefusal(err.message, 'krew internal/download/downloader.go') : err;
    }
  }
}

interface Move {
  from: string;
  to: string;
}

const moveAllowed = (fromDir: string, toDir: string, m: Move) => isSubPath(fromDir, m.from) && isSubPath(toDir, m.to);

function findMoveTargets(tree: Tree, fromDir: string, toDir: string, fo: Required<FileOperation>): Move[] {
  if (fo.to !== clean(fo.to)) throw new KrewRefusal(`the provided path is not clean, ${JSON.stringify(fo.to)} should be ${JSON.stringify(clean(fo.to))}`, MOVE);
  const fromFile = join(fromDir, fo.from);
  if (tree.stat(fromFile)) {
    const m = { from: fromFile, to: join(toDir, clean(fo.to) === '.' ? base(fromFile) : fo.to) };
    if (!moveAllowed(fromDir, toDir, m)) throw new KrewRefusal(`can't move, move target ${JSON.stringify(m)} is out of bounds`, MOVE);
    return [m];
  }
  const newDir = join(toDir, fo.to);
  let matches: string[];
  try {
    matches = glob(tree, join(fromDir, fo.from));
  } catch (err) {
    if (err instanceof BadPattern) throw new KrewRefusal(`could not get files using a glob string: ${err.message}`, MOVE);
    throw err;
  }
  if (!matches.length) throw new KrewRefusal(`no files in the plugin archive matched the glob pattern=${fo.from}`, MOVE);
  return matches.map((v) => {
    const m = { from: v, to: join(newDir, base(v)) };
    if (!moveAllowed(fromDir, toDir, m)) throw new KrewRefusal(`can't move, move target ${JSON.stringify(m)} is not a subpath`, MOVE);
    return m;
  });
}

export interface InstallPlan {
  /** What the type sniffing chose. */
  mime: string;
  entries: ArchiveEntry[];
  /** The version folder's files, by relative path. */
  files: Map<string, { data: Buffer; mode: number }>;
  /** `bin`, relative to the version folder (it may lead outside it: see `linked`). */
  bin: string;
  /** Whether krew links `bin` into its bin/ folder: only a `bin` inside the version folder is linked (file or folder alike). */
  linked: boolean;
}

/** Everything krew's install does up to the link, for one platform of a manifest and its archive; throws KrewRefusal where krew fails. */
export function planInstall(platform: InstallablePlatform, archive: Buffer): InstallPlan {
  const { mime, entries } = krewExtract(archive);
  const tree = new Tree();
  extractInto(tree, entries, mime === 'application/zip');
  const files = platform.files ?? [{ from: '*', to: '.' }];
  tree.mkdirAll(MOVE_TMP, 0o755);
  for (const fo of files) {
    for (const m of findMoveTargets(tree, STAGING, MOVE_TMP, { from: fo.from ?? '', to: fo.to ?? '' })) {
      tree.mkdirAll(dir(m.to), 0o755);
      if (tree.stat(m.to)?.kind === 'dir') tree.removeAll(m.to);
      tree.rename(m.from, m.to);
    }
  }
  const bin = platform.bin ?? '';
  const fullPath = join(MOVE_TMP, bin);
  const result = { mime, entries, files: tree.filesUnder(MOVE_TMP), bin: rel(MOVE_TMP, fullPath) };
  if (!isSubPath(MOVE_TMP, fullPath)) return { ...result, linked: false };
  if (!tree.stat(fullPath)) throw new KrewRefusal(`can't create symbolic link, source binary (${JSON.stringify(bin)}) cannot be found in extracted archive`, INSTALL);
  return { ...result, linked: true };
}
