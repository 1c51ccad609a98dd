// The CronJob example for an application user (deploy/cronjob/user-cronjob.yaml with user-rbac.yaml): the
// plugin runs as the container does (its args, in-cluster configuration, no kubeconfig) with exactly the two
// Roles' rules, and rotates the user end to end: the application's Secret updated, the workloads that read it
// restarted and rolled out, the old password deleted. The Roles are judged from the API server's audit log
// (every request covered, in its namespace; every grant used) and by taking each grant away (the preflight
// refuses, exit 4, nothing changed).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { startSimCluster, type SimCluster } from '../sim/cluster.js';
import type { KubeObject } from '../sim/kube/store.js';
import { policyRulesFromRole, type RbacRole, type RbacRule } from '../sim/kube/rbac.js';
import { validPasswords, waitFor } from './harness.js';
import { auditedRequests, covered, describeGrant, describeRequest, grantsOf, grantUsedBy, revocations, runInCluster, type AuditedRequest } from './in-cluster.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const docs = (file: string) => yaml.loadAll(fs.readFileSync(path.join(repo, 'deploy/cronjob', file), 'utf8')) as Array<Record<string, any>>;
const rbac = docs('user-rbac.yaml');
const roles = rbac.filter((d) => d.kind === 'Role') as RbacRole[];
const bindings = rbac.filter((d) => d.kind === 'RoleBinding');
const account = rbac.find((d) => d.kind === 'ServiceAccount')!;
const cronJob = docs('user-cronjob.yaml').find((d) => d.kind === 'CronJob')!;
const container = cronJob.spec.jobTemplate.spec.template.spec.containers[0];
const arg = (flag: string): string => container.args[container.args.indexOf(flag) + 1];

/** What the example is written for, read from its own args and Roles. */
const NS = cronJob.metadata.namespace as string;
const REC = container.args[2] as string;
const USER = arg('--user');
const [APPS, SECRET_AND_KEY] = arg('--to-secret').split('/') as [string, string];
const [SECRET, KEY] = SECRET_AND_KEY.split(':') as [string, string];
const SA_USER = `system:serviceaccount:${NS}:${account.metadata.name}`;
const roleIn = (ns: string) => roles.find((r) => r.metadata.namespace === ns)!;
const named = (ns: string, resource: string) => (roleIn(ns).rules ?? []).filter((r) => r.resources?.includes(resource)).flatMap((r) => r.resourceNames ?? []);

/** Both Roles' rules, each limited to its namespace. */
const rulesOf = (recRules: RbacRule[], appRules: RbacRule[]) => [
  ...policyRulesFromRole({ ...roleIn(NS), rules: recRules }),
  ...policyRulesFromRole({ ...roleIn(APPS), rules: appRules }),
];

function containerArgs(): string[] {
  const args: string[] = [...container.args];
  args[args.indexOf('--settle') + 1] = '2s';
  args[args.indexOf('--rollout-timeout') + 1] = '60s';
  return [...args, '-o', 'json'];
}

const podSpec = (extra: Record<string, unknown>) => ({ containers: [{ name: 'app', image: 'registry.example.com/app:1', ...extra }] });
function workload(kind: 'Deployment' | 'StatefulSet', name: string, spec: Record<string, unknown>): KubeObject {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name, namespace: APPS },
    spec: { replicas: 2, ...(kind === 'StatefulSet' ? { serviceName: name } : {}), selector: { matchLabels: labels }, template: { metadata: { labels }, spec } },
  } as KubeObject;
}

