// The CronJob example of deploy/cronjob: its Role is enough for a rotation and nothing in it is spare,
// down to the names it grants (resourceNames: the REC's pods, its credential Secret, its journal).
// The plugin runs as the CronJob's container does (its command and args, in-cluster configuration from
// a service-account token, no kubeconfig) in a private mount namespace that holds the token files, as a
// user whose permissions are exactly the Role's rules in the sim's RBAC model (which matches
// resourceNames as Kubernetes RBAC does).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { FleetResultSchema } from '../../src/output/result.js';
import { accessReviews, ROTATION_PERMISSIONS } from '../../src/procedures/preflight.js';
import { startSimCluster, type SimCluster } from '../sim/cluster.js';
import type { PolicyRule } from '../sim/kube/authz.js';
import { policyRulesFromRole, type RbacRole } from '../sim/kube/rbac.js';
import { journalExists, validPasswords } from './harness.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// The manifests' documents, navigated freely by the assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const docs = (file: string) => yaml.loadAll(fs.readFileSync(path.join(repo, 'deploy/cronjob', file), 'utf8')) as Array<Record<string, any>>;
const rbac = docs('rbac.yaml');
const role = rbac.find((d) => d.kind === 'Role') as RbacRole;
const binding = rbac.find((d) => d.kind === 'RoleBinding')!;
const account = rbac.find((d) => d.kind === 'ServiceAccount')!;
const cronJob = docs('cronjob.yaml').find((d) => d.kind === 'CronJob')!;
const NS = role.metadata.namespace!;
const SA_USER = `system:serviceaccount:${NS}:${account.metadata.name}`;
/** The REC the example Role names, with as many pods as it names; OTHER is in the namespace but not in the Role. */
const REC = 'rec';
const PODS = 3;
const OTHER = 'rec-b';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The container's command line, with the test's short settle. */
function containerArgs(): string[] {
  const c = cronJob.spec.jobTemplate.spec.template.spec.containers[0];
  const args: string[] = [...c.args];
  args[args.indexOf('--settle') + 1] = '2s';
  return [...args, '--propagation-timeout', '30s', '-o', 'json'];
}

