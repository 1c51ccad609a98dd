// The rules krew (internal/index/validation) and the krew-index CI (cmd/validate-krew-manifest) apply
// to a plugin manifest, plus the install-time checks they run on each archive. Warnings of theirs
// (line lengths) are errors here: the index reviewers ask for them to be fixed anyway.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { readArchive, type ExtractedEntry } from '../release/archive.js';

export const KREW_API_VERSION = 'krew.googlecontainertools.github.com/v1alpha2';

/** The <os, arch> pairs validate-krew-manifest checks selectors against. */
export const KREW_PLATFORMS: ReadonlyArray<{ os: string; arch: string }> = [
  ['windows', '386'],
  ['windows', 'amd64'],
  ['windows', 'arm64'],
  ['linux', '386'],
  ['linux', 'amd64'],
  ['linux', 'arm'],
  ['linux', 'arm64'],
  ['linux', 'ppc64le'],
  ['darwin', '386'],
  ['darwin', 'amd64'],
  ['darwin', 'arm64'],
].map(([os, arch]) => ({ os: os!, arch: arch! }));

const WINDOWS_RESERVED = ['CON', 'PRN', 'AUX', 'NUL', ...[1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((n) => [`COM${n}`, `LPT${n}`])];
const SEMVER = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
const SHA256 = /^[a-f0-9]{64}$/;
const LICENSE_NAMES = new Set(['license', 'license.txt', 'license.md', 'licenses', 'licenses.txt', 'licenses.md', 'copying', 'copying.txt']);

export interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

export interface Platform {
  selector?: Selector;
  uri?: string;
  sha256?: string;
  bin?: string;
  files?: Array<{ from?: string; to?: string }>;
}

export interface PluginManifest {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string };
  spec?: {
    version?: string;
    homepage?: string;
    shortDescription?: string;
    description?: string;
    caveats?: string;
    platforms?: Platform[];
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** label-selector semantics (k8s LabelSelectorAsSelector) against one os/arch pair. */
export function selectorMatches(sel: Selector, labels: { os: string; arch: string }): boolean {
  const get = (k: string) => (labels as Record<string, string | undefined>)[k];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (get(k) !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const v = get(e.key);
    const values = e.values ?? [];
    if (e.operator === 'In' && !(v !== undefined && values.includes(v))) return false;
    if (e.operator === 'NotIn' && v !== undefined && values.includes(v)) return false;
    if (e.operator === 'Exists' && v === undefined) return false;
    if (e.operator === 'DoesNotExist' && v !== undefined) return false;
  }
  return true;
}

function selectorErrors(sel: unknown): string[] {
  if (sel === undefined || sel === null) return ['nil selector is not supported'];
  if (!isRecord(sel)) return ['selector must be a mapping'];
  const s = sel as Selector;
  if (s.matchLabels === undefined && (s.matchExpressions ?? []).length === 0) return ['empty selector is not supported'];
  const errors: string[] = [];
  const keys = [...Object.keys(s.matchLabels ?? {}), ...(s.matchExpressions ?? []).map((e) => e.key)];
  for (const k of keys) if (k !== 'os' && k !== 'arch') errors.push(`selector key "${k}" not supported (only os and arch)`);
  if (s.matchLabels !== undefined && Object.keys(s.matchLabels).length === 0) errors.push('`matchLabels` specified but empty');
  if (s.matchExpressions !== undefined && s.matchExpressions.length === 0) errors.push('`matchExpressions` specified but empty');
  for (const e of s.matchExpressions ?? []) {
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator)) errors.push(`selector operator "${e.operator}" is not valid`);
    if ((e.operator === 'In' || e.operator === 'NotIn') && !(e.values ?? []).length) errors.push(`selector operator ${e.operator} needs values`);
  }
  return errors;
}

