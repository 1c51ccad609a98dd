// The Redis Software version a cluster runs, and the /v1/users/password request bodies it wants.
import type { Pod } from '../kube/resources.js';

/** "X.Y.Z-B" as four numbers; anything after the build (".minimal", ".fips") does not change the API. */
export function parseSoftwareVersion(text: string): number[] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)-(\d+)/.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])] : undefined;
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < 4; i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

/**
 * From 7.8.2-34 "/v1/users/password requests change the password list of the user who provides their
 * credentials in the authorization header" (content/operate/rs/release-notes/rs-7-8-releases/rs-7-8-2-34.md).
 * Before it, `username` is required on POST, PUT and DELETE and `old_password` on POST and PUT
 * (content/operate/rs/7.4/references/rest-api/requests/users/password.md).
 */
const ACTS_ON_CALLER_FROM = [7, 8, 2, 34];

/**
 * 'named': the body names the user (and proves a password on POST/PUT), as before 7.8.2.
 * 'own': the call acts on the authenticated user; POST/PUT send neither username nor old_password
 * (old_password is ignored and announced for removal, rs-8-2-0-25.md and openapi.json; RS161290 builds
 * ignore username), DELETE sends old_password only.
 */
export type PasswordBodies = 'named' | 'own';

export interface ClusterSoftware {
  /** The distinct versions seen, or none where nothing could be read. */
  versions: string[];
  /** Where they were read: GET /v1/nodes, the pods' image tags, or nowhere (then the current API is assumed). */
  source: 'nodes' | 'image' | 'assumed';
  bodies: PasswordBodies;
  /** Some nodes run a version before 7.8.2-34 and others one after: an upgrade is in progress. */
  straddles: boolean;
}

export function clusterSoftware(versions: string[], source: 'nodes' | 'image'): ClusterSoftware {
  const parsed = [...new Set(versions)].flatMap((v) => {
    const p = parseSoftwareVersion(v);
    return p ? [{ text: v, p }] : [];
  });
  if (parsed.length === 0) return { versions: [], source: 'assumed', bodies: 'own', straddles: false };
  const before = parsed.filter((v) => compare(v.p, ACTS_ON_CALLER_FROM) < 0);
  return {
    versions: parsed.map((v) => v.text),
    source,
    bodies: before.length ? 'named' : 'own',
    straddles: before.length > 0 && before.length < parsed.length,
  };
}

/** The Redis Software version of a pod, from its redis-enterprise-node image tag (redislabs/redis:<version>). */
export function podImageVersion(pod: Pod): string | undefined {
  const image: unknown = pod.spec.containers.find((c) => c.name === 'redis-enterprise-node')?.image;
  // A digest (image@sha256:...) names no version.
  const tag = typeof image === 'string' && !image.includes('@') ? image.slice(image.lastIndexOf(':') + 1) : undefined;
  return tag && parseSoftwareVersion(tag) ? tag : undefined;
}

/** The versions the pods' images say, where nothing better is known. */
export function softwareFromImages(pods: Pod[]): ClusterSoftware {
  return clusterSoftware(
    pods.flatMap((p) => podImageVersion(p) ?? []),
    'image',
  );
}

export function describeSoftware(s: ClusterSoftware): string {
  if (s.source === 'assumed') return 'version unknown: the current API is assumed';
  return `${s.versions.join(', ')} (from ${s.source === 'nodes' ? 'GET /v1/nodes' : 'the pods’ image tags'})`;
}
