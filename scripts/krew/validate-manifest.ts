// A krew manifest and its archives against every rule krew's code applies, each message naming where
// the rule is stated: kubernetes-sigs/krew internal/index/validation/validate.go (ValidatePlugin, run on
// every manifest krew reads), cmd/validate-krew-manifest/main.go (the krew-index CI: supported
// platforms, no overlaps, a real install of every platform, a LICENSE), the install steps themselves
// (install.ts: internal/download, internal/installation), and apimachinery's label selectors. A few
// rules are ours, not krew's, and say so: krew checks no line lengths, no description, no homepage.
import { createHash } from 'node:crypto';
import { clean, cleanWindows, isSubPath, join } from './go-path.js';
import { KrewRefusal, planInstall } from './install.js';
import { parseKrewVersion } from './semver.js';

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
  files?: Array<{ from?: string; to?: string }> | null;
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

const VALIDATE = 'krew internal/index/validation/validate.go';
const CI = 'krew cmd/validate-krew-manifest/main.go';
const MOVE = 'krew internal/installation/move.go';
const SELECTOR = 'apimachinery LabelSelectorAsSelector, as krew internal/installation/platform.go runs it';
const DECODE = 'krew pkg/index/types.go, decoded by sigs.k8s.io/yaml';
/** install.go returns errors.Wrapf(nil, ...) for a bin outside the version folder: no error, no link. */
const UNLINKED = 'ours: krew installs the plugin unlinked, internal/installation/install.go';

/** apimachinery validation IsValidLabelValue. */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** LabelSelector rules, on a selector decoded as krew decodes it (decodeAsKrew checked its shape). */
function selectorErrors(sel: Selector | null | undefined): string[] {
  if (sel === undefined || sel === null) return [`nil selector is not supported [${VALIDATE}]`];
  const labels = sel.matchLabels ?? undefined;
  const exprs = sel.matchExpressions ?? undefined;
  if (labels === undefined && (exprs ?? []).length === 0) return [`empty selector is not supported [${VALIDATE}]`];
  const errors: string[] = [];
  for (const k of [...Object.keys(labels ?? {}), ...(exprs ?? []).map((e) => e.key)])
    if (k !== 'os' && k !== 'arch') errors.push(`key ${JSON.stringify(k)} not supported [${VALIDATE}]`);
  if (labels !== undefined && Object.keys(labels).length === 0) errors.push(`\`matchLabels\` specified but empty [${VALIDATE}]`);
  if (exprs !== undefined && exprs.length === 0) errors.push(`\`matchExpressions\` specified but empty [${VALIDATE}]`);
  for (const [k, v] of Object.entries(labels ?? {}))
    if (!LABEL_VALUE.test(v) || v.length > 63) errors.push(`matchLabels ${k}: ${JSON.stringify(v)} is not a valid label value [${SELECTOR}]`);
  for (const e of exprs ?? []) {
    const values = e.values ?? [];
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator)) errors.push(`${JSON.stringify(e.operator)} is not a valid label selector operator [${SELECTOR}]`);
    if ((e.operator === 'In' || e.operator === 'NotIn') && values.length === 0) errors.push(`for 'in', 'notin' operators, values set can't be empty [${SELECTOR}]`);
    if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && values.length > 0) errors.push(`values set must be empty for exists and does not exist [${SELECTOR}]`);
    for (const v of values) if (!LABEL_VALUE.test(v) || v.length > 63) errors.push(`matchExpressions ${e.key}: ${JSON.stringify(v)} is not a valid label value [${SELECTOR}]`);
  }
  return errors;
}

/**
 * pathutil.IsSubPath of a path joined to its folder, as move.go (files.from, files.to) and install.go (bin)
 * check it: "..x" is outside too. krew built for Windows also splits at `\`.
 */
const leavesFolder = (p: string, windows: boolean) => !isSubPath('/folder', join('/folder', windows ? p.replace(/\\/g, '/') : p));

const isAbsolute = (p: string) => p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:/.test(p);

/** Whether a line of `text` is longer than `max`; with `commands`, lines indented by two spaces (commands a user pastes whole) may be. */
function lineTooLong(text: string | undefined, max: number, commands = false): boolean {
  return (text ?? '').split('\n').some((l) => l.length > max && !(commands && l.startsWith('  ')));
}