/** A relative path that stays inside the install folder (krew refuses anything else). */
function staysInside(p: string): boolean {
  if (!p || path.posix.isAbsolute(p) || path.win32.isAbsolute(p)) return false;
  const n = path.posix.normalize(p.replace(/\\/g, '/'));
  return n !== '..' && !n.startsWith('../');
}

function lineTooLong(text: string | undefined, max: number): boolean {
  // krew's rule: a longer line is allowed only when it is one word.
  return (text ?? '').split('\n').some((l) => l.length > max && l.trim().includes(' '));
}

/** Structural and cross-platform rules. `name` is the name the index file gives (reccred.yaml -> reccred). */
export function validateManifest(doc: unknown, name: string): string[] {
  const errors: string[] = [];
  if (!isRecord(doc)) return ['manifest must be a YAML mapping'];
  const m = doc as PluginManifest;
  if (m.apiVersion !== KREW_API_VERSION) errors.push(`apiVersion must be ${KREW_API_VERSION}, not ${JSON.stringify(m.apiVersion)}`);
  if (m.kind !== 'Plugin') errors.push(`kind must be Plugin, not ${JSON.stringify(m.kind)}`);
  if (!/^[\w-]+$/.test(name) || WINDOWS_RESERVED.some((r) => r.toLowerCase() === name.toLowerCase())) errors.push(`plugin name ${JSON.stringify(name)} is not allowed`);
  if (m.metadata?.name !== name) errors.push(`metadata.name must be ${JSON.stringify(name)}, not ${JSON.stringify(m.metadata?.name)}`);
  if (!isRecord(m.spec)) return [...errors, 'spec is missing'];
  const spec = m.spec as NonNullable<PluginManifest['spec']>;
  if (!spec.shortDescription) errors.push('spec.shortDescription is required');
  else {
    if (/[\r\n]/.test(spec.shortDescription)) errors.push('spec.shortDescription must be one line');
    if (lineTooLong(spec.shortDescription, 70)) errors.push('spec.shortDescription is longer than 70 characters');
  }
  if (lineTooLong(spec.description, 80)) errors.push('spec.description has a line longer than 80 characters');
  if (lineTooLong(spec.caveats, 80)) errors.push('spec.caveats has a line longer than 80 characters');
  if (!spec.homepage) errors.push('spec.homepage is required by the krew-index review');
  else if (!/^https:\/\/[^\s/]+\.[^\s]+$/.test(spec.homepage)) errors.push(`spec.homepage must be an https URL, not ${JSON.stringify(spec.homepage)}`);
  if (!spec.version) errors.push('spec.version is required');
  else if (!SEMVER.test(spec.version)) errors.push(`spec.version ${JSON.stringify(spec.version)} must be a semantic version with a leading v`);
  const platforms = spec.platforms;
  if (!Array.isArray(platforms) || platforms.length === 0) return [...errors, 'spec.platforms must list at least one platform'];

  platforms.forEach((raw: unknown, i) => {
    const at = `spec.platforms[${i}]`;
    if (!isRecord(raw)) return errors.push(`${at} must be a mapping`);
    const p = raw as Platform;
    if (!p.uri) errors.push(`${at}.uri has to be set`);
    else if (!/^https:\/\//.test(p.uri)) errors.push(`${at}.uri must be https`);
    if (!p.sha256) errors.push(`${at}.sha256 has to be set`);
    else if (!SHA256.test(p.sha256)) errors.push(`${at}.sha256 ${JSON.stringify(p.sha256)} must be 64 lowercase hex digits`);
    if (!p.bin) errors.push(`${at}.bin has to be set`);
    else if (!staysInside(p.bin)) errors.push(`${at}.bin must be a relative path inside the archive`);
    if (p.files !== undefined) {
      if (!Array.isArray(p.files) || p.files.length === 0) errors.push(`${at}.files has to be unspecified or non-empty`);
      else
        p.files.forEach((f, j) => {
          if (!f?.from) errors.push(`${at}.files[${j}].from has to be set`);
          if (!f?.to) errors.push(`${at}.files[${j}].to has to be set`);
          else if (!staysInside(f.to)) errors.push(`${at}.files[${j}].to must stay inside the install folder`);
        });
    }
    const selErrors = selectorErrors(p.selector);
    errors.push(...selErrors.map((e) => `${at}.selector: ${e}`));
    if (selErrors.length) return;
    const matched = KREW_PLATFORMS.filter((x) => selectorMatches(p.selector!, x));
    if (!matched.length) errors.push(`${at}.selector matches no platform krew supports`);
    if (p.bin && matched.some((x) => x.os === 'windows') && !p.bin.endsWith('.exe')) errors.push(`${at}.bin must end in .exe for windows`);
  });
  for (const x of KREW_PLATFORMS) {
    const idx = platforms.flatMap((p, i) => (isRecord(p) && selectorErrors(p.selector).length === 0 && selectorMatches(p.selector!, x) ? [i] : []));
    if (idx.length > 1) errors.push(`platforms ${idx.join(', ')} overlap on os=${x.os}/arch=${x.arch}`);
  }
  return errors;
}

function globToRegExp(glob: string): RegExp {
  const re = glob
    .split('/')
    .map((seg) =>
      seg
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]'),
    )
    .join('/');
  return new RegExp(`^${re}$`);
}