describe('CronJob example for an application user: user rotate --finish in-cluster with exactly the Roles of deploy/cronjob/user-rbac.yaml', function () {
  this.timeout(600_000);
  let sim: SimCluster;
  let initial = 'Cache-Initial-Passw0rd';
  const workloads = [`deployment/${named(APPS, 'deployments')[0]}`, `statefulset/${named(APPS, 'statefulsets')[0]}`];

  before(async () => {
    sim = await startSimCluster({
      namespaces: [NS, APPS],
      recs: [{ name: REC, namespace: NS, pods: named(NS, 'pods/exec').length }],
      syncDelayMs: 500,
      apps: { readyDelayMs: 200, loginIntervalMs: 100 },
    });
    const user = sim.redis(REC).createUser({ email: USER, password: initial, role: 'db_member' });
    assert.ok(named(NS, 'secrets').includes(`${REC}-reccred-journal-user-${user.uid}`), `the Role names the journal of uid ${user.uid}`);
    const data = { username: Buffer.from(USER).toString('base64'), [KEY]: Buffer.from(initial).toString('base64') };
    sim.store.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: SECRET, namespace: APPS }, type: 'Opaque', data } as KubeObject);
    const app = { rec: `${NS}/${REC}`, username: USER, secret: SECRET, passwordKey: KEY };
    const [web, worker] = workloads.map((w) => w.split('/')[1]!) as [string, string];
    sim.apps.create('Deployment', workload('Deployment', web, podSpec({ env: [{ name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: SECRET, key: KEY } } }] })), app);
    sim.apps.create('StatefulSet', workload('StatefulSet', worker, { ...podSpec({}), volumes: [{ name: 'creds', secret: { secretName: SECRET } }] }), app);
    await waitFor(() => workloads.every((w) => sim.apps.settled(`${APPS}/${w}`)), 'the workloads are rolled out');
    await waitFor(() => workloads.every((w) => sim.apps.logins({ workload: `${APPS}/${w}` }).some((l) => l.ok)), 'every application logged in');
  });
  after(async () => {
    await sim?.stop();
  });

  const secretPassword = () => {
    const s = sim.store.get('secrets', APPS, SECRET) as { data?: Record<string, string> } | undefined;
    return Buffer.from(s?.data?.[KEY] ?? '', 'base64').toString('utf8');
  };
  const journals = () => sim.store.list('secrets', NS).filter((s) => s.metadata.name.startsWith(`${REC}-reccred-journal`));
  const restartedAt = () =>
    workloads.map((w) =>
      JSON.stringify(
        (sim.store.get(`${w.split('/')[0]}s` as 'deployments', APPS, w.split('/')[1]!) as KubeObject & { spec: { template: { metadata?: unknown } } }).spec.template.metadata,
      ),
    );

  it("the manifests fit together: both bindings grant their Role to the CronJob's service account; the Roles name what the args name", () => {
    assert.deepEqual(roles.map((r) => r.metadata.namespace).sort(), [NS, APPS].sort());
    for (const b of bindings) {
      assert.equal(b.roleRef.name, roles.find((r) => r.metadata.namespace === b.metadata.namespace)?.metadata.name);
      assert.deepEqual(b.subjects, [{ kind: 'ServiceAccount', name: account.metadata.name, namespace: NS }]);
    }
    assert.equal(cronJob.spec.jobTemplate.spec.template.spec.serviceAccountName, account.metadata.name);
    assert.equal(cronJob.spec.concurrencyPolicy, 'Forbid');
    assert.deepEqual(container.args.slice(0, 3), ['user', 'rotate', REC]);
    assert.ok(container.args.includes('--finish'));
    assert.deepEqual(named(APPS, 'secrets'), [SECRET]);
    assert.ok(named(NS, 'secrets').includes(REC), "the Role names the REC's admin Secret");
  });

  it('with exactly the Roles: the user rotated end to end; audit log: no request refused, each covered in its namespace, every grant used', async () => {
    const { token } = sim.addUser(SA_USER, rulesOf(roleIn(NS).rules ?? [], roleIn(APPS).rules ?? []));
    const started = Date.now();
    const before = new Map(workloads.map((w) => [w, sim.apps.pods(`${APPS}/${w}`).map((p) => p.metadata.name)]));
    const mark = sim.audit.mark();
    const r = await runInCluster(sim, token, NS, containerArgs());
    assert.equal(r.code, 0, r.stderr);
    const now = secretPassword();
    assert.notEqual(now, initial);
    assert.deepEqual(validPasswords(sim, REC, USER), [now], 'the cluster accepts only the new password');
    for (const w of workloads) {
      const pods = sim.apps.pods(`${APPS}/${w}`);
      for (const p of pods) {
        assert.equal(sim.apps.credentials(APPS, p.metadata.name)?.password, now, `${w} pod ${p.metadata.name} runs with the new password`);
        if (w.startsWith('deployment/')) assert.ok(!before.get(w)!.includes(p.metadata.name), `${w}: pod ${p.metadata.name} is new`);
      }
    }
    assert.deepEqual(
      workloads.flatMap((w) => sim.apps.failedLogins(`${APPS}/${w}`, { since: started }).map((l) => `${l.pod} ${l.reason ?? ''}`)),
      [],
      'no application saw a failed login',
    );
    assert.deepEqual(journals(), [], 'no journal is left');
    const about = `user-rotate of ${USER} (journal ${named(NS, 'secrets').find((n) => n.includes('journal'))!})`;
    assert.deepEqual(
      sim.events({ namespace: NS, name: REC }).map((e) => `${e.reason}: ${e.note}`.replace(/ by .*$/, '')),
      [
        `RotationStarted: ${about} started`,
        `PasswordAdded: ${about}: a new password of ${USER} authenticates; the old one still works; phase added`,
        `StoreUpdated: ${about}: secret ${APPS}/${SECRET}:${KEY} holds the new password; phase stored`,
        `OldPasswordRemoved: ${about}: the old password of ${USER} is removed; phase removed`,
        `RotationCompleted: ${about}: completed; only the new password works`,
      ],
      'the Events of its milestones on the REC, the user named, no password',
    );
    initial = now;

    const requests = auditedRequests(sim.audit.since(mark), SA_USER);
    assert.ok(requests.length > 0);
    assert.deepEqual([...new Set(requests.map((q) => q.namespace))].sort(), [NS, APPS].sort(), 'every request is namespaced, in the two namespaces');
    assert.deepEqual(requests.filter((q) => q.status === 403).map(describeRequest), [], 'the API server refused nothing');
    const rulesFor = (q: AuditedRequest) => (q.namespace === NS || q.namespace === APPS ? (roleIn(q.namespace).rules ?? []) : []);
    assert.deepEqual(requests.filter((q) => !q.verbs.every((v) => covered(rulesFor(q), v, q))).map(describeRequest), [], "every request is covered by its namespace's Role");
    const unused = [NS, APPS].flatMap((ns) =>
      grantsOf(roleIn(ns).rules ?? [])
        .filter((g) => !requests.some((q) => q.namespace === ns && grantUsedBy(g, q)))
        .map((g) => `${ns}: ${describeGrant(g)}`),
    );
    assert.deepEqual(unused, [], 'every verb of every rule, on every name it lists, is used by a request');
  });

  it('preflight: without any single verb or name of either Role, the plugin refuses (exit 4), names it, and changes nothing', async () => {
    const cases = [NS, APPS].flatMap((ns) => {
      const { verbs, names } = revocations(roleIn(ns).rules ?? []);
      return (
        [...verbs, ...names]
          // Without these the plugin goes on, saying so: it cannot tell whether an operator manages the user; it records no Events.
          .filter((c) => !c.what.includes('redisenterpriseusers') && !c.grants.every((g) => g.group === 'events.k8s.io'))
          .map((c) => ({ ns, c, rules: ns === NS ? rulesOf(c.rules, roleIn(APPS).rules ?? []) : rulesOf(roleIn(NS).rules ?? [], c.rules) }))
      );
    });
    assert.ok(cases.length >= 18, `${cases.length} cases`);
    const restarts = restartedAt();
    for (const { ns, c, rules } of cases) {
      const user = `${SA_USER}-without-${ns}-${c.id}`;
      const { token } = sim.addUser(user, rules);
      const r = await runInCluster(sim, token, NS, containerArgs());
      const ctx = `without "${c.what}" in ${ns}: exit ${r.code}\n${r.stderr}`;
      assert.equal(r.code, 4, ctx);
      assert.equal(secretPassword(), initial, ctx);
      assert.deepEqual(validPasswords(sim, REC, USER), [initial], ctx);
      assert.deepEqual(journals(), [], ctx);
      assert.deepEqual(restartedAt(), restarts, `no workload restarted; ${ctx}`);
      if (/permission missing/.test(r.stderr)) {
        for (const g of c.grants) {
          const review = `${g.verb} ${g.resource}${g.group ? `.${g.group}` : ''}${g.name ? ` "${g.name}"` : ''}`;
          assert.ok(r.stderr.includes(review), `the preflight names "${review}"; ${ctx}`);
        }
      } else assert.match(r.stderr, /forbidden/i, ctx);
    }
  });
});