/**
 * strconv.FormatFloat(v, 'g', -1, 32): the shortest decimal that reads back as the same float32, in
 * %e form (two-digit exponent at least) when its exponent is below -4 or at least 6, else in %f form.
 */
export function goFormatFloat32(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  const f = Math.fround(v);
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  // Nine significant digits always read back as the same float32; fewer often do.
  let sci = f.toExponential(8);
  for (let digits = 1; digits < 9; digits++) {
    const shorter = f.toExponential(digits - 1);
    if (Math.fround(Number(shorter)) === f) {
      sci = shorter;
      break;
    }
  }
  const [mantissa, exponent] = sci.split('e') as [string, string];
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace(/^-/, '').replace('.', '');
  const exp = Number(exponent);
  if (exp < -4 || exp >= 6) {
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
    return `${sign}${digits[0]}${frac}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return `${sign}${whole}${frac ? `.${frac}` : ''}`;
}

/** What a Go struct field of krew's types (pkg/index/types.go, metav1.LabelSelector) takes. */
type Shape = 'string' | { map: Shape } | { list: Shape } | { fields: Record<string, Shape> };

const SELECTOR_SHAPE: Shape = {
  fields: { matchLabels: { map: 'string' }, matchExpressions: { list: { fields: { key: 'string', operator: 'string', values: { list: 'string' } } } } },
};
const PLUGIN_SHAPE: Shape = {
  fields: {
    apiVersion: 'string',
    kind: 'string',
    metadata: { fields: { name: 'string' } },
    spec: {
      fields: {
        version: 'string',
        shortDescription: 'string',
        description: 'string',
        caveats: 'string',
        homepage: 'string',
        platforms: {
          list: { fields: { uri: 'string', sha256: 'string', bin: 'string', selector: SELECTOR_SHAPE, files: { list: { fields: { from: 'string', to: 'string' } } } } },
        },
      },
    },
  },
};

const kindOf = (v: unknown) => (Array.isArray(v) ? 'a list' : isRecord(v) ? 'a mapping' : JSON.stringify(v));

/**
 * The manifest as krew's types receive it: sigs.k8s.io/yaml v1.6.0 (krew's go.mod) converts the YAML to
 * JSON first (yaml.go convertToJSONableObject), turning an int, float or bool bound for a string field
 * into a string (ints in decimal, floats by FormatFloat(v, 'g', -1, 32), "true"/"false"): `version: 1.5`
 * is read as "1.5", `arch: 386` as "386". Then encoding/json refuses a mapping or a list where a string
 * goes, and a scalar where a mapping or a list goes: those are the decoding errors. Null is an absent
 * field. Not modelled: js-yaml, which read `doc`, resolves a few plain scalars differently from Go's
 * YAML 1.1 reader (yes/no, 0755) and cannot tell 1.0 from 1 (Go would say "1" for both anyway).
 */
export function decodeAsKrew(doc: unknown): { value: unknown; errors: string[] } {
  const errors: string[] = [];
  const decode = (v: unknown, shape: Shape, at: string): unknown => {
    if (v === undefined || v === null) return v;
    if (shape === 'string') {
      if (typeof v === 'string') return v;
      if (typeof v === 'boolean') return String(v);
      if (typeof v === 'number') return Number.isSafeInteger(v) ? String(v) : goFormatFloat32(v);
      errors.push(`${at} must be a string, not ${kindOf(v)} [${DECODE}]`);
      return v;
    }
    if ('list' in shape) {
      if (Array.isArray(v)) return v.map((x, i) => decode(x, shape.list, `${at}[${i}]`));
      errors.push(`${at} must be a list, not ${kindOf(v)} [${DECODE}]`);
      return v;
    }
    if (!isRecord(v)) {
      errors.push(`${at} must be a mapping, not ${kindOf(v)} [${DECODE}]`);
      return v;
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const field = 'map' in shape ? shape.map : Object.hasOwn(shape.fields, k) ? shape.fields[k] : undefined;
      // A field krew's types do not have is ignored (encoding/json), so it is passed on untouched.
      out[k] = field ? decode(x, field, at ? `${at}.${k}` : k) : x;
    }
    return out;
  };
  const value = decode(doc, PLUGIN_SHAPE, '');
  return { value, errors };
}

/** Every rule, on the manifest alone. `name` is the name the index file gives (reccred.yaml -> reccred). */
export function validateManifest(doc: unknown, name: string): string[] {
  if (!isRecord(doc)) return [`manifest must be a YAML mapping [${DECODE}]`];
  const decoded = decodeAsKrew(doc);
  if (decoded.errors.length) return decoded.errors;
  const errors: string[] = [];
  const m = decoded.value as PluginManifest;
  if (m.apiVersion !== KREW_API_VERSION)
    errors.push(`plugin manifest has apiVersion=${JSON.stringify(m.apiVersion ?? '')}, not ${KREW_API_VERSION} [${VALIDATE}, krew pkg/constants/constants.go]`);
  if (m.kind !== 'Plugin') errors.push(`plugin manifest has kind=${JSON.stringify(m.kind ?? '')}, but only "Plugin" is supported [${VALIDATE}]`);
  if (!/^[\w-]+$/.test(name) || WINDOWS_RESERVED.some((r) => r.toLowerCase() === name.toLowerCase()))
    errors.push(`the plugin name ${JSON.stringify(name)} is not allowed [${VALIDATE}]`);
  if (m.metadata?.name !== name) errors.push(`plugin should be named ${JSON.stringify(name)}, not ${JSON.stringify(m.metadata?.name ?? '')} (metadata.name) [${VALIDATE}]`);
  if (!isRecord(m.spec)) return [...errors, `should have a short description, a platform and a version: spec is missing [${VALIDATE}]`];
  const spec = m.spec as NonNullable<PluginManifest['spec']>;
  if (!spec.shortDescription) errors.push(`should have a short description (spec.shortDescription) [${VALIDATE}]`);
  else {
    if (/[\r\n]/.test(spec.shortDescription)) errors.push(`should not have line breaks in short description [${VALIDATE}]`);
    // krew search prints the first 47 bytes and "..." of a longer one, one word or several.
    const bytes = Buffer.byteLength(spec.shortDescription);
    if (bytes > 50) errors.push(`spec.shortDescription is ${bytes} bytes: \`krew search\` cuts it past 50 [ours, from krew cmd/krew/cmd/search.go limitString]`);
  }
  if (!spec.description)
    errors.push(`spec.description is required [ours: krew's docs (site/content/docs/developer-guide/plugin-manifest.md) call it required, its code does not check]`);
  if (lineTooLong(spec.description, 80)) errors.push('spec.description has a line longer than 80 characters [ours: krew prints it as it is]');
  if (lineTooLong(spec.caveats, 80, true)) {
    errors.push('spec.caveats has a line longer than 80 characters [ours: krew prints it as it is; only a command, indented by two spaces, may be longer]');
  }
  if (!spec.homepage) errors.push('spec.homepage is required [ours: the krew-index review asks for it]');
  else if (!/^https:\/\/[^\s/]+\.[^\s]+$/.test(spec.homepage)) errors.push(`spec.homepage must be an https URL, not ${JSON.stringify(spec.homepage)} [ours]`);
  if (!spec.version) errors.push(`should have a version specified (spec.version) [${VALIDATE}]`);
  else {
    try {
      parseKrewVersion(spec.version);
    } catch (err) {
      errors.push(`failed to parse plugin version: ${(err as Error).message} [${VALIDATE}, krew internal/installation/semver/version.go]`);
    }
  }
  const platforms = spec.platforms;
  if (!Array.isArray(platforms) || platforms.length === 0) return [...errors, `should have a platform specified (spec.platforms) [${VALIDATE}]`];

  platforms.forEach((p: Platform, i) => {
    const at = `spec.platforms[${i}]`;
    if (!p.uri) errors.push(`${at}: \`uri\` has to be set [${VALIDATE}]`);
    else if (!/^https:\/\//.test(p.uri)) errors.push(`${at}.uri must be https [ours]`);
    if (!p.sha256) errors.push(`${at}: \`sha256\` sum has to be set [${VALIDATE}]`);
    else if (!SHA256.test(p.sha256)) errors.push(`${at}: \`sha256\` value ${p.sha256} is not valid, must match pattern ^[a-f0-9]{64}$ [${VALIDATE}]`);
    const selErrors = selectorErrors(p.selector);
    const matched = selErrors.length ? [] : KREW_PLATFORMS.filter((x) => selectorMatches(p.selector!, x));
    const windows = matched.some((x) => x.os === 'windows');
    if (!p.bin) errors.push(`${at}: \`bin\` has to be set [${VALIDATE}]`);
    else if (leavesFolder(p.bin, windows)) errors.push(`${at}.bin ${JSON.stringify(p.bin)} leaves the version folder [${UNLINKED}]`);
    else if (isAbsolute(p.bin)) errors.push(`${at}.bin ${JSON.stringify(p.bin)} must be relative [ours: krew reads it relative to the version folder]`);
    if (p.files !== undefined && p.files !== null) {
      if (p.files.length === 0) errors.push(`${at}: \`files\` has to be unspecified or non-empty [${VALIDATE}]`);
      p.files.forEach((f, j) => {
        const fat = `${at}.files[${j}]`;
        if (!f.from) errors.push(`${fat}: \`from\` field has to be set [${VALIDATE}]`);
        else if (leavesFolder(f.from, windows)) errors.push(`${fat}.from ${JSON.stringify(f.from)} leaves the archive [${MOVE}]`);
        if (!f.to) return errors.push(`${fat}: \`to\` field has to be set [${VALIDATE}]`);
        if (f.to !== clean(f.to)) errors.push(`${fat}: the provided path is not clean, ${JSON.stringify(f.to)} should be ${JSON.stringify(clean(f.to))} [${MOVE}]`);
        else if (windows && f.to !== cleanWindows(f.to)) {
          errors.push(`${fat}: the provided path is not clean on Windows, ${JSON.stringify(f.to)} should be ${JSON.stringify(cleanWindows(f.to))} [${MOVE}, built for Windows]`);
        }
        if (leavesFolder(f.to, windows)) errors.push(`${fat}.to ${JSON.stringify(f.to)} leaves the version folder [${MOVE}]`);
      });
    }
    errors.push(...selErrors.map((e) => `${at}.selector: ${e}`));
    if (selErrors.length) return;
    if (!matched.length) errors.push(`${at}'s selector doesn't match any supported platforms [${CI}]`);
    if (p.bin && windows && !p.bin.endsWith('.exe')) errors.push(`${at}.bin must end in .exe for windows [ours: krew links it as kubectl-<name>.exe]`);
  });
  for (const x of KREW_PLATFORMS) {
    const idx = platforms.flatMap((p, i) => (selectorErrors(p.selector).length === 0 && selectorMatches(p.selector!, x) ? [i] : []));
    if (idx.length > 1) errors.push(`multiple spec.platforms (at indexes ${idx.join(', ')}) have overlapping selectors that select ${x.os}/${x.arch} [${CI}]`);
  }
  return errors;
}