/** The files krew leaves in the install folder: the archive's files, then `files` applied. */
export function applyFiles(entries: ExtractedEntry[], files: Platform['files']): Map<string, ExtractedEntry> {
  const extracted = entries.filter((e) => e.kind === 'file').map((e) => ({ ...e, name: e.name.replace(/^\.\//, '') }));
  if (!files) return new Map(extracted.map((e) => [e.name, e]));
  const out = new Map<string, ExtractedEntry>();
  for (const op of files) {
    const re = globToRegExp(op.from!.replace(/^\.\//, ''));
    const matches = extracted.filter((e) => re.test(e.name));
    const to = op.to!.replace(/\\/g, '/');
    const intoDir = to === '.' || to.endsWith('/') || matches.length > 1;
    for (const e of matches) {
      const target = path.posix.normalize(intoDir ? path.posix.join(to, path.posix.basename(e.name)) : to);
      out.set(target, { ...e, name: target });
    }
  }
  return out;
}

/** What validate-krew-manifest's install step checks, on a local archive file. */
export function validateArchive(platform: Platform, archiveName: string, archive: Buffer): string[] {
  const errors: string[] = [];
  const sum = createHash('sha256').update(archive).digest('hex');
  if (platform.sha256 !== sum) errors.push(`${archiveName}: sha256 ${sum} does not match the manifest's ${platform.sha256}`);
  let entries: ExtractedEntry[];
  try {
    entries = readArchive(archiveName, archive);
  } catch (err) {
    return [...errors, `${archiveName}: cannot be read: ${(err as Error).message}`];
  }
  for (const e of entries) {
    if (e.kind === 'other') errors.push(`${archiveName}: ${e.name} is not a regular file (krew refuses links and devices)`);
    if (!staysInside(e.name)) errors.push(`${archiveName}: ${e.name} would extract outside the install folder`);
  }
  const installed = applyFiles(entries, platform.files);
  const bin = platform.bin ? path.posix.normalize(platform.bin.replace(/\\/g, '/')) : '';
  const binEntry = installed.get(bin);
  if (!binEntry) errors.push(`${archiveName}: bin ${platform.bin} is not among the installed files (${[...installed.keys()].join(', ')})`);
  else if (!platform.bin!.endsWith('.exe') && !(binEntry.mode & 0o111)) errors.push(`${archiveName}: bin ${platform.bin} is not executable`);
  if (![...installed.keys()].some((n) => LICENSE_NAMES.has(path.posix.basename(n).toLowerCase()))) errors.push(`${archiveName}: no LICENSE file is installed`);
  return errors;
}
