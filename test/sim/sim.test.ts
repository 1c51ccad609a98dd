// The simulated cluster, tested with the real kubectl and curl: pods, kubelet sync, REST API, lockout,
// argv audit, Vault, and a stop that leaves nothing behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:https';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { AuditLog } from './audit.js';
import { Faults } from './faults.js';
import { startSimCluster, type SimCluster } from './cluster.js';
import { makeSelfSignedCert } from './kube/tls.js';
import { ClusterState } from './redis/cluster-state.js';
import { RestApi } from './redis/rest-api.js';
import { VaultServer } from './vault/server.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(input);
  });
}

const CREDS = '/opt/redislabs/credentials';
/** A reply body: JSON where it is, else the text (unrouted paths answer plain text). */
const parseBody = (data: string): unknown => {
  if (!data) return undefined;
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('simulated cluster (real kubectl, real curl, pod namespaces)', function () {
  this.timeout(60_000);
  let sim: SimCluster;
  let cacheDir: string;
  const kubectl = (args: string[], opts: { user?: string; input?: string } = {}) =>
    run('kubectl', ['--kubeconfig', opts.user ? sim.users[opts.user]!.kubeconfig : sim.kubeconfig, '--cache-dir', cacheDir, ...args], opts.input);
  const execIn = (pod: string, script: string, input = '') => kubectl(['exec', '-i', pod, '-c', 'redis-enterprise-node', '--', 'sh', '-c', script], { input });

  before(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), 'kubectl-cache-'));
    const t0 = Date.now();
    sim = await startSimCluster({
      recs: [
        { name: 'rec' },
        { name: 'rec-vault', secretType: 'vault' },
        {
          name: 'rec-lockout',
          pods: 2,
          curlMissingPods: ['rec-lockout-1'],
          // A short counter reset so the lockout scenario runs in seconds; the threshold is the default 5.
          redis: { lockout: { threshold: 5, counterResetAfterSeconds: 60, durationSeconds: 60 } },
        },
        { name: 'rec-old', pods: 1, redis: { softwareVersion: '7.4.2-54' } },
      ],
      syncDelayMs: 2000,
      operatorIntervalMs: 200,
    });
    console.log(`      (sim started in ${Date.now() - t0} ms)`);
  });

  after(async () => {
    await sim?.stop();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it("each pod's image tag is the Redis Software version its node runs (GET /v1/nodes software_version)", async () => {
    const image = (pod: string) =>
      (sim.store.get('pods', 'default', pod)!.spec as { containers: { name: string; image: string }[] }).containers.find((c) => c.name === 'redis-enterprise-node')!.image;
    assert.equal(image('rec-0'), 'redislabs/redis:7.22.0-28');
    assert.equal(image('rec-old-0'), 'redislabs/redis:7.4.2-54');
    const r = await execIn('rec-old-0', `curl -sk -u "$(cat ${CREDS}/username):$(cat ${CREDS}/password)" https://localhost:9443/v1/nodes`);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      JSON.parse(r.stdout).map((n: { uid: number; software_version: string }) => [n.uid, n.software_version]),
      [[1, '7.4.2-54']],
    );
  });

  it('serves the RECs to kubectl get', async () => {
    const r = await kubectl(['get', 'rec', '-o', 'name']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /redisenterprisecluster.app.redislabs.com\/rec\n/);
    assert.match(r.stdout, /rec-vault/);
  });

  it('execs in the master pod: mounted credentials and the REST API on localhost:9443', async () => {
    const r = await execIn('rec-0', `cat ${CREDS}/username; echo; curl -sk -u "$(cat ${CREDS}/username):$(cat ${CREDS}/password)" https://localhost:9443/v1/cluster`);
    assert.equal(r.code, 0, r.stderr);
    const [user, body] = r.stdout.split('\n');
    assert.equal(user, 'demo@redis.com');
    assert.equal(JSON.parse(body!).name, 'rec.default.svc.cluster.local');
    const rest = sim.audit.events().filter((e) => e.kind === 'rest' && e.rec === 'rec' && e.path === '/v1/cluster');
    assert.deepEqual(
      rest.map((e) => e.kind === 'rest' && [e.pod, e.user, e.auth, e.status]),
      [['rec-0', 'demo@redis.com', 'ok', 200]],
    );
  });

  it('records the argv of sh and curl run inside the pod (so tests can catch leaked secrets)', async () => {
    const password = sim.credentials('rec')!.password;
    sim.collectArgv();
    const argv = sim.audit.events().flatMap((e) => (e.kind === 'argv' && e.pod === 'rec-0' ? [e.argv] : []));
    const curl = argv.find((a) => basename(a[0]!) === 'curl');
    assert.ok(curl, JSON.stringify(argv));
    assert.ok(curl.includes('https://localhost:9443/v1/cluster'));
    // The test's own script passes the password in argv on purpose: the audit must see it.
    assert.ok(curl.includes(`demo@redis.com:${password}`));
    assert.ok(argv.some((a) => basename(a[0]!) === 'sh' && a[1] === '-c'));
  });

  it('a non-master pod answers 307 to the master pod IP', async () => {
    const ip = await kubectl(['get', 'pod', 'rec-0', '-o', 'jsonpath={.status.podIP}']);
    assert.match(ip.stdout, /^10\.244\.\d+\.\d+$/);
    const r = await execIn('rec-1', `curl -sk -o /dev/null -w '%{http_code} %{redirect_url}' https://localhost:9443/v1/users`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `307 https://${ip.stdout}:9443/v1/users`);
    // handle_redirects on: the node serves.
    sim.redis('rec').handleRedirects = true;
    try {
      const ok = await execIn('rec-1', `curl -sk -o /dev/null -w '%{http_code}' -u "$(cat ${CREDS}/username):$(cat ${CREDS}/password)" https://localhost:9443/v1/users`);
      assert.equal(ok.stdout, '200');
    } finally {
      sim.redis('rec').handleRedirects = false;
    }
  });

  it('kubelet swaps the mounted files atomically after the sync delay', async () => {
    const state = sim.redis('rec');
    const user = state.findUser('demo@redis.com')!;
    const newPassword = 'Rotated-Pass-1';
    state.addPassword(user.uid, newPassword); // keep the operator happy: the cluster knows it first
    const dir = sim.podCredentialsDir('default', 'rec-2');
    const before = readlinkSync(join(dir, '..data'));
    const patched = Date.now();
    const r = await kubectl(['patch', 'secret', 'rec', '--type', 'merge', '-p', JSON.stringify({ stringData: { password: newPassword } })]);
    assert.equal(r.code, 0, r.stderr);
    const early = await execIn('rec-2', `cat ${CREDS}/password`);
    assert.notEqual(early.stdout, newPassword, 'synced before the delay');
    await until('pod rec-2 to see the new password', () => sim.podCredentials('default', 'rec-2')?.password === newPassword);
    const elapsed = Date.now() - patched;
    assert.ok(elapsed >= 1900, `synced after ${elapsed} ms`);
    const after = readlinkSync(join(dir, '..data'));
    assert.notEqual(after, before);
    assert.match(after, /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d{9}$/);
    assert.deepEqual(readdirSync(dir).sort(), ['..data', after, 'password', 'username'].sort());
    assert.equal(readlinkSync(join(dir, 'password')), '..data/password');
    const inPod = await execIn('rec-2', `cat ${CREDS}/password`);
    assert.equal(inPod.stdout, newPassword);
    await sim.waitForSync();
    assert.equal(sim.operator.failures('rec').length, 0);
  });

  it('THE LOCKOUT: deleting the old password right after updating the secret locks the admin account', async () => {
    const rec = 'rec-lockout';
    const state = sim.redis(rec);
    const oldPassword = sim.credentials(rec)!.password;
    const newPassword = 'Brand-New-Pass-7';
    // Step 1 of the documented procedure, in the pod: add a new password.
    const add = await execIn(
      `${rec}-0`,
      `read -r NEW; U="$(cat ${CREDS}/username)"; P="$(cat ${CREDS}/password)"; ` +
        `curl -sk -o /dev/null -w '%{http_code}' -X POST -u "$U:$P" -H 'Content-Type: application/json' ` +
        `--data "{\\"username\\":\\"$U\\",\\"old_password\\":\\"$P\\",\\"new_password\\":\\"$NEW\\"}" https://localhost:9443/v1/users/password`,
      `${newPassword}\n`,
    );
    assert.equal(add.stdout, '200', add.stderr);
    assert.ok(state.accepts('demo@redis.com', newPassword));
    // Step 2: update the secret.
    const patch = await kubectl(['patch', 'secret', rec, '--type', 'merge', '-p', JSON.stringify({ stringData: { password: newPassword } })]);
    assert.equal(patch.code, 0, patch.stderr);
    // The rushed step: remove the old password at once (the pod's files still hold it, so it authenticates).
    const del = await execIn(
      `${rec}-0`,
      `U="$(cat ${CREDS}/username)"; P="$(cat ${CREDS}/password)"; ` +
        `curl -sk -o /dev/null -w '%{http_code}' -X DELETE -u "$U:$P" -H 'Content-Type: application/json' ` +
        `--data "{\\"username\\":\\"$U\\",\\"old_password\\":\\"$P\\"}" https://localhost:9443/v1/users/password`,
    );
    assert.equal(del.stdout, '200', del.stderr);
    assert.ok(!state.accepts('demo@redis.com', oldPassword));
    // Components still on the old password (the mounted files, until kubelet syncs) fail every round.
    await until('the admin account to be locked', () => state.findUser('demo@redis.com')?.status === 'locked', 10_000);
    const failures = sim.operator.failures(rec);
    assert.ok(failures.length >= 5, `${failures.length} failures`);
    assert.ok(failures.some((f) => f.source === 'files'));
    // Locked: even the right password is refused now.
    await sim.waitForSync();
    const check = await execIn(`${rec}-0`, `curl -sk -o /dev/null -w '%{http_code}' -u "$(cat ${CREDS}/username):$(cat ${CREDS}/password)" https://localhost:9443/v1/cluster`);
    assert.equal(check.stdout, '401');
    assert.ok(state.accepts('demo@redis.com', newPassword));
    assert.ok(state.failedAuthCount('demo@redis.com') >= 5);
  });

  it('a pod can lack curl (exit 127), and exit codes come through kubectl', async () => {
    const r = await execIn('rec-lockout-1', 'command -v curl || exit 127');
    assert.equal(r.code, 127);
    const ok = await execIn('rec-lockout-0', 'command -v curl');
    assert.equal(ok.code, 0);
    const three = await execIn('rec-0', 'exit 3');
    assert.equal(three.code, 3);
  });

  it('refuses exec to a user without pods/exec', async () => {
    const r = await kubectl(['exec', 'rec-0', '-c', 'redis-enterprise-node', '--', 'true'], { user: 'no-exec' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /forbidden/i);
  });

  it('restarts a pod: new namespaces, files re-synced, exec works again', async () => {
    const oldPid = sim.sandboxes.pid('default', 'rec-vault-1');
    sim.faults.frozenPods.add('default/rec-vault-1');
    const { mount, path } = sim.recs.find((r) => r.name === 'rec-vault')!.vault!;
    const current = sim.vault.server.read(mount, path)!;
    sim.redis('rec-vault').addPassword(sim.redis('rec-vault').findUser('demo@redis.com')!.uid, 'Vault-Pass-22');
    sim.vault.server.write(mount, path, { ...current, password: 'Vault-Pass-22' });
    await sleep(300);
    assert.notEqual(sim.podCredentials('default', 'rec-vault-1')?.password, 'Vault-Pass-22');
    await sim.restartPod('default', 'rec-vault-1');
    sim.faults.frozenPods.delete('default/rec-vault-1');
    assert.notEqual(sim.sandboxes.pid('default', 'rec-vault-1'), oldPid);
    assert.equal(sim.podCredentials('default', 'rec-vault-1')?.password, 'Vault-Pass-22');
    const r = await execIn('rec-vault-1', `cat ${CREDS}/password`);
    assert.equal(r.stdout, 'Vault-Pass-22');
    const pod = await kubectl(['get', 'pod', 'rec-vault-1', '-o', 'jsonpath={.status.containerStatuses[0].restartCount}']);
    assert.equal(pod.stdout, '1');
  });

  it('stop() leaves no process, mount or namespace behind', async () => {
    const namespaces = sim.recs.flatMap((r) => r.pods.map((p) => readlinkSync(`/proc/${sim.sandboxes.pid(r.namespace, p)}/ns/mnt`)));
    assert.equal(new Set(namespaces).size, 9);
    const dir = sim.dir;
    const t0 = Date.now();
    await sim.stop();
    console.log(`      (stopped in ${Date.now() - t0} ms)`);
    const leftovers: string[] = [];
    for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
      try {
        const ns = readlinkSync(`/proc/${pid}/ns/mnt`);
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        // Other sims may run beside this one (parallel test runs): only this sim's namespaces and folder count.
        if (namespaces.includes(ns) || cmd.includes(dir)) leftovers.push(`${pid} ${cmd}`);
      } catch {
        /* gone */
      }
    }
    assert.deepEqual(leftovers, []);
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes('simpod'));
    assert.throws(() => readdirSync(dir));
  });
});

