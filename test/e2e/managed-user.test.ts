// Users the operator manages through a RedisEnterpriseUser (operator 8.2.0-12), end to end: the real
// plugin through the real kubectl against the sim's API server and its RedisEnterpriseUser controller
// (test/sim/redis/user-controller.ts). Asserted on final states: which passwords the cluster accepts,
// which Secrets the resource lists, what --to-secret holds, that no journal is left, and that the REST
// API was never asked to change a managed user's passwords.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AuditEvent } from '../sim/audit.js';
import type { SimCluster } from '../sim/cluster.js';
import { startSimCluster } from '../sim/cluster.js';
import type { KubeObject } from '../sim/kube/store.js';
import type { ReuStatus } from '../sim/redis/user-controller.js';
import { leaksIn, reccred, type KillEvent, type RunResult } from './harness.js';

const NS = 'default';
const REC = 'rec';
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8'));

type Reu = KubeObject & { spec: { passwordMode?: string; passwordSecrets?: { name: string }[] }; status?: ReuStatus };

async function until(what: string, test: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** REST calls that would change a user's passwords. */
const passwordChanges = (events: readonly AuditEvent[]) =>
  events.filter((e) => e.kind === 'rest' && (e.path === '/v1/users/password' || (e.method === 'PUT' && /^\/v1\/users\/\d+$/.test(e.path))));

describe('users managed by a RedisEnterpriseUser (end to end)', function () {
  this.timeout(300_000);
  let sim: SimCluster;
  const outputs: string[] = [];
  const passwords = new Set<string>();
  const run = async (args: string[], opts: Parameters<typeof reccred>[2] = {}): Promise<RunResult> => {
    const r = await reccred(sim, args, opts);
    outputs.push(r.stdout, r.stderr);
    return r;
  };

  const secretValue = (name: string) => unb64((sim.store.get('secrets', NS, name) as { data?: Record<string, string> } | undefined)?.data?.['password']);
  const putSecret = (name: string, password: string) => {
    passwords.add(password);
    sim.store.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS }, type: 'Opaque', data: { password: b64(password) } });
  };
  const reu = (name: string) => sim.store.get('redisenterpriseusers', NS, name) as Reu;
  const specSecrets = (name: string) => (reu(name).spec.passwordSecrets ?? []).map((s) => s.name);
  const statusSecrets = (name: string) => (reu(name).status?.passwordSecrets ?? []).map((s) => s.name);
  const reconciled = (name: string) => {
    const o = reu(name);
    return o.status?.uid !== undefined && (o.status.observedGeneration ?? 0) >= Number(o.metadata['generation'] ?? 1);
  };
  const createdSecrets = (name: string) =>
    sim.store
      .list('secrets', NS)
      .map((s) => s.metadata.name)
      .filter((n) => n.startsWith(`${name}-reccred-`));
  const userJournal = () => sim.store.list('secrets', NS).filter((s) => s.metadata.name.startsWith(`${REC}-reccred-journal`));
  const accepted = (email: string, candidates: string[]) => candidates.filter((p) => sim.redis(REC).accepts(email, p));

  /** A resource with its Secret, as manage-users.md creates it, reconciled by the controller; a role binding gives `role`. */
  async function managedUser(name: string, mode: 'Single' | 'Rotatable', role = 'db_member') {
    const email = `${name}@example.com`;
    const initial = `${name.toUpperCase()}-Initial-Pa55!`;
    putSecret(`${name}-password`, initial);
    if (role !== 'none') sim.userController.bindRole(NS, name, role);
    sim.store.create('redisenterpriseusers', {
      apiVersion: 'app.redislabs.com/v1alpha1',
      kind: 'RedisEnterpriseUser',
      metadata: { name, namespace: NS, generation: 1 },
      spec: { email, username: name, passwordMode: mode, passwordSecrets: [{ name: `${name}-password` }] },
    });
    await until(`${name} reconciled`, () => reconciled(name) && sim.redis(REC).accepts(email, initial) && sim.redis(REC).findUser(email)?.role === role);
    // The Secret clients read (--to-secret), holding the current password.
    putSecret(`${name}-app`, initial);
    return { email, initial };
  }

  /** After a complete rotation: the cluster takes only `fresh`, the resource lists only its Secret, the app Secret holds it. */
  async function assertOnlyNew(name: string, email: string, initial: string, fresh: string) {
    const [only] = specSecrets(name);
    assert.equal(specSecrets(name).length, 1, 'the resource lists one Secret');
    assert.equal(secretValue(only!), fresh, 'that Secret holds the new password');
    assert.deepEqual(statusSecrets(name), [only], 'the status shows only it');
    assert.equal(secretValue(`${name}-app`), fresh, '--to-secret holds the new password');
    assert.deepEqual(sim.redis(REC).findUser(email)!.passwords, [fresh], 'the cluster accepts only the new password');
    assert.deepEqual(accepted(email, [initial, fresh]), [fresh]);
    assert.equal(secretValue(`${name}-password`), initial, 'the old Secret is left in place');
    assert.deepEqual(userJournal(), [], 'no journal is left');
    // The operator does not put anything back on its next rounds.
    await new Promise((r) => setTimeout(r, 800));
    assert.deepEqual(sim.redis(REC).findUser(email)!.passwords, [fresh], 'still only the new password after the next reconciles');
  }

  before(async () => {
    sim = await startSimCluster({ recs: [{ name: REC, namespace: NS }], pods: 1, syncDelayMs: 500, operatorIntervalMs: 250, userControllerIntervalMs: 300 });
    passwords.add(sim.credentials(REC)!.password);
    // Every password a journal records, for the leak check.
    const off = sim.store.onChange((e) => {
      if (e.resource !== 'secrets') return;
      for (const v of Object.values((e.object as { data?: Record<string, string> }).data ?? {})) {
        const text = unb64(v) ?? '';
        if (text.startsWith('{')) {
          const j = JSON.parse(text) as { oldPassword?: string; newPassword?: string };
          for (const p of [j.oldPassword, j.newPassword]) if (p) passwords.add(p);
        } else if (e.object.metadata.name.includes('-reccred-') || e.object.metadata.name.endsWith('-app')) passwords.add(text);
      }
    });
    after(() => off());
  });
  after(async () => sim?.stop());
  // One failed scenario must not block the next: its user journal goes.
  afterEach(function () {
    if (this.currentTest?.state === 'failed') for (const j of userJournal()) sim.store.delete('secrets', NS, j.metadata.name);
  });

  describe('the simulated operator', () => {
    it('serves the resource to the real kubectl and puts back a password changed through the REST API', async () => {
      const { email, initial } = await managedUser('svc-sim', 'Single', 'none');
      const user = sim.redis(REC).findUser(email)!;
      assert.equal(user.role, 'none', 'the operator assigns the none role (manage-users.md)');
      const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-kcache-'));
      const kubectl = (args: string[]) =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          const child = spawn('kubectl', ['--kubeconfig', sim.kubeconfig, '--cache-dir', cache, '-n', NS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (d) => (stdout += d));
          child.stderr.on('data', (d) => (stderr += d));
          child.on('close', (code) => resolve({ code, stdout, stderr }));
        });
      const got = await kubectl(['get', 'redisenterpriseuser', 'svc-sim', '-o', 'jsonpath={.status.username} {.status.signinStatus}']);
      assert.equal(got.code, 0, got.stderr);
      assert.equal(got.stdout, 'svc-sim Active');
      const listed = await kubectl(['get', 'redisenterpriseusers', '-o', 'name']);
      assert.match(listed.stdout, /redisenterpriseuser\.app\.redislabs\.com\/svc-sim/);

      const extra = 'Extra-Rest-Pa55word!';
      passwords.add(extra);
      sim.redis(REC).addPassword(user.uid, extra);
      await until('the operator removes the password added through the REST API', () => !sim.redis(REC).accepts(email, extra));
      assert.deepEqual(sim.redis(REC).findUser(email)!.passwords, [initial]);
      assert.ok(sim.userController.events(NS, 'svc-sim').some((e) => e.reason === 'UserPasswordDeleted'));

      // Single mode, changed the documented way: a new value in the Secret.
      const next = 'Next-Single-Pa55!';
      passwords.add(next);
      const s = sim.store.get('secrets', NS, 'svc-sim-password')!;
      sim.store.update('secrets', { ...s, data: { password: b64(next) } });
      await until('the operator applies the new Secret value', () => sim.redis(REC).findUser(email)!.passwords.join() === next);

      // Switched to Rotatable through kubectl: the operator marks the Secret immutable.
      const patched = await kubectl(['patch', 'redisenterpriseuser', 'svc-sim', '--type', 'merge', '-p', '{"spec":{"passwordMode":"Rotatable"}}']);
      assert.equal(patched.code, 0, patched.stderr);
      await until('the Secret is immutable', () => sim.store.get('secrets', NS, 'svc-sim-password')!['immutable'] === true);
      assert.equal(reu('svc-sim').metadata['generation'], 2, 'a spec change moves the generation');
      await until('observedGeneration caught up', () => reconciled('svc-sim'));
      fs.rmSync(cache, { recursive: true, force: true });
    });
  });

  describe('Rotatable mode', () => {
    it('user rotate adds a second Secret through the resource, user finish removes the first; the REST API changes nothing', async () => {
      const { email, initial } = await managedUser('svc-a', 'Rotatable');
      const mark = sim.audit.mark();
      const f0 = sim.audit.failedRestAuths(REC);

      const r = await run(['user', 'rotate', REC, '--user', email, '--to-secret', `${NS}/svc-a-app`]);
      assert.equal(r.code, 0, r.stderr);
      const [created, ...more] = createdSecrets('svc-a');
      assert.ok(created && more.length === 0, 'one new Secret');
      assert.match(created, /^svc-a-reccred-[0-9a-f]{6}$/);
      const fresh = secretValue(created)!;
      assert.notEqual(fresh, initial);
      const s = sim.store.get('secrets', NS, created)!;
      assert.equal(s['immutable'], true, 'created immutable');
      assert.equal(s.metadata.labels?.['app.kubernetes.io/managed-by'], 'kubectl-reccred');
      assert.deepEqual(specSecrets('svc-a'), ['svc-a-password', created], 'the resource lists both');
      assert.deepEqual(statusSecrets('svc-a'), ['svc-a-password', created], 'and the operator shows both');
      assert.equal(secretValue('svc-a-app'), fresh, '--to-secret holds the new password');
      assert.deepEqual(accepted(email, [initial, fresh]), [initial, fresh], 'both passwords work until finish');
      assert.ok(!r.stdout.includes(fresh), 'the password went to the Secret, not stdout');
      assert.match(r.stdout + r.stderr, /kubectl reccred user finish/);

      const again = await run(['user', 'rotate', REC, '--user', email, '--to-secret', `${NS}/svc-a-app`]);
      assert.equal(again.code, 4, 'a second rotation waits for finish');

      const f = await run(['user', 'finish', REC, '--user', email]);
      assert.equal(f.code, 0, f.stderr);
      assert.match(f.stderr + f.stdout, /svc-a-password was left in place/);
      await assertOnlyNew('svc-a', email, initial, fresh);
      assert.deepEqual(passwordChanges(sim.audit.since(mark)), [], 'no REST call changed the passwords');
      assert.equal(sim.audit.failedRestAuths(REC), f0, 'no failed login');
    });

    it('a user with the none role: the new password is verified by a 403 outside its role', async () => {
      const { email, initial } = await managedUser('svc-none', 'Rotatable', 'none');
      const r = await run(['user', 'rotate', REC, '--user', email, '--to-secret', `${NS}/svc-none-app`]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /the new password authenticates \(accepted: 403/);
      const fresh = secretValue('svc-none-app')!;
      const f = await run(['user', 'finish', REC, '--user', email]);
      assert.equal(f.code, 0, f.stderr);
      await assertOnlyNew('svc-none', email, initial, fresh);
    });

    for (const point of ['the new Secret is created', 'the resource lists it'] as const) {
      it(`SIGKILL when ${point}, then rotate again resumes; SIGKILL inside finish, then finish again`, async () => {
        const name = point === 'the new Secret is created' ? 'svc-k1' : 'svc-k2';
        const { email, initial } = await managedUser(name, 'Rotatable');
        const args = ['user', 'rotate', REC, '--user', email, '--to-secret', `${NS}/${name}-app`];
        const killAtRotate = (e: KillEvent) =>
          point === 'the new Secret is created'
            ? e.store?.resource === 'secrets' && e.store.type === 'ADDED' && e.store.object.metadata.name.startsWith(`${name}-reccred-`)
            : e.store?.resource === 'redisenterpriseusers' && e.store.object.metadata.name === name && ((e.store.object as Reu).spec.passwordSecrets ?? []).length === 2;
        const killed = await run(args, { killWhen: killAtRotate });
        assert.ok(killed.killed, 'killed');
        assert.equal(userJournal().length, 1, 'the journal is left');

        const resumed = await run(args);
        assert.equal(resumed.code, 0, resumed.stderr);
        assert.match(resumed.stderr, /Resuming the rotation/);
        const secrets = createdSecrets(name);
        assert.equal(secrets.length, 1, 'still one new Secret');
        const fresh = secretValue(secrets[0]!)!;
        assert.equal(secretValue(`${name}-app`), fresh);
        assert.deepEqual(accepted(email, [initial, fresh]), [initial, fresh]);

        const finishKilled = await run(['user', 'finish', REC, '--user', email], {
          killWhen: (e) =>
            e.store?.resource === 'redisenterpriseusers' && e.store.object.metadata.name === name && ((e.store.object as Reu).spec.passwordSecrets ?? []).length === 1,
        });
        assert.ok(finishKilled.killed, 'finish killed');
        const finished = await run(['user', 'finish', REC, '--user', email]);
        assert.equal(finished.code, 0, finished.stderr);
        await assertOnlyNew(name, email, initial, fresh);
      });
    }

    it('user reset makes one new Secret the only one; the old password stops working', async () => {
      const { email, initial } = await managedUser('svc-r', 'Rotatable');
      const mark = sim.audit.mark();
      const r = await run(['user', 'reset', REC, '--user', email, '--to-secret', `${NS}/svc-r-app`, '--yes']);
      assert.equal(r.code, 0, r.stderr);
      const [created] = createdSecrets('svc-r');
      assert.deepEqual(specSecrets('svc-r'), [created]);
      await assertOnlyNew('svc-r', email, initial, secretValue(created!)!);
      assert.deepEqual(passwordChanges(sim.audit.since(mark)), [], 'no REST call changed the passwords');
    });

    it('a locked user is refused before anything changes (exit 4)', async () => {
      const { email, initial } = await managedUser('svc-locked', 'Rotatable');
      sim.redis(REC).lock(email);
      await until('the status shows Locked', () => reu('svc-locked').status?.signinStatus === 'Locked');
      assert.ok(sim.userController.events(NS, 'svc-locked').some((e) => e.reason === 'UserLocked'));
      const version = reu('svc-locked').metadata.resourceVersion;
      const r = await run(['user', 'rotate', REC, '--user', email, '--to-secret', `${NS}/svc-locked-app`]);
      assert.equal(r.code, 4, r.stderr);
      // Refused by the user's REST status (user.ts) or, where only the resource shows it, by its signinStatus.
      assert.match(r.stderr, /locked/);
      assert.equal(reu('svc-locked').metadata.resourceVersion, version, 'the resource is unchanged');
      assert.deepEqual(createdSecrets('svc-locked'), []);
      assert.deepEqual(userJournal(), []);
      assert.deepEqual(sim.redis(REC).findUser(email)!.passwords, [initial]);
      sim.redis(REC).unlock(email);
    });
  });

  describe('Single mode', () => {
    it('user rotate and user reset are refused with the documented steps (exit 4), nothing changed', async () => {
      const { email, initial } = await managedUser('svc-single', 'Single');
      const version = reu('svc-single').metadata.resourceVersion;
      const mark = sim.audit.mark();
      for (const args of [
        ['user', 'rotate', REC, '--user', email, '--to-secret', `${NS}/svc-single-app`],
        ['user', 'reset', REC, '--user', email, '--to-secret', `${NS}/svc-single-app`, '--yes'],
      ]) {
        const r = await run(args);
        assert.equal(r.code, 4, r.stderr);
        assert.match(r.stderr, /passwordMode Single/);
        assert.match(r.stderr, /create a new Secret with the next password/);
        assert.match(r.stderr, /update the value in the existing Secret svc-single-password or point spec\.passwordSecrets\[0\]\.name at the new Secret/);
        assert.match(r.stderr, /passwordMode: Rotatable/);
      }
      assert.equal(reu('svc-single').metadata.resourceVersion, version, 'the resource is unchanged');
      assert.deepEqual(createdSecrets('svc-single'), []);
      assert.deepEqual(userJournal(), []);
      assert.equal(secretValue('svc-single-app'), initial);
      assert.deepEqual(sim.redis(REC).findUser(email)!.passwords, [initial]);
      assert.deepEqual(passwordChanges(sim.audit.since(mark)), []);
    });
  });

  describe('where the resource cannot be listed', () => {
    it('listing forbidden (403): the REST rotation as before', async () => {
      const rules = [
        { verbs: ['*'], apiGroups: [''], resources: ['*'] },
        { verbs: ['*'], apiGroups: ['app.redislabs.com'], resources: ['redisenterpriseclusters'] },
      ];
      const { kubeconfig } = sim.addUser('no-reu', rules);
      const email = 'plain@example.com';
      const initial = 'Plain-Initial-Pa55!';
      sim.redis(REC).createUser({ email, password: initial, role: 'db_member' });
      putSecret('plain-app', initial);
      // --no-restart: this user may not list workloads either (restarting the Secret's consumers would be refused, exit 4).
      const r = await run(['user', 'rotate', REC, '--user', email, '--to-secret', `${NS}/plain-app`, '--no-restart'], { kubeconfig });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /listing redisenterpriseusers is forbidden/);
      const fresh = secretValue('plain-app')!;
      assert.deepEqual(accepted(email, [initial, fresh]), [initial, fresh]);
      const f = await run(['user', 'finish', REC, '--user', email], { kubeconfig });
      assert.equal(f.code, 0, f.stderr);
      assert.deepEqual(sim.redis(REC).findUser(email)!.passwords, [fresh]);
    });
  });

  // A suite runs its own tests before its nested suites: this one comes last in a suite of its own.
  describe('afterwards', () => {
    it('no password in request URIs, pod argv or the output', () => {
      sim.collectArgv();
      assert.ok(passwords.size >= 15, 'the passwords of every scenario are checked');
      assert.deepEqual(leaksIn([...sim.audit.texts(), ...outputs], [...passwords]), []);
    });
  });
});

