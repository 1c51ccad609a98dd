// The CronJob example of deploy/cronjob: its Role is enough for a rotation and nothing in it is spare,
// down to the names it grants (resourceNames: the REC's pods, its credential Secret, its journal).
// The plugin runs as the CronJob's container does (its command and args, in-cluster configuration from
// a service-account token, no kubeconfig) in a private mount namespace that holds the token files, as a
// user whose permissions are exactly the Role's rules in the sim's RBAC model (which matches
// resourceNames as Kubernetes RBAC does).
// Minimality is proven from the outside, from the API server's audit log: the full-Role run's requests are
// all covered by the Role and use every grant of it; and with each verb, or each pod name, revoked after the
// preflight's access reviews (which still see the whole Role, so the preflight cannot be what refuses), the
// API server refuses a request of exactly that grant and the run loses nothing. The preflight's own
// refusals (reviews and requests agreeing) are a separate test.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { FleetResultSchema } from '../../src/output/result.js';
import { accessReviews, ROTATION_PERMISSIONS } from '../../src/procedures/preflight.js';
import { startSimCluster, type SimCluster } from '../sim/cluster.js';
import { policyRulesFromRole, revokedAfterReview, type RbacRole, type RbacRule } from '../sim/kube/rbac.js';
import { EVENTS_PERMISSION } from '../../src/rec/rec-events.js';
import { journalExists, journalPhaseOf, validPasswords, type KillEvent } from './harness.js';
import {
  auditedRequests,
  covered,
  describeGrant,
  describeRequest,
  grantsOf,
  grantUsedBy,
  revocations,
  runInCluster,
  type AuditedRequest,
  type Revocation,
  type Run,
} from './in-cluster.js';
import { spread } from '../spread.js';

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

/** The container's command line, with the test's short settle. */
function containerArgs(): string[] {
  const c = cronJob.spec.jobTemplate.spec.template.spec.containers[0];
  const args: string[] = [...c.args];
  args[args.indexOf('--settle') + 1] = '2s';
  return [...args, '--propagation-timeout', '30s', '-o', 'json'];
}

/** The janitor init container's command line. */
function janitorArgs(): string[] {
  const [c] = cronJob.spec.jobTemplate.spec.template.spec.initContainers;
  return [...c.args, '-o', 'json'];
}

function label(sim: SimCluster, rec: string, labels: Record<string, string>): void {
  const o = sim.store.mustGet('redisenterpriseclusters', NS, rec);
  sim.store.update('redisenterpriseclusters', { ...o, metadata: { ...o.metadata, labels: { ...(o.metadata.labels ?? {}), ...labels }, resourceVersion: undefined } });
}

/** The revocations of grants the plugin cannot do without: the optional Events rule is proven apart. */
function necessary(rules: RbacRule[]): { verbs: Revocation[]; names: Revocation[] } {
  const { verbs, names } = revocations(rules);
  const optional = (c: Revocation) => c.grants.every((g) => g.group === EVENTS_PERMISSION.group);
  return { verbs: verbs.filter((c) => !optional(c)), names: names.filter((c) => !optional(c)) };
}

