// The plugin run as a CronJob's container runs it (in-cluster configuration from a service-account token, no
// kubeconfig), and a Role judged from the outside: from the requests the API server's audit log recorded,
// matched against the Role's rules as RBAC matches them. Shared by the CronJob examples' tests.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuditEvent } from '../sim/audit.js';
import type { SimCluster } from '../sim/cluster.js';
import type { RbacRule } from '../sim/kube/rbac.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the plugin with in-cluster configuration: the token files exist only in its mount namespace. */
export function runInCluster(sim: SimCluster, token: string, namespace: string, args: string[]): Promise<Run> {
  const sa = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-sa-'));
  fs.writeFileSync(path.join(sa, 'token'), token, { mode: 0o600 });
  fs.copyFileSync(sim.caFile, path.join(sa, 'ca.crt'));
  fs.writeFileSync(path.join(sa, 'namespace'), namespace);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-home-'));
  const plugin = process.env.RECCRED_EXECUTABLE ? path.resolve(process.env.RECCRED_EXECUTABLE) : path.join(repo, 'bin', 'kubectl-reccred');
  const url = new URL(sim.apiUrl);
  // /var/run is /run here: a tmpfs over it, private to this process tree, holds the service account.
  const script = 'mount -t tmpfs reccred-sa /run && d=/var/run/secrets/kubernetes.io/serviceaccount && mkdir -p "$d" && cp "$SA_SRC"/* "$d"/ && exec "$@"';
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    SA_SRC: sa,
    KUBERNETES_SERVICE_HOST: url.hostname,
    KUBERNETES_SERVICE_PORT: url.port,
    RECCRED_POLL_MS: '200',
  };
  const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', plugin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) =>
    child.on('close', (code) => {
      fs.rmSync(sa, { recursive: true, force: true });
      fs.rmSync(home, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    }),
  );
}

/**
 * A request the plugin made, read back from the API server's audit log (method and URI), with the
 * attributes RBAC authorizes it by, worked out here from the URL alone (not from the sim's authorizer).
 */
export interface AuditedRequest {
  /** An exec upgrade is a GET that clusters before 1.35 authorize as "get" and 1.35+ also as "create": it needs both. */
  verbs: string[];
  group: string;
  /** With its subresource: pods/exec. */
  resource: string;
  name?: string;
  /** Absent for cluster-scoped requests. */
  namespace?: string;
  method: string;
  uri: string;
  status: number;
}

/** Requests that touch resources, as `user` made them; access reviews (every user's, by system:basic-user) and discovery left out. */
export function auditedRequests(events: readonly AuditEvent[], user: string): AuditedRequest[] {
  return events.flatMap((e): AuditedRequest[] => {
    if (e.kind !== 'api' || e.user !== user) return [];
    const u = new URL(e.uri, 'https://audit.invalid');
    const segs = u.pathname.split('/').filter(Boolean);
    const [group, rest] = segs[0] === 'api' && segs[1] === 'v1' ? ['', segs.slice(2)] : segs[0] === 'apis' && segs.length > 3 ? [segs[1]!, segs.slice(3)] : [undefined, []];
    if (group === undefined) return [];
    const namespace = rest[0] === 'namespaces' && rest.length >= 3 ? rest[1] : undefined;
    const [resource, urlName, subresource] = namespace !== undefined ? rest.slice(2) : rest;
    if (!resource || resource === 'selfsubjectaccessreviews') return [];
    const field = u.searchParams.get('fieldSelector')?.match(/(?:^|,)metadata\.name==?([^,]+)/)?.[1];
    const name = urlName ?? field;
    const collection = ['true', '1'].includes(u.searchParams.get('watch') ?? '') ? 'watch' : 'list';
    const verbs =
      subresource === 'exec'
        ? ['create', 'get']
        : ({ GET: [urlName ? 'get' : collection], POST: ['create'], PUT: ['update'], PATCH: ['patch'], DELETE: [urlName ? 'delete' : 'deletecollection'] }[e.method] ?? [e.method]);
    return [
      {
        verbs,
        group,
        resource: subresource ? `${resource}/${subresource}` : resource,
        ...(name ? { name } : {}),
        ...(namespace !== undefined ? { namespace } : {}),
        method: e.method,
        uri: e.uri,
        status: e.status,
      },
    ];
  });
}