describe('Redis Enterprise REST API (over the pod Unix socket)', function () {
  this.timeout(20_000);
  let dir: string;
  let tls: { key: string; cert: string };
  let api: RestApi;
  let state: ClusterState;
  let audit: AuditLog;
  const sock = () => join(dir, 'rest.sock');

  const call = (method: string, path: string, auth: [string, string] | null, body?: unknown) =>
    // A JSON reply, navigated freely by the assertions.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    new Promise<{ status: number; body: any; headers: Record<string, unknown> }>((resolve, reject) => {
      const text = body === undefined ? '' : JSON.stringify(body);
      const req = request(
        {
          socketPath: sock(),
          path,
          method,
          rejectUnauthorized: false,
          headers: {
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(text),
            ...(auth ? { Authorization: `Basic ${Buffer.from(auth.join(':')).toString('base64')}` } : {}),
          },
        },
        (res) => {
          let data = '';
          res.setEncoding('utf8').on('data', (d: string) => (data += d));
          res.on('end', () => resolve({ status: res.statusCode!, body: parseBody(data), headers: res.headers }));
        },
      );
      req.on('error', reject);
      req.end(text);
    });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rest-test-'));
    const c = await makeSelfSignedCert(dir);
    tls = { key: readFileSync(c.keyFile, 'utf8'), cert: readFileSync(c.certFile, 'utf8') };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function serve(opts: Partial<ConstructorParameters<typeof ClusterState>[0]> = {}) {
    await api?.close();
    state = new ClusterState({ name: 'rec', ...opts });
    state.createUser({ email: 'admin@redis.com', password: 'Old-Pass-1', role: 'admin', role_uids: state.rbac ? [1] : [] });
    state.masterPod = 'rec-0';
    audit = new AuditLog();
    api = new RestApi({ rec: 'rec', namespace: 'default', state, audit, faults: new Faults(), tls, podIP: () => '10.244.1.10' });
    await api.listen('rec-0', sock());
  }
  afterEach(async () => api?.close());

  const A = (p = 'Old-Pass-1'): [string, string] => ['admin@redis.com', p];

  it('7.8.2+: POST adds, same password is new_password_same_as_current, DELETE removes, last one stays', async () => {
    await serve();
    assert.equal((await call('GET', '/v1/cluster', A())).status, 200);
    assert.equal((await call('POST', '/v1/users/password', A(), { new_password: 'New-Pass-2' })).status, 200);
    for (const p of ['Old-Pass-1', 'New-Pass-2']) {
      const r = await call('POST', '/v1/users/password', A(), { new_password: p });
      assert.equal(r.status, 400);
      assert.equal(r.body.error_code, 'new_password_same_as_current');
    }
    assert.equal((await call('GET', '/v1/cluster', A('New-Pass-2'))).status, 200);
    // The default unknownPasswordDelete: an unfamiliar 400 (the switch has its own test).
    const missing = await call('DELETE', '/v1/users/password', A(), { old_password: 'Never-Had-3' });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error_code, 'sim_unfamiliar_code');
    assert.equal((await call('DELETE', '/v1/users/password', A('New-Pass-2'), { old_password: 'Old-Pass-1' })).status, 200);
    assert.equal((await call('GET', '/v1/cluster', A())).status, 401);
    const last = await call('DELETE', '/v1/users/password', A('New-Pass-2'), { old_password: 'New-Pass-2' });
    assert.equal(last.body.error_code, 'cannot_delete_last_password');
    assert.equal((await call('PUT', '/v1/users/password', A('New-Pass-2'), { new_password: 'Only-Pass-4' })).status, 200);
    assert.ok(state.accepts('admin@redis.com', 'Only-Pass-4') && !state.accepts('admin@redis.com', 'New-Pass-2'));
    const rest = audit.events().filter((e) => e.kind === 'rest');
    assert.ok(rest.every((e) => e.kind === 'rest' && e.user === 'admin@redis.com'));
    assert.ok(!audit.texts().some((t) => t.includes('Pass-')), 'a password reached the audit log');
  });

  it('versions: before 7.8.2 username and old_password are required; RS161290 builds ignore username; later ones honour it', async () => {
    // The default, 7.22.0-28: an optional username, defaulting to the authenticated user; another user's is for an admin only.
    await serve();
    state.createUser({ email: 'app@redis.com', password: 'App-Pass-1', role: 'db_viewer' });
    assert.equal((await call('POST', '/v1/users/password', A(), { username: 'app@redis.com', new_password: 'X-Pass-9' })).status, 200);
    assert.ok(state.accepts('app@redis.com', 'X-Pass-9') && !state.accepts('admin@redis.com', 'X-Pass-9'));
    const notAdmin = await call('POST', '/v1/users/password', ['app@redis.com', 'App-Pass-1'], { username: 'admin@redis.com', new_password: 'Y-Pass-9' });
    assert.deepEqual([notAdmin.status, notAdmin.body.error_code], [403, 'unauthorized_action']);
    assert.equal((await call('POST', '/v1/users/password', ['app@redis.com', 'App-Pass-1'], { new_password: 'Own-Pass-9' })).status, 200);
    assert.ok(state.accepts('app@redis.com', 'Own-Pass-9'));

    // RS161290: 7.8.2-34 through 7.8.6-95, and 7.22.0-95, act on the authenticated user whatever username says.
    for (const version of ['7.8.2-34', '7.8.6-95', '7.22.0-95']) {
      await serve({ softwareVersion: version });
      state.createUser({ email: 'app@redis.com', password: 'App-Pass-1', role: 'db_viewer' });
      await call('POST', '/v1/users/password', A(), { username: 'app@redis.com', old_password: 'App-Pass-1', new_password: 'X-Pass-9' });
      assert.ok(state.accepts('admin@redis.com', 'X-Pass-9') && !state.accepts('app@redis.com', 'X-Pass-9'), version);
    }

    await serve({ softwareVersion: '7.4.2-54' });
    state.createUser({ email: 'app@redis.com', password: 'App-Pass-1', role: 'db_viewer' });
    const noUser = await call('POST', '/v1/users/password', A(), { new_password: 'X-Pass-9' });
    assert.equal(noUser.status, 400);
    const deleteNoUser = await call('DELETE', '/v1/users/password', A(), { old_password: 'Old-Pass-1' });
    assert.equal(deleteNoUser.status, 400);
    const ghost = await call('POST', '/v1/users/password', A(), { username: 'ghost@redis.com', old_password: 'a', new_password: 'b' });
    assert.equal(ghost.body.error_code, 'user_not_exist');
    const wrongOld = await call('POST', '/v1/users/password', A(), { username: 'app@redis.com', old_password: 'nope', new_password: 'X-Pass-9' });
    assert.equal(wrongOld.status, 400);
    const ok = await call('POST', '/v1/users/password', A(), { username: 'app@redis.com', old_password: 'App-Pass-1', new_password: 'X-Pass-9' });
    assert.equal(ok.status, 200);
    assert.ok(state.accepts('app@redis.com', 'X-Pass-9') && !state.accepts('admin@redis.com', 'X-Pass-9'));
    const other = await call('DELETE', '/v1/users/password', ['app@redis.com', 'X-Pass-9'], { username: 'admin@redis.com', old_password: 'Old-Pass-1' });
    assert.equal(other.body.error_code, 'unauthorized_action');
  });

  it('the lockout counter resets after counter_reset_after seconds without a failure, not in a sliding window', async () => {
    let now = 1_000_000;
    await serve({ now: () => now });
    for (let i = 0; i < 4; i++) assert.equal((await call('GET', '/v1/cluster', A('wrong'))).status, 401);
    now += 900_000; // 900 s without a failure: the counter is back at 0
    for (let i = 0; i < 4; i++) await call('GET', '/v1/cluster', A('wrong'));
    assert.equal(state.findUser('admin@redis.com')!.status, 'active');
    await call('GET', '/v1/cluster', A('wrong'));
    assert.equal(state.findUser('admin@redis.com')!.status, 'locked');
    assert.equal((await call('GET', '/v1/cluster', A())).status, 401);
    assert.equal(audit.failedRestAuths('rec'), 10);
    now += 1_800_000;
    assert.equal((await call('GET', '/v1/cluster', A())).status, 200);
    assert.ok(state.accepts('admin@redis.com', 'Old-Pass-1'));
    assert.equal(state.failedAuthCount('admin@redis.com'), 10);

    // Failures 10 minutes apart: never 5 within 15 minutes, yet each comes before the counter resets.
    now = 10_000_000;
    await serve({ now: () => now });
    for (let i = 0; i < 5; i++) {
      await call('GET', '/v1/cluster', A('wrong'));
      now += 600_000;
    }
    assert.equal(state.findUser('admin@redis.com')!.status, 'locked');
  });

  it('complexity profile, users and roles (with and without RBAC)', async () => {
    await serve({ passwordComplexity: true });
    for (const p of ['Short1!', 'nouppercase1!', 'NoDigits!!', 'NoSpecial11', 'Xaaaa1!bcdefg', 'Xmoc.sider@nimda1']) {
      const r = await call('POST', '/v1/users/password', A(), { new_password: p });
      assert.equal(r.body?.error_code, 'password_not_complex', p);
    }
    const roles = await call('GET', '/v1/roles', A());
    const adminRole = roles.body.find((r: { management: string }) => r.management === 'admin');
    const created = await call('POST', '/v1/users', A(), { email: 'new@redis.com', name: 'new', password: 'Good-Pass-9', role_uids: [adminRole.uid] });
    assert.equal(created.status, 200);
    // users/_index.md: "For RBAC-enabled clusters, the returned user details include role_uids instead of role."
    assert.deepEqual([created.body.role, created.body.role_uids], [undefined, [adminRole.uid]]);
    assert.equal(created.body.passwords, undefined);
    const dup = await call('POST', '/v1/users', A(), { email: 'new@redis.com', password: 'Good-Pass-9', role: 'admin' });
    assert.equal(dup.body.error_code, 'email_already_exists');
    const users = await call('GET', '/v1/users', ['new@redis.com', 'Good-Pass-9']);
    assert.deepEqual(
      users.body.map((u: { email: string }) => u.email),
      ['admin@redis.com', 'new@redis.com'],
    );
    const deleted = await call('DELETE', `/v1/users/1`, ['new@redis.com', 'Good-Pass-9']);
    assert.equal(deleted.status, 200);
    assert.equal(typeof deleted.body.action_uid, 'string', 'openapi.json: 200 with an action_uid');
    assert.equal((await call('GET', '/v1/cluster', A())).status, 401);

    await serve({ rbac: false });
    assert.equal((await call('GET', '/v1/roles', A())).status, 404);
    const viaRole = await call('POST', '/v1/users', A(), { email: 'b@redis.com', password: 'p', role: 'admin' });
    assert.equal(viaRole.status, 200);
  });

  it('permissions by role (permissions.md "Roles list per permission"), the role from role or role_uids', async () => {
    await serve({ noneSelfPasswords: 'allowed' });
    const roles = ['none', 'db_viewer', 'db_member', 'cluster_viewer', 'cluster_member', 'user_manager', 'admin'] as const;
    for (const role of roles) state.createUser({ email: `${role}-user@redis.com`, password: `${role}-Pass-1`, role });
    // role_uids alone: DB Viewer (uid 5).
    const viaUid = state.createUser({ email: 'uid5@redis.com', password: 'Uid5-Pass-1', role_uids: [5] });
    const who = (role: string): [string, string] => [`${role}-user@redis.com`, `${role}-Pass-1`];
    const victim = state.createUser({ email: 'victim@redis.com', password: 'Victim-Pass-1', role: 'db_viewer' });
    const everyoneButNone = roles.filter((r) => r !== 'none');
    const userAdmins = ['admin', 'user_manager'];
    for (const role of roles) {
      const me = state.findUser(`${role}-user@redis.com`)!;
      const expect = (allowed: readonly string[]) => (allowed.includes(role) ? 200 : 403);
      const checks: [string, string, number][] = [
        ['GET', '/v1/cluster', expect(everyoneButNone)],
        ['GET', '/v1/cluster/policy', expect(everyoneButNone)],
        ['GET', '/v1/nodes', expect(everyoneButNone)],
        ['GET', '/v1/roles', expect(everyoneButNone)],
        ['GET', '/v1/users', expect(userAdmins)],
        ['GET', `/v1/users/${me.uid}`, expect(userAdmins)],
        ['GET', `/v1/users/${victim.uid}`, expect(userAdmins)],
      ];
      for (const [method, path, status] of checks) {
        const r = await call(method, path, who(role));
        assert.equal(r.status, status, `${role} ${method} ${path}`);
        if (status === 403) assert.equal(typeof r.body.error_code, 'string', 'a 403 carries the error object');
      }
      const created = await call('POST', '/v1/users', who(role), { email: `by-${role}@redis.com`, password: 'By-Pass-1', role: 'db_viewer' });
      assert.equal(created.status, expect(userAdmins), `${role} POST /v1/users`);
      const other = state.createUser({ email: `doomed-${role}@redis.com`, password: 'Doomed-Pass-1', role: 'db_viewer' });
      assert.equal((await call('PUT', `/v1/users/${other.uid}`, who(role), { name: 'x' })).status, expect(userAdmins), `${role} PUT /v1/users/{uid}`);
      assert.equal((await call('DELETE', `/v1/users/${other.uid}`, who(role))).status, expect(userAdmins), `${role} DELETE /v1/users/{uid}`);
      // users/_index.md: "Any user can change their own name, password, or alert preferences."
      assert.equal((await call('PUT', `/v1/users/${me.uid}`, who(role), { name: `${role}-renamed` })).status, 200, `${role} PUT own record`);
      const action = await call('DELETE', `/v1/users/${state.createUser({ email: `gone-${role}@redis.com`, password: 'Gone-Pass-1', role: 'db_viewer' }).uid}`, A());
      assert.equal((await call('GET', `/v1/actions/${action.body.action_uid}`, who(role))).status, expect(everyoneButNone), `${role} GET /v1/actions/{uid}`);
    }
    const uid5: [string, string] = ['uid5@redis.com', 'Uid5-Pass-1'];
    assert.equal((await call('GET', '/v1/cluster', uid5)).status, 200);
    assert.equal((await call('GET', '/v1/users', uid5)).status, 403);
    assert.deepEqual(state.managementRoles(state.getUser(viaUid.uid)!), ['db_viewer']);
    // Unrouted paths: nothing documents them, so no Redis error object.
    const unrouted = await call('GET', '/v1/nothing-here', A());
    assert.equal(unrouted.status, 404);
    assert.equal(typeof unrouted.body, 'string');
    assert.equal(unrouted.headers['content-type'], 'text/plain');
  });

  it('noneSelfPasswords: a none user on its own passwords is refused (403) or allowed', async () => {
    for (const setting of ['forbidden', 'allowed'] as const) {
      await serve({ noneSelfPasswords: setting });
      state.createUser({ email: 'data@redis.com', password: 'Data-Pass-1', role: 'none' });
      const D: [string, string] = ['data@redis.com', 'Data-Pass-1'];
      assert.equal((await call('GET', '/v1/cluster', D)).status, 403, 'none has no REST permission');
      const add = await call('POST', '/v1/users/password', D, { new_password: 'Data-Pass-2' });
      assert.equal(add.status, setting === 'allowed' ? 200 : 403);
      assert.equal(state.accepts('data@redis.com', 'Data-Pass-2'), setting === 'allowed');
      const del = await call('DELETE', '/v1/users/password', D, { old_password: 'Data-Pass-2' });
      assert.equal(del.status, setting === 'allowed' ? 200 : 403);
      const put = await call('PUT', '/v1/users/password', D, { new_password: 'Data-Pass-3' });
      assert.equal(put.status, setting === 'allowed' ? 200 : 403);
    }
  });

  it('unknownPasswordDelete: what DELETE of a password the user does not have answers, under each setting', async () => {
    const seen: Record<string, unknown[]> = {};
    for (const setting of ['unfamiliar-400', 'last-password-first', 'not-found-404'] as const) {
      await serve({ unknownPasswordDelete: setting });
      const one = await call('DELETE', '/v1/users/password', A(), { old_password: 'Never-Had-3' });
      await call('POST', '/v1/users/password', A(), { new_password: 'Second-Pass-2' });
      const two = await call('DELETE', '/v1/users/password', A(), { old_password: 'Never-Had-3' });
      seen[setting] = [one.status, one.body.error_code, two.status, two.body.error_code];
      assert.deepEqual(state.findUser('admin@redis.com')!.passwords, ['Old-Pass-1', 'Second-Pass-2'], 'nothing was deleted');
    }
    assert.deepEqual(seen, {
      'unfamiliar-400': [400, 'sim_unfamiliar_code', 400, 'sim_unfamiliar_code'],
      'last-password-first': [400, 'cannot_delete_last_password', 400, 'sim_unfamiliar_code'],
      'not-found-404': [404, 'not_found', 404, 'not_found'],
    });
  });

  it('lockout as configured: threshold 0 never locks; duration 0 locks until an admin sets the password; GET /v1/cluster/policy', async () => {
    let now = 1_000_000;
    await serve({ now: () => now, lockout: { threshold: 0 } });
    for (let i = 0; i < 20; i++) await call('GET', '/v1/cluster', A('wrong'));
    assert.equal(state.findUser('admin@redis.com')!.status, 'active');
    const zero = await call('GET', '/v1/cluster/policy', A());
    assert.deepEqual([zero.body.login_lockout_threshold, zero.body.login_lockout_duration, zero.body.login_lockout_counter_reset_after], [0, 1800, 900]);

    await serve({ now: () => now, lockout: { threshold: 3, durationSeconds: 0, counterResetAfterSeconds: 60 } });
    state.createUser({ email: 'app@redis.com', password: 'App-Pass-1', role: 'db_viewer' });
    for (let i = 0; i < 3; i++) await call('GET', '/v1/cluster', ['app@redis.com', 'wrong']);
    assert.equal(state.findUser('app@redis.com')!.status, 'locked');
    now += 365 * 86_400_000;
    assert.equal((await call('GET', '/v1/cluster', ['app@redis.com', 'App-Pass-1'])).status, 401, 'still locked a year later');
    const uid = state.findUser('app@redis.com')!.uid;
    assert.equal((await call('PUT', `/v1/users/${uid}`, A(), { password: 'App-Pass-2' })).status, 200);
    assert.equal((await call('GET', '/v1/cluster', ['app@redis.com', 'App-Pass-2'])).status, 200, 'an admin setting the password unlocks it');

    for (const [setting, threshold, duration] of [
      ['zero', 0, 0],
      ['word', 'disabled', 'admin-release'],
    ] as const) {
      await serve({ policyDisabledAs: setting, lockout: { threshold: 0, durationSeconds: 0, counterResetAfterSeconds: 120 } });
      const p = await call('GET', '/v1/cluster/policy', A());
      assert.deepEqual([p.body.login_lockout_threshold, p.body.login_lockout_duration, p.body.login_lockout_counter_reset_after], [threshold, duration, 120], setting);
    }
  });

  it('lockedReply: a locked or password_expired account gets 401, or 403 with an error object', async () => {
    for (const setting of ['401', '403'] as const) {
      await serve({ lockedReply: setting });
      state.createUser({ email: 'app@redis.com', password: 'App-Pass-1', role: 'db_viewer' });
      state.lock('app@redis.com');
      const locked = await call('GET', '/v1/cluster', ['app@redis.com', 'App-Pass-1']);
      assert.equal(locked.status, Number(setting));
      assert.equal(typeof locked.body.error_code, 'string');
      assert.equal((await call('GET', '/v1/users', A())).body.find((u: { email: string }) => u.email === 'app@redis.com').status, 'locked');
      state.unlock('app@redis.com');
      assert.equal((await call('GET', '/v1/cluster', ['app@redis.com', 'App-Pass-1'])).status, 200);
      state.expirePassword('app@redis.com');
      assert.equal((await call('GET', '/v1/cluster', ['app@redis.com', 'App-Pass-1'])).status, Number(setting));
      assert.equal(state.findUser('app@redis.com')!.status, 'password_expired');
      await call('PUT', `/v1/users/${state.findUser('app@redis.com')!.uid}`, A(), { password: 'App-Pass-2' });
      assert.equal((await call('GET', '/v1/cluster', ['app@redis.com', 'App-Pass-2'])).status, 200, 'a new password ends password_expired');
    }
  });

  it('softwareVersion: GET /v1/nodes per node; removedFields on 8.2+ rejects old_password and unknown fields, or ignores them', async () => {
    await serve({ softwareVersion: '7.8.2-34', nodeSoftwareVersions: ['7.4.2-54'] });
    await api.listen('rec-1', join(dir, 'rest1.sock'));
    const nodes = await call('GET', '/v1/nodes', A());
    assert.deepEqual(
      nodes.body.map((n: { uid: number; software_version: string }) => [n.uid, n.software_version]),
      [
        [1, '7.4.2-54'],
        [2, '7.8.2-34'],
      ],
    );
    for (const [version, setting, withOld] of [
      ['8.2.0-25', 'rejected', 400],
      ['8.2.0-25', 'ignored', 200],
      ['8.0.2-17', 'rejected', 200],
    ] as const) {
      await serve({ softwareVersion: version, removedFields: setting });
      const old = await call('POST', '/v1/users/password', A(), { old_password: 'Old-Pass-1', new_password: 'New-Pass-2' });
      assert.equal(old.status, withOld, `${version} ${setting} old_password`);
      const unknown = await call('PUT', '/v1/users/password', A(), { new_password: 'New-Pass-3', color: 'blue' });
      assert.equal(unknown.status, withOld, `${version} ${setting} unknown field`);
      const clean = await call('POST', '/v1/users/password', A(withOld === 200 ? 'New-Pass-3' : 'Old-Pass-1'), { new_password: 'Clean-Pass-4' });
      assert.equal(clean.status, 200);
      const del = await call('DELETE', '/v1/users/password', A('Clean-Pass-4'), { old_password: withOld === 200 ? 'New-Pass-3' : 'Old-Pass-1' });
      assert.equal(del.status, 200, 'DELETE still takes old_password');
    }
  });

  it('userDeleteMs: DELETE /v1/users/{uid} answers an action_uid; the user stays (and authenticates) until the action completes', async () => {
    let now = 1_000_000;
    await serve({ now: () => now, userDeleteMs: 10_000 });
    const app = state.createUser({ email: 'app@redis.com', password: 'App-Pass-1', role: 'db_viewer' });
    const del = await call('DELETE', `/v1/users/${app.uid}`, A());
    assert.equal(del.status, 200);
    const action = () => call('GET', `/v1/actions/${del.body.action_uid}`, A());
    assert.equal((await action()).body.status, 'pending');
    now += 5000;
    assert.equal((await action()).body.status, 'active');
    assert.equal((await call('GET', `/v1/users/${app.uid}`, A())).status, 200, 'still listed');
    assert.equal((await call('GET', '/v1/cluster', ['app@redis.com', 'App-Pass-1'])).status, 200, 'still authenticates');
    const again = await call('DELETE', `/v1/users/${app.uid}`, A());
    assert.equal(again.body.action_uid, del.body.action_uid, 'a second DELETE reports the same action');
    now += 5000;
    assert.deepEqual([(await action()).body.status, (await action()).body.progress], ['completed', 100]);
    const gone = await call('GET', `/v1/users/${app.uid}`, A());
    assert.deepEqual([gone.status, gone.body.error_code], [404, 'user_not_exist']);
    assert.equal((await call('GET', '/v1/actions/no-such-action', A())).status, 404);
  });

  it('errorBody: openapi cluster_Error {error_code, description, status_code} or markdown {error_code, message}', async () => {
    await serve({ errorBody: 'openapi' });
    const openapi = await call('POST', '/v1/users/password', A(), { new_password: 'Old-Pass-1' });
    assert.deepEqual(Object.keys(openapi.body).sort(), ['description', 'error_code', 'status_code']);
    assert.deepEqual([openapi.body.error_code, openapi.body.status_code], ['new_password_same_as_current', 400]);
    await serve({ errorBody: 'markdown' });
    const markdown = await call('POST', '/v1/users/password', A(), { new_password: 'Old-Pass-1' });
    assert.deepEqual(Object.keys(markdown.body).sort(), ['error_code', 'message']);
    assert.equal((await call('GET', '/v1/cluster', A('wrong'))).body.error_code, 'unauthorized');
  });

  it('redirects from a non-master node before authentication', async () => {
    await serve();
    await api.listen('rec-1', join(dir, 'rest1.sock'));
    const r = await new Promise<{ status: number; location: unknown }>((resolve, reject) => {
      request({ socketPath: join(dir, 'rest1.sock'), path: '/v1/users/password', method: 'POST', rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve({ status: res.statusCode!, location: res.headers.location });
      })
        .on('error', reject)
        .end();
    });
    assert.deepEqual(r, { status: 307, location: 'https://10.244.1.10:9443/v1/users/password' });
  });
});

