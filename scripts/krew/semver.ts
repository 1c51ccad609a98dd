// krew's plugin versions: internal/installation/semver/version.go (a leading "v" required, then
// k8s.io/apimachinery/pkg/util/version ParseSemantic) and its ordering (compareInternal), which decides
// whether `krew upgrade` installs a manifest's version.

export interface Semver {
  components: [bigint, bigint, bigint];
  preRelease: string;
}

/** apimachinery util/version: versionMatchRE and extraMatchRE (Go's \s is [\t\n\f\r ]). */
const VERSION = /^[\t\n\f\r ]*v?([0-9]+(?:\.[0-9]+)*)(.*)$/;
const EXTRA = /^(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?[\t\n\f\r ]*$/;
const UINT64_MAX = 2n ** 64n - 1n;

/** Throws with krew's reason when `s` is not a version krew accepts. */
export function parseKrewVersion(s: string): Semver {
  if (!s.startsWith('v')) throw new Error(`version string ${JSON.stringify(s)} not starting with 'v'`);
  const parts = VERSION.exec(s);
  if (!parts) throw new Error(`could not parse ${JSON.stringify(s)} as version`);
  const [, numbers, extra] = parts as unknown as [string, string, string];
  const comps = numbers.split('.');
  if (comps.length !== 3) throw new Error(`illegal version string ${JSON.stringify(s)}`);
  const components = comps.map((c) => {
    if (c.startsWith('0') && c !== '0') throw new Error(`illegal zero-prefixed version component ${JSON.stringify(c)} in ${JSON.stringify(s)}`);
    const n = BigInt(c);
    if (n > UINT64_MAX) throw new Error(`illegal non-numeric version component ${JSON.stringify(c)} in ${JSON.stringify(s)}: value out of range`);
    return n;
  }) as [bigint, bigint, bigint];
  let preRelease = '';
  if (extra !== '') {
    const e = EXTRA.exec(extra);
    if (!e) throw new Error(`could not parse pre-release/metadata (${extra}) in version ${JSON.stringify(s)}`);
    preRelease = e[1] ?? '';
    for (const c of preRelease.split('.')) {
      if (/^[0-9]+$/.test(c) && BigInt(c) <= UINT64_MAX && c.startsWith('0') && c !== '0') {
        throw new Error(`illegal zero-prefixed version component ${JSON.stringify(c)} in ${JSON.stringify(s)}`);
      }
    }
  }
  return { components, preRelease };
}

const numericId = (s: string) => (/^[0-9]+$/.test(s) && BigInt(s) <= UINT64_MAX ? BigInt(s) : undefined);

/** compareInternal < 0: a sorts before b (build metadata ignored). */
export function lessThan(a: Semver, b: Semver): boolean {
  for (let i = 0; i < 3; i++) if (a.components[i] !== b.components[i]) return a.components[i]! < b.components[i]!;
  if (a.preRelease === b.preRelease) return false;
  if (a.preRelease === '') return false;
  if (b.preRelease === '') return true;
  const ap = a.preRelease.split('.');
  const bp = b.preRelease.split('.');
  for (let i = 0; i < ap.length && i < bp.length; i++) {
    const an = numericId(ap[i]!);
    const bn = numericId(bp[i]!);
    if (an !== undefined && bn !== undefined) {
      if (an !== bn) return an < bn;
      continue;
    }
    if (ap[i] !== bp[i]) return ap[i]! < bp[i]!;
  }
  return ap.length < bp.length;
}