describe('without the RedisEnterpriseUser CRD (operator before 8.2.0-12)', function () {
  this.timeout(300_000);
  let sim: SimCluster;
  before(async () => {
    sim = await startSimCluster({ recs: [{ name: REC, namespace: NS }], pods: 1, syncDelayMs: 500, operatorIntervalMs: 250, redisEnterpriseUsers: false });
  });
  after(async () => sim?.stop());

  it('user rotate and finish take the REST path, unchanged', async () => {
    const email = 'app@example.com';
    const initial = 'App-Initial-Pa55!';
    sim.redis(REC).createUser({ email, password: initial, role: 'db_member' });
    sim.store.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app', namespace: NS }, type: 'Opaque', data: { password: b64(initial) } });
    const mark = sim.audit.mark();
    const r = await reccred(sim, ['user', 'rotate', REC, '--user', email, '--to-secret', `${NS}/app`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /CRD is not installed/);
    assert.ok(
      sim.audit.since(mark).some((e) => e.kind === 'api' && e.uri.includes('/redisenterpriseusers') && e.status === 404),
      'the list was answered 404',
    );
    const fresh = unb64((sim.store.get('secrets', NS, 'app') as { data?: Record<string, string> } | undefined)?.data?.['password'])!;
    assert.deepEqual(sim.redis(REC).findUser(email)!.passwords.slice().sort(), [initial, fresh].sort());
    assert.equal(passwordChanges(sim.audit.since(mark)).length > 0, true, 'the REST API added the password');
    const f = await reccred(sim, ['user', 'finish', REC, '--user', email]);
    assert.equal(f.code, 0, f.stderr);
    assert.deepEqual(sim.redis(REC).findUser(email)!.passwords, [fresh]);
  });
});