/** Runs the plugin with in-cluster configuration: the token files exist only in its mount namespace. */
function runInCluster(sim: SimCluster, token: string, args: string[]): Promise<Run> {
  const sa = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-sa-'));
  fs.writeFileSync(path.join(sa, 'token'), token, { mode: 0o600 });
  fs.copyFileSync(sim.caFile, path.join(sa, 'ca.crt'));
  fs.writeFileSync(path.join(sa, 'namespace'), NS);
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

function label(sim: SimCluster, rec: string, labels: Record<string, string>): void {
  const o = sim.store.mustGet('redisenterpriseclusters', NS, rec);
  sim.store.update('redisenterpriseclusters', { ...o, metadata: { ...o.metadata, labels: { ...(o.metadata.labels ?? {}), ...labels }, resourceVersion: undefined } });
}

describe('CronJob example: in-cluster rotation with exactly the Role of deploy/cronjob', function () {
  this.timeout(600_000);
  let sim: SimCluster;
  const selector = () => containerArgs()[containerArgs().indexOf('-l') + 1]!;

  before(async () => {
    sim = await startSimCluster({
      recs: [
        { name: REC, pods: PODS },
        { name: OTHER, pods: 1 },
      ],
      namespaces: [NS],
      syncDelayMs: 500,
      operatorIntervalMs: 250,
    });
    const [k, v] = selector().split('=');
    label(sim, REC, { [k!]: v! });
  });
  after(async () => sim?.stop());

  it("the manifests fit together: the binding grants the Role to the CronJob's service account in one namespace", () => {
    assert.equal(binding.roleRef.name, role.metadata.name);
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: account.metadata.name, namespace: NS }]);
    assert.equal(cronJob.metadata.namespace, NS);
    assert.equal(cronJob.spec.jobTemplate.spec.template.spec.serviceAccountName, account.metadata.name);
    assert.equal(cronJob.spec.concurrencyPolicy, 'Forbid');
  });

  it('the Role grants every check of the preflight, on exactly the names the preflight asks about, and list on RECs for -l', () => {
    const granted = new Set(
      (role.rules ?? []).flatMap((r) => r.resources!.flatMap((res) => r.verbs.flatMap((v) => (r.resourceNames ?? ['']).map((n) => `${r.apiGroups![0]}|${res}|${v}|${n}`)))),
    );
    const pods = Array.from({ length: PODS }, (_, i) => ({ metadata: { name: `${REC}-${i}` } }));
    const reviews = accessReviews(ROTATION_PERMISSIONS, { name: REC, pods, storeType: 'kubernetes', secretName: REC, journal: { name: `${REC}-reccred-journal` } } as never);
    const needed = [
      // A rule without resourceNames answers a named review too: the REC's get is asked by name, granted for all.
      ...reviews.map(
        (c) => `${c.group ?? ''}|${c.resource}${c.subresource ? `/${c.subresource}` : ''}|${c.verb}|${c.resource === 'redisenterpriseclusters' ? '' : (c.name ?? '')}`,
      ),
      'app.redislabs.com|redisenterpriseclusters|list|',
    ];
    assert.deepEqual([...granted].sort(), [...new Set(needed)].sort(), 'the Role grants exactly what the plugin checks and uses');
    // Narrowed wherever RBAC can: only the unnamed creates and lists are left for every name.
    const unnamed = (role.rules ?? []).filter((r) => !r.resourceNames).flatMap((r) => r.resources!.flatMap((res) => r.verbs.map((v) => `${res}|${v}`)));
    assert.deepEqual(unnamed.sort(), ['pods|list', 'redisenterpriseclusters|get', 'redisenterpriseclusters|list', 'secrets|create']);
  });

  it("the image is pinned by digest, in the CronJob and in the Dockerfile's base", () => {
    const image: string = cronJob.spec.jobTemplate.spec.template.spec.containers[0].image;
    assert.match(image, /^[^@\s]+@sha256:\S+$/, 'image: NAME@sha256:DIGEST, no tag');
    const from = fs
      .readFileSync(path.join(repo, 'deploy/cronjob/Dockerfile'), 'utf8')
      .split('\n')
      .filter((l) => /^FROM /.test(l));
    assert.ok(from.length > 0);
    for (const line of from) assert.match(line, /@\$\{BASE_DIGEST\}$|@sha256:[0-9a-f]{64}$/, line);
  });

  it("rotates with exactly the Role's rules, in-cluster, touching only the selected REC", async () => {
    const { token } = sim.addUser(SA_USER, policyRulesFromRole(role));
    const before = { a: sim.credentials(REC)!.password, b: sim.credentials(OTHER)!.password };
    const mark = sim.audit.mark();
    const r = await runInCluster(sim, token, containerArgs());
    assert.equal(r.code, 0, r.stderr);
    const doc = FleetResultSchema.parse(JSON.parse(r.stdout));
    assert.deepEqual(
      doc.results.map((x) => [x.namespace, x.rec, x.phase]),
      [[NS, REC, 'completed']],
    );
    const after = sim.credentials(REC)!;
    assert.notEqual(after.password, before.a);
    assert.deepEqual(validPasswords(sim, REC, after.username), [after.password]);
    assert.equal(journalExists(sim, NS, REC), false);
    assert.equal(sim.credentials(OTHER)!.password, before.b, 'the unselected REC is untouched');
    assert.equal(sim.operator.failures(REC).length, 0);
    // Every API request came from the service account: in-cluster configuration, no kubeconfig.
    const users = new Set(sim.audit.since(mark).flatMap((e) => (e.kind === 'api' ? [e.user] : [])));
    assert.deepEqual([...users], [SA_USER]);
  });

  it('is minimal: without any single verb of the Role, or any pod it names, the plugin refuses (exit 4) and changes nothing', async () => {
    const rules = policyRulesFromRole(role);
    const withoutVerb = rules.flatMap((rule, i) =>
      rule.verbs.map((verb) => ({
        id: `${verb}-${i}`,
        what: `${verb} ${rule.resources.join(',')}${rule.resourceNames ? ` ${rule.resourceNames.join(',')}` : ''}`,
        rules: rules.map((r, j) => (j === i ? { ...r, verbs: r.verbs.filter((v) => v !== verb) } : r)).filter((r) => r.verbs.length > 0),
      })),
    );
    // Dropping a Secret's only name would be the same as dropping the rule's verbs, covered above; an empty
    // resourceNames would mean every name.
    const withoutPod = rules.flatMap((rule, i) =>
      rule.resources.includes('pods/exec')
        ? (rule.resourceNames ?? []).map((pod) => ({
            id: `pod-${pod}`,
            what: `exec into ${pod}`,
            rules: rules.map((r, j): PolicyRule => (j === i ? { ...r, resourceNames: r.resourceNames!.filter((n) => n !== pod) } : r)),
          }))
        : [],
    );
    assert.ok(withoutVerb.length >= 11 && withoutPod.length === PODS);
    for (const c of [...withoutVerb, ...withoutPod]) {
      const { token } = sim.addUser(`${SA_USER}-without-${c.id}`, c.rules);
      const before = sim.credentials(REC)!.password;
      const r = await runInCluster(sim, token, containerArgs());
      assert.equal(r.code, 4, `without "${c.what}": exit ${r.code}\n${r.stderr}`);
      assert.equal(sim.credentials(REC)!.password, before, `without "${c.what}": the store is unchanged`);
      assert.equal(journalExists(sim, NS, REC), false, `without "${c.what}": no journal`);
      assert.match(r.stdout + r.stderr, /forbidden|permission missing/i, `without "${c.what}": the message says what is missing`);
    }
  });

  it('reaches only the REC it names: another REC of the namespace is refused (exit 4) before anything changes, naming what is missing', async () => {
    const { token } = sim.addUser(`${SA_USER}-other`, policyRulesFromRole(role));
    const before = sim.credentials(OTHER)!.password;
    const mark = sim.audit.mark();
    const r = await runInCluster(sim, token, ['rotate', OTHER, '--settle', '2s']);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, new RegExp(`create pods/exec "${OTHER}-0"`));
    assert.match(r.stderr, new RegExp(`patch secrets "${OTHER}"`));
    assert.match(r.stderr, new RegExp(`get secrets "${OTHER}-reccred-journal"`));
    assert.match(r.stderr, /kubectl auth can-i \S+ \S+ (--subresource=exec )?-n /);
    assert.equal(sim.credentials(OTHER)!.password, before);
    assert.equal(journalExists(sim, NS, OTHER), false);
    const writes = sim.audit.since(mark).filter((e) => e.kind === 'api' && e.method !== 'GET' && !e.uri.includes('selfsubjectaccessreviews'));
    assert.deepEqual(writes, []);
  });

  it('the sim authorizes a list by name only through a metadata.name field selector, as Kubernetes does', async () => {
    const { kubeconfig } = sim.addUser(`${SA_USER}-list-by-name`, [{ verbs: ['list'], apiGroups: [''], resources: ['secrets'], resourceNames: [REC], namespaces: [NS] }]);
    const kubectl = (args: string[]) =>
      new Promise<Run>((resolve) => {
        const cache = path.join(sim.dir, 'kubectl-cache-list-by-name');
        const child = spawn('kubectl', [...args, '-n', NS, '--kubeconfig', kubeconfig, '--cache-dir', cache, '-o', 'name'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    const named = await kubectl(['get', 'secrets', '--field-selector', `metadata.name=${REC}`]);
    assert.equal(named.code, 0, named.stderr);
    assert.equal(named.stdout.trim(), `secret/${REC}`);
    const all = await kubectl(['get', 'secrets']);
    assert.notEqual(all.code, 0);
    assert.match(all.stderr, /forbidden/);
    const other = await kubectl(['get', 'secrets', '--field-selector', `metadata.name=${OTHER}`]);
    assert.notEqual(other.code, 0);
  });
});