/** Stack frames on stderr: an error that escaped the plugin's explanations. */
const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

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
  after(async () => {
    if (proven.verbs && proven.names && proven.grants !== undefined) {
      const rules = new Set(proven.verbs.flatMap((c) => c.grants.map((g) => g.rule)));
      console.log(
        `      [figures] CronJob Role (deploy/cronjob/rbac.yaml): ${rules.size}/${role.rules!.length} rules, ${proven.verbs.length} verbs and ${proven.names.length} pod names proven necessary in this run from the audit log (each revoked after the preflight, the API server refused a request the plugin made); with the whole Role: 0 of ${proven.requests} requests refused, ${proven.grants}/${grantsOf(role.rules!).length} grants used`,
      );
    }
    await sim?.stop();
  });

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
      // Optional: Events on the REC (without it the run completes and records none, proven below).
      `${EVENTS_PERMISSION.group}|${EVENTS_PERMISSION.resource}|${EVENTS_PERMISSION.verb}|`,
    ];
    assert.deepEqual([...granted].sort(), [...new Set(needed)].sort(), 'the Role grants exactly what the plugin checks and uses');
    // Narrowed wherever RBAC can: only the unnamed creates and lists are left for every name.
    const unnamed = (role.rules ?? []).filter((r) => !r.resourceNames).flatMap((r) => r.resources!.flatMap((res) => r.verbs.map((v) => `${res}|${v}`)));
    assert.deepEqual(unnamed.sort(), [
      'events|create',
      'pods|list',
      'redisenterpriseactiveactivedatabases|list',
      'redisenterpriseclusters|get',
      'redisenterpriseclusters|list',
      'redisenterpriseremoteclusters|list',
      'secrets|create',
    ]);
  });

  it("the image is pinned by digest, in the CronJob and in the Dockerfile's base", () => {
    const spec = cronJob.spec.jobTemplate.spec.template.spec;
    for (const c of [...spec.initContainers, ...spec.containers]) assert.match(c.image, /^[^@\s]+@sha256:\S+$/, `${c.name}: image NAME@sha256:DIGEST, no tag`);
    assert.equal(spec.initContainers[0].image, spec.containers[0].image, 'the janitor runs the same image');
    const from = fs
      .readFileSync(path.join(repo, 'deploy/cronjob/Dockerfile'), 'utf8')
      .split('\n')
      .filter((l) => /^FROM /.test(l));
    assert.ok(from.length > 0);
    for (const line of from) assert.match(line, /@\$\{BASE_DIGEST\}$|@sha256:[0-9a-f]{64}$/, line);
  });

  it('with exactly the Role: rotates in-cluster, only the selected REC; audit log: no request refused, every request covered by the Role, every grant used', async () => {
    const { token } = sim.addUser(SA_USER, policyRulesFromRole(role));
    const before = { a: sim.credentials(REC)!.password, b: sim.credentials(OTHER)!.password };
    const mark = sim.audit.mark();
    // The janitor first, as the Job runs it: nothing left behind, so nothing to do.
    const j = await runInCluster(sim, token, NS, janitorArgs());
    assert.equal(j.code, 0, j.stderr);
    assert.deepEqual(
      FleetResultSchema.parse(JSON.parse(j.stdout)).results.map((x) => [x.rec, x.phase]),
      [[REC, 'none']],
    );
    const r = await runInCluster(sim, token, NS, containerArgs());
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
    assert.deepEqual(
      sim.events({ namespace: NS, name: REC, kind: 'RedisEnterpriseCluster' }).map((e) => e.reason),
      ['RotationStarted', 'PasswordAdded', 'StoreUpdated', 'PodsUpdated', 'OldPasswordRemoved', 'RotationCompleted'],
      'the Events of its milestones, recorded with the Role',
    );
    // Every API request came from the service account: in-cluster configuration, no kubeconfig.
    const users = new Set(sim.audit.since(mark).flatMap((e) => (e.kind === 'api' ? [e.user] : [])));
    assert.deepEqual([...users], [SA_USER]);
    // The Role judged from the requests the API server saw, not from the plugin's own permission list.
    const requests = auditedRequests(sim.audit.since(mark), SA_USER);
    assert.ok(requests.length > 0);
    assert.deepEqual(requests.filter((q) => q.status === 403).map(describeRequest), [], 'the API server refused nothing');
    const rules = role.rules ?? [];
    assert.deepEqual(requests.filter((q) => !q.verbs.every((v) => covered(rules, v, q))).map(describeRequest), [], 'every request is covered by the Role');
    const unused = grantsOf(rules).filter((g) => !requests.some((q) => grantUsedBy(g, q)));
    assert.deepEqual(unused.map(describeGrant), [], 'every verb of every rule, on every name it lists, is used by a request');
    proven.requests = requests.length;
    proven.grants = grantsOf(rules).length - unused.length;
  });

  it('without the optional Events rule: the rotation completes, says so once, and records no Event', async () => {
    const rules = (role.rules ?? []).filter((r) => !r.apiGroups?.includes(EVENTS_PERMISSION.group));
    assert.equal(rules.length, (role.rules ?? []).length - 1, 'the Role has one Events rule');
    const { token } = sim.addUser(`${SA_USER}-no-events`, policyRulesFromRole({ ...role, rules }));
    const before = sim.events({ namespace: NS, name: REC }).length;
    const r = await runInCluster(sim, token, NS, containerArgs());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.match(/Events: not recorded/g)?.length, 1, r.stderr);
    assert.equal(sim.events({ namespace: NS, name: REC }).length, before, 'no Event was recorded');
    const after = sim.credentials(REC)!;
    assert.deepEqual(validPasswords(sim, REC, after.username), [after.password]);
  });

  it('preflight (access reviews): without any single verb of the Role, or any pod it names, the plugin refuses (exit 4), names it, and changes nothing', async () => {
    const { verbs, names } = necessary(role.rules ?? []);
    assert.ok(verbs.length >= 11 && names.length === PODS);
    const byPreflight: string[] = [];
    const byFirstRequest: string[] = [];
    for (const c of [...verbs, ...names]) {
      const user = `${SA_USER}-without-${c.id}`;
      const { token } = sim.addUser(user, policyRulesFromRole({ ...role, rules: c.rules }));
      const before = sim.credentials(REC)!.password;
      const mark = sim.audit.mark();
      const r = await runInCluster(sim, token, NS, containerArgs());
      assert.equal(r.code, 4, `without "${c.what}": exit ${r.code}\n${r.stderr}`);
      assert.equal(sim.credentials(REC)!.password, before, `without "${c.what}": the store is unchanged`);
      assert.equal(journalExists(sim, NS, REC), false, `without "${c.what}": no journal`);
      const refused = auditedRequests(sim.audit.since(mark), user).filter((q) => q.status === 403);
      if (refused.length === 0) {
        // The access reviews caught it before any request needed it, and the message names each grant.
        for (const g of c.grants) {
          const review = `${g.verb} ${g.resource}${g.group ? `.${g.group}` : ''}${g.name ? ` "${g.name}"` : ''}`;
          assert.ok(r.stderr.includes(review), `without "${c.what}": the preflight names "${review}"\n${r.stderr}`);
        }
        assert.match(r.stderr, /permission missing/);
        byPreflight.push(c.id);
      } else {
        // Needed before the preflight can ask (reading the REC, listing RECs and pods): the API server refused it.
        assert.match(r.stderr, /forbidden/i, `without "${c.what}"`);
        byFirstRequest.push(c.id);
      }
    }
    console.log(`      [figures] preflight refusals: ${byPreflight.length} by the access reviews, ${byFirstRequest.length} by the API server before the reviews`);
  });

  /** What each revocation proved, for the figures. */
  const proven: { verbs?: Revocation[]; names?: Revocation[]; requests?: number; grants?: number } = {};

  /**
   * The CronJob's flow as a user whose access reviews still see the whole Role while the API server
   * enforces the Role without `c` (an RBAC change that landed right after the preflight). The run must
   * stop because the API server refused a request of exactly what was revoked, and lose nothing.
   */
  async function runRevoked(
    c: Revocation,
    settleWith: 'finish' | 'abort',
    /**
     * Revoke when the simulated cluster records this event (a store write before its reply, an audit record),
     * instead of from the start; with `cut`, the API server also resets every open exec stream then, as its
     * restart does, so the plugin's next request needs a new session.
     */
    revokeAt?: { what: string; when: (e: KillEvent) => boolean; cut?: boolean },
  ): Promise<{ code: number | null; phase: string; refused: AuditedRequest; settled: boolean }> {
    const user = `${SA_USER}-revoked-${c.id}${revokeAt ? '-mid-run' : ''}`;
    const full = policyRulesFromRole(role);
    const access = revokedAfterReview(full, policyRulesFromRole({ ...role, rules: c.rules }), revokeAt ? 'later' : 'now');
    const { token } = sim.addUser(user, access.rules);
    const before = sim.credentials(REC)!;
    const failedLogins = sim.audit.failedRestAuths(REC);
    const mark = sim.audit.mark();
    let revokedAt: number | undefined;
    let streamsCut = 0;
    const at = (e: KillEvent) => {
      if (revokedAt !== undefined || !revokeAt?.when(e)) return;
      access.revoke();
      if (revokeAt.cut) streamsCut = sim.apiServer.cutExecStreams();
      revokedAt = sim.audit.mark();
    };
    const unsubscribe = revokeAt ? [sim.store.onChange((store) => at({ store })), sim.audit.onRecord((audit) => at({ audit }))] : [];
    const r = await runInCluster(sim, token, NS, containerArgs()).finally(() => unsubscribe.forEach((off) => off()));
    const ctx = `"${c.what}" revoked ${revokeAt ? `once ${revokeAt.what}${revokeAt.cut ? ', the exec streams cut' : ''}` : 'after the preflight'}: exit ${r.code}\n${r.stderr}`;
    if (revokeAt) assert.ok(revokedAt !== undefined, `the revocation's moment never came; ${ctx}`);
    if (revokeAt?.cut) assert.ok(streamsCut > 0, `the cut found the plugin's exec sessions open; ${ctx}`);
    const requests = auditedRequests(sim.audit.since(mark), user);
    const refused = requests.filter((q) => q.status === 403);
    for (const q of refused) {
      assert.ok(
        q.verbs.every((v) => covered(role.rules!, v, q)) && q.verbs.some((v) => !covered(c.rules, v, q)),
        `the refusal of ${describeRequest(q)} is not the revocation's; ${ctx}`,
      );
    }
    const proof = refused.find((q) => c.grants.some((g) => grantUsedBy(g, q) && !covered(c.rules, g.verb, q)));
    assert.ok(proof, `the API server refused no request of "${c.what}"; ${ctx}`);
    assert.doesNotMatch(r.stderr, /permission missing/, `the access reviews allowed everything: not the preflight's refusal; ${ctx}`);
    assert.doesNotMatch(r.stderr, STACK_FRAME, `no stack trace; ${ctx}`);
    assert.match(r.stderr, /forbidden/i, `the message says the API server refused; ${ctx}`);
    assert.equal(sim.audit.failedRestAuths(REC), failedLogins, `no failed login; ${ctx}`);
    // A run refused before it knew its RECs (the list for -l) has no REC to report: its document is empty.
    const result = r.stdout.trim() ? FleetResultSchema.parse(JSON.parse(r.stdout)).results[0] : undefined;
    const phase = result?.phase ?? '(no result)';
    const after = sim.credentials(REC)!;
    const valid = validPasswords(sim, REC, after.username);
    assert.ok(valid.includes(after.password), `the Secret's password is accepted by the cluster; ${ctx}`);
    // The journal is the first change: refused before it was created, the run changed nothing (exit 4).
    const created = requests.findIndex((q) => q.resource === 'secrets' && q.method === 'POST' && q.status === 201);
    if (created < 0 || created > requests.indexOf(refused[0]!)) {
      assert.equal(r.code, 4, ctx);
      assert.equal(journalExists(sim, NS, REC), false, ctx);
      assert.deepEqual(valid, [before.password], `unchanged; ${ctx}`);
      assert.equal(after.password, before.password, ctx);
      return { code: r.code, phase, refused: proof, settled: false };
    }
    // After it, the journal stays with every password in it (exit 3): the Role (without its Active-Active rule) settles it either way.
    assert.equal(r.code, 3, ctx);
    assert.equal(journalExists(sim, NS, REC), true, ctx);
    if (phase === 'added') assert.ok(valid.length === 2 && valid.includes(before.password), `both passwords valid; ${ctx}`);
    // The message says, for the phase the run stopped in, which passwords work, and that is what the cluster accepts.
    if (phase === 'removed') {
      assert.match(r.stderr, /old password was removed/, `the message says the old password is gone; ${ctx}`);
      assert.ok(!valid.includes(before.password), `the old password is gone; ${ctx}`);
    } else if (phase === 'recorded') {
      assert.match(r.stderr, /The old password still works;/, `the message says the old password works; ${ctx}`);
      assert.ok(valid.includes(before.password), `the old password works; ${ctx}`);
    } else if (phase === 'propagated') {
      assert.match(r.stderr, /unless the run stopped while removing it/, `the message does not promise the old password; ${ctx}`);
    } else {
      assert.match(r.stderr, /The old password still works, and so does the new one/, `the message says both passwords work; ${ctx}`);
      assert.equal(valid.length, 2, `both passwords work; ${ctx}`);
    }
    // finish and abort take the clusters from the journal: the Role's Active-Active rule is not theirs to need.
    const withoutActiveActive = policyRulesFromRole({ ...role, rules: (role.rules ?? []).filter((x) => !x.resources?.includes('redisenterpriseremoteclusters')) });
    assert.ok(withoutActiveActive.length < full.length, 'the Role has an Active-Active rule to leave out');
    const { token: fullToken } = sim.addUser(`${SA_USER}-settles`, withoutActiveActive);
    // finish as the next Job does it, through its janitor (the REC by label, the holder gone); abort by name.
    const s = await runInCluster(sim, fullToken, NS, settleWith === 'finish' ? janitorArgs() : [settleWith, REC, '-o', 'json']);
    assert.equal(s.code, 0, `${settleWith} with the whole Role after ${ctx}\n${settleWith}: ${s.stderr}`);
    assert.equal(journalExists(sim, NS, REC), false);
    const settled = sim.credentials(REC)!;
    assert.deepEqual(validPasswords(sim, REC, settled.username), [settled.password], `${settleWith}: exactly one valid password, the Secret's; ${ctx}`);
    if (settleWith === 'abort' && phase !== 'removed') assert.equal(settled.password, before.password, `abort restores the old password; ${ctx}`);
    assert.equal(sim.operator.failures(REC).length, 0, `the operator never failed to log in; ${ctx}`);
    return { code: r.code, phase, refused: proof, settled: true };
  }

  it('real refusals (RBAC revoked after the preflight): without each verb of each rule, the API server refuses a request the plugin makes (audit log), and nothing is lost', async () => {
    const { verbs } = necessary(role.rules ?? []);
    assert.ok(verbs.length >= 11);
    // Writes are refused once the journal exists, and each such run is settled by a whole rotation (about 20 s).
    const writes = verbs.filter((c) => /^(patch|delete) /.test(c.what));
    const taken = [...verbs.filter((c) => !writes.includes(c)), ...spread('verbs revoked once the journal exists', writes, 1, (c) => c.what)];
    for (const c of taken) {
      const run = await runRevoked(c, writes.indexOf(c) % 2 === 0 ? 'finish' : 'abort');
      console.log(
        `      ${c.what}: refused ${describeRequest(run.refused)}; exit ${run.code}, phase ${run.phase}${run.settled ? ', settled by the Role without its Active-Active rule' : ''}`,
      );
    }
    proven.verbs = taken;
  });

  it('real refusals (RBAC revoked after the preflight): without each pod name of the exec rule, the API server refuses the exec into exactly that pod (audit log), and nothing is lost', async () => {
    const { names } = necessary(role.rules ?? []);
    assert.equal(names.length, PODS);
    for (const c of names) {
      const run = await runRevoked(c, 'abort');
      assert.equal(run.refused.name, c.grants[0]!.name, `the refused request names the revoked pod: ${describeRequest(run.refused)}`);
      console.log(`      ${c.what}: refused ${describeRequest(run.refused)}; exit ${run.code}, phase ${run.phase}`);
    }
    proven.names = names;
  });

  // Kubernetes authorizes an exec when it opens: a revocation alone is met by the plugin's next new session, the look
  // after the settle (its sessions are stopped before it). With the open streams cut as well (an API server restart),
  // the very next request needs a new session: in the propagation wait, or the check after the removal.
  it('real refusals mid-run: exec revoked once the journal exists; or, with the exec streams cut, once it says added, stored, removed: the next exec session is refused, exit 3, nothing lost, finish or abort settles it', async () => {
    const rules = role.rules ?? [];
    const exec = rules.findIndex((r) => r.resources?.includes('pods/exec'));
    const withoutExec: Revocation = {
      id: 'exec',
      what: `${rules[exec]!.verbs.join(',')} pods/exec (every pod)`,
      rules: rules.filter((_, i) => i !== exec),
      grants: grantsOf(rules).filter((g) => g.rule === exec),
    };
    // Journal writes are caught before their reply: the plugin is waiting on the write, none of its sessions busy.
    const written = (phase: string) => (e: KillEvent) => e.store?.object.metadata.name === `${REC}-reccred-journal` && journalPhaseOf(e.store) === phase;
    const moments: { what: string; when: (e: KillEvent) => boolean; cut?: boolean }[] = [
      { what: 'the journal was created', when: written('recorded') },
      { what: 'the journal says added', when: written('added'), cut: true },
      { what: 'the journal says stored', when: written('stored'), cut: true },
      { what: 'the journal says removed', when: written('removed'), cut: true },
    ];
    // Each moment is a few seconds (the settle is 2 s here): all run in every run.
    for (const [i, moment] of moments.entries()) {
      const run = await runRevoked({ ...withoutExec, id: `exec-${i + 1}` }, i % 2 === 0 ? 'finish' : 'abort', moment);
      assert.equal(run.code, 3, `once ${moment.what}: a journal exists, so the run stops resumable`);
      console.log(`      once ${moment.what}: refused ${describeRequest(run.refused)}; exit ${run.code}, phase ${run.phase}, settled by the Role without its Active-Active rule`);
    }
  });

  it('reaches only the REC it names: another REC of the namespace is refused (exit 4) before anything changes, naming what is missing', async () => {
    const { token } = sim.addUser(`${SA_USER}-other`, policyRulesFromRole(role));
    const before = sim.credentials(OTHER)!.password;
    const mark = sim.audit.mark();
    const r = await runInCluster(sim, token, NS, ['rotate', OTHER, '--settle', '2s']);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, new RegExp(`create pods/exec "${OTHER}-0"`));
    assert.match(r.stderr, new RegExp(`patch secrets "${OTHER}"`));
    assert.match(r.stderr, new RegExp(`get secrets "${OTHER}-reccred-journal"`));
    assert.match(r.stderr, /kubectl auth can-i \S+ \S+ (--subresource=exec )?-n /);
    assert.equal(sim.credentials(OTHER)!.password, before);
    assert.equal(journalExists(sim, NS, OTHER), false);
    const writes = sim.audit
      .since(mark)
      .filter((e) => e.kind === 'api' && e.method !== 'GET' && !e.uri.includes('selfsubjectaccessreviews') && !e.uri.startsWith('/apis/events.k8s.io/'));
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