describe('Vault KV v2', function () {
  this.timeout(20_000);
  let dir: string;
  let vault: VaultServer;
  const faults = new Faults();
  let ca: string;
  // Trusts the server's self-signed certificate the way VAULT_CACERT does.
  const call = (method: string, path: string, token: string, body?: unknown) =>
    // A JSON reply, navigated freely by the assertions.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      const text = body === undefined ? '' : JSON.stringify(body);
      const req = request(`${vault.addr}${path}`, { method, ca, headers: { 'X-Vault-Token': token, 'Content-Length': Buffer.byteLength(text) } }, (res) => {
        let data = '';
        res.setEncoding('utf8').on('data', (d: string) => (data += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: data ? JSON.parse(data) : undefined }));
      });
      req.on('error', reject);
      req.end(text);
    });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vault-test-'));
    const c = await makeSelfSignedCert(dir);
    ca = readFileSync(c.certFile, 'utf8');
    vault = new VaultServer({ audit: new AuditLog(), faults, tls: { key: readFileSync(c.keyFile, 'utf8'), cert: ca } });
    await vault.listen();
  });
  after(async () => {
    await vault.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads, writes with check-and-set, lists versions, refuses bad tokens and a sealed vault', async () => {
    const t = vault.rootToken;
    assert.equal((await call('GET', '/v1/secret/data/redisenterprise/rec', t)).status, 404);
    const w1 = await call('POST', '/v1/secret/data/redisenterprise/rec', t, { data: { username: 'u', password: 'p1' }, options: { cas: 0 } });
    assert.equal(w1.body.data.version, 1);
    const stale = await call('POST', '/v1/secret/data/redisenterprise/rec', t, { data: { username: 'u', password: 'p2' }, options: { cas: 0 } });
    assert.equal(stale.status, 400);
    assert.equal((await call('POST', '/v1/secret/data/redisenterprise/rec', t, { data: { username: 'u', password: 'p2' }, options: { cas: 1 } })).status, 200);
    const r = await call('GET', '/v1/secret/data/redisenterprise/rec', t);
    assert.deepEqual([r.body.data.data.password, r.body.data.metadata.version], ['p2', 2]);
    assert.equal((await call('GET', '/v1/secret/data/redisenterprise/rec?version=1', t)).body.data.data.password, 'p1');
    const meta = await call('GET', '/v1/secret/metadata/redisenterprise/rec', t);
    assert.equal(meta.body.data.current_version, 2);
    const other = vault.createToken();
    assert.equal((await call('GET', '/v1/secret/data/redisenterprise/rec', other)).status, 200);
    vault.revokeToken(other);
    assert.equal((await call('GET', '/v1/secret/data/redisenterprise/rec', other)).status, 403);
    faults.vaultSealed = true;
    assert.equal((await call('GET', '/v1/secret/data/redisenterprise/rec', t)).status, 503);
    faults.vaultSealed = false;
  });
});
