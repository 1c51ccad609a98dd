// The CronJob example of deploy/cronjob: its Role is enough for a rotation and nothing in it is spare.
// The plugin runs as the CronJob's container does (its command and args, in-cluster configuration from
// a service-account token, no kubeconfig) in a private mount namespace that holds the token files, as a
// user whose permissions are exactly the Role's rules in the sim's RBAC model.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { FleetResultSchema } from '../../src/output/result.js';
import { ROTATION_PERMISSIONS } from '../../src/rotation/preflight.js';
import { startSimCluster, type SimCluster } from '../sim/cluster.js';
import { policyRulesFromRole, type RbacRole } from '../sim/kube/rbac.js';
import { journalExists, validPasswords } from './harness.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const docs = (file: string) => yaml.loadAll(fs.readFileSync(path.join(repo, 'deploy/cronjob', file), 'utf8')) as Array<Record<string, any>>;
const rbac = docs('rbac.yaml');
const role = rbac.find((d) => d.kind === 'Role') as RbacRole;
const binding = rbac.find((d) => d.kind === 'RoleBinding')!;
const account = rbac.find((d) => d.kind === 'ServiceAccount')!;
const cronJob = docs('cronjob.yaml').find((d) => d.kind === 'CronJob')!;
const NS = role.metadata.namespace!;
const SA_USER = `system:serviceaccount:${NS}:${account.metadata.name}`;

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
    sim = await startSimCluster({ recs: [{ name: 'rec-a' }, { name: 'rec-b' }], namespaces: [NS], pods: 2, syncDelayMs: 500, operatorIntervalMs: 250 });
    const [k, v] = selector().split('=');
    label(sim, 'rec-a', { [k!]: v! });
  });
  after(async () => sim?.stop());

  it('the manifests fit together: the binding grants the Role to the CronJob\'s service account in one namespace', () => {
    assert.equal(binding.roleRef.name, role.metadata.name);
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: account.metadata.name, namespace: NS }]);
    assert.equal(cronJob.metadata.namespace, NS);
    assert.equal(cronJob.spec.jobTemplate.spec.template.spec.serviceAccountName, account.metadata.name);
    assert.equal(cronJob.spec.concurrencyPolicy, 'Forbid');
  });

  it('the Role grants every check of the preflight, and list on RECs for -l', () => {
    const granted = new Set(
      (role.rules ?? []).flatMap((r) => r.resources!.flatMap((res) => r.verbs.map((v) => `${r.apiGroups![0]}|${res}|${v}`))),
    );
    const needed = [
      ...ROTATION_PERMISSIONS.map((c) => `${c.group ?? ''}|${c.resource}${c.subresource ? `/${c.subresource}` : ''}|${c.verb}`),
      'app.redislabs.com|redisenterpriseclusters|list',
    ];
    assert.deepEqual([...granted].sort(), [...new Set(needed)].sort(), 'the Role grants exactly what the plugin checks and uses');
  });

  it('rotates with exactly the Role\'s rules, in-cluster, touching only the selected REC', async () => {
    const { token } = sim.addUser(SA_USER, policyRulesFromRole(role));
    const before = { a: sim.credentials('rec-a')!.password, b: sim.credentials('rec-b')!.password };
    const mark = sim.audit.mark();
    const r = await runInCluster(sim, token, containerArgs());
    assert.equal(r.code, 0, r.stderr);
    const doc = FleetResultSchema.parse(JSON.parse(r.stdout));
    assert.deepEqual(doc.results.map((x) => [x.namespace, x.rec, x.phase]), [[NS, 'rec-a', 'completed']]);
    const after = sim.credentials('rec-a')!;
    assert.notEqual(after.password, before.a);
    assert.deepEqual(validPasswords(sim, 'rec-a', after.username), [after.password]);
    assert.equal(journalExists(sim, NS, 'rec-a'), false);
    assert.equal(sim.credentials('rec-b')!.password, before.b, 'the unselected REC is untouched');
    assert.equal(sim.operator.failures('rec-a').length, 0);
    // Every API request came from the service account: in-cluster configuration, no kubeconfig.
    const users = new Set(sim.audit.since(mark).flatMap((e) => (e.kind === 'api' ? [e.user] : [])));
    assert.deepEqual([...users], [SA_USER]);
  });

  it('is minimal: without any single verb of the Role the plugin refuses (exit 4) and changes nothing', async () => {
    const rules = policyRulesFromRole(role);
    const cases = rules.flatMap((rule, i) => rule.verbs.map((verb) => ({ i, verb, what: `${verb} ${rule.resources.join(',')}` })));
    assert.ok(cases.length >= 9);
    for (const c of cases) {
      const reduced = rules
        .map((rule, j) => (j === c.i ? { ...rule, verbs: rule.verbs.filter((v) => v !== c.verb) } : rule))
        .filter((rule) => rule.verbs.length > 0);
      const { token } = sim.addUser(`${SA_USER}-without-${c.verb}-${c.i}`, reduced);
      const before = sim.credentials('rec-a')!.password;
      const r = await runInCluster(sim, token, containerArgs());
      assert.equal(r.code, 4, `without "${c.what}": exit ${r.code}\n${r.stderr}`);
      assert.equal(sim.credentials('rec-a')!.password, before, `without "${c.what}": the store is unchanged`);
      assert.equal(journalExists(sim, NS, 'rec-a'), false, `without "${c.what}": no journal`);
      assert.match(r.stdout + r.stderr, /forbidden|permission missing/i, `without "${c.what}": the message says what is missing`);
    }
  });
});