/** RBAC's rule matching, written from rbac.md ("Referring to resources"), over the manifest's own rules. */
function ruleCovers(rule: RbacRule, verb: string, q: AuditedRequest): boolean {
  const has = (list: string[] | undefined, v: string) => (list ?? []).some((x) => x === '*' || x === v);
  return has(rule.verbs, verb) && has(rule.apiGroups, q.group) && has(rule.resources, q.resource) && (!rule.resourceNames?.length || rule.resourceNames.includes(q.name ?? ''));
}
export const covered = (rules: RbacRule[], verb: string, q: AuditedRequest) => rules.some((r) => ruleCovers(r, verb, q));
export const describeRequest = (q: AuditedRequest) => `${q.verbs.join('+')} ${q.resource}${q.name ? ` "${q.name}"` : ''} (${q.method} ${q.uri.split('?')[0]} -> ${q.status})`;

/** One thing the Role grants: a verb of a rule, on one of its names (or on every name when it lists none). */
export interface Grant {
  rule: number;
  verb: string;
  group: string;
  resource: string;
  name?: string;
}

export function grantsOf(rules: RbacRule[]): Grant[] {
  return rules.flatMap((r, rule) =>
    r.verbs.flatMap((verb) =>
      r.resources!.flatMap((resource) => (r.resourceNames ?? [undefined]).map((name): Grant => ({ rule, verb, group: r.apiGroups![0]!, resource, ...(name ? { name } : {}) }))),
    ),
  );
}
export const grantUsedBy = (g: Grant, q: AuditedRequest) =>
  q.verbs.includes(g.verb) && q.group === g.group && q.resource === g.resource && (g.name === undefined || q.name === g.name);
export const describeGrant = (g: Grant) => `${g.verb} ${g.resource}${g.name ? ` "${g.name}"` : ''} (rule ${g.rule + 1})`;

/** The Role less one thing it grants. */
export interface Revocation {
  id: string;
  what: string;
  rules: RbacRule[];
  /** What it takes away. */
  grants: Grant[];
}

/** Each verb of each rule taken away, and each name of a rule that lists several. */
export function revocations(rules: RbacRule[]): { verbs: Revocation[]; names: Revocation[] } {
  const all = grantsOf(rules);
  const listed = (r: RbacRule) => (r.resourceNames ? ` ${r.resourceNames.join(',')}` : '');
  const verbs = rules.flatMap((rule, i) =>
    rule.verbs.map((verb): Revocation => ({
      id: `${verb}-${i + 1}`,
      what: `${verb} ${rule.resources!.join(',')}${listed(rule)}`,
      rules: rules.map((r, j) => (j === i ? { ...r, verbs: r.verbs.filter((v) => v !== verb) } : r)).filter((r) => r.verbs.length > 0),
      grants: all.filter((g) => g.rule === i && g.verb === verb),
    })),
  );
  // A rule's only name cannot go alone (an empty resourceNames means every name): that is its verbs going, above.
  const names = rules.flatMap((rule, i) =>
    (rule.resourceNames && rule.resourceNames.length > 1 ? rule.resourceNames : []).map((name): Revocation => ({
      id: `${name}-${i + 1}`,
      what: `${rule.verbs.join(',')} ${rule.resources!.join(',')} "${name}"`,
      rules: rules.map((r, j) => (j === i ? { ...r, resourceNames: r.resourceNames!.filter((n) => n !== name) } : r)),
      grants: all.filter((g) => g.rule === i && g.name === name),
    })),
  );
  return { verbs, names };
}