/** What validate-krew-manifest's install step finds, on a local archive file: krew's whole install, then the LICENSE. */
export function validateArchive(platform: Platform, archiveName: string, archive: Buffer): string[] {
  const errors: string[] = [];
  const sum = createHash('sha256').update(archive).digest('hex');
  if (platform.sha256 !== sum) errors.push(`${archiveName}: sha256 ${sum} does not match the manifest's ${platform.sha256} [krew internal/download/verifier.go]`);
  let plan: ReturnType<typeof planInstall>;
  try {
    plan = planInstall(platform, archive);
  } catch (err) {
    if (!(err instanceof KrewRefusal)) throw err;
    return [...errors, `${archiveName}: ${err.message} [${err.source}]`];
  }
  for (const e of plan.entries) {
    if (e.type === 'symlink' || e.type === 'other') errors.push(`${archiveName}: ${e.name} is not a regular file [ours: krew would write it as a file holding the link's target]`);
  }
  const windows = !selectorErrors(platform.selector).length && KREW_PLATFORMS.some((x) => x.os === 'windows' && selectorMatches(platform.selector!, x));
  const bin = plan.files.get(plan.bin);
  if (!plan.linked) errors.push(`${archiveName}: bin ${JSON.stringify(platform.bin)} leaves the version folder [${UNLINKED}]`);
  else if (!bin) errors.push(`${archiveName}: bin ${JSON.stringify(platform.bin)} is a folder, not a file [ours: krew links it all the same; kubectl runs only files]`);
  else if (!windows && !(bin.mode & 0o111)) errors.push(`${archiveName}: bin ${platform.bin} is not executable [ours: kubectl runs only executable plugins]`);
  if (![...plan.files.keys()].some((n) => LICENSE_NAMES.has(n.slice(n.lastIndexOf('/') + 1).toLowerCase()))) {
    errors.push(`${archiveName}: could not find license file among [${[...plan.files.keys()].join(', ')}] [${CI}]`);
  }
  return errors;
}
