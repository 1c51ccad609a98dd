// The simulated API server's authentication and impersonation against the real kubectl: --as/--as-group/--as-uid
// allowed and forbidden (the filter's messages), impersonated exec, client certificates, --token, exec credential
// plugins in both apiVersions, and expired tokens.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, type AuditEvent } from './audit.js';
import { Faults } from './faults.js';
import { kubectlBinary, localShell, runProcess, seedRecObjects, type ProcessResult } from './kube/api-fixture.js';
import { startApiServer, type ApiServer } from './kube/apiserver.js';
import { KubeStore } from './kube/store.js';

type ApiEvent = Extract<AuditEvent, { kind: 'api' }>;

const KUBECTL = kubectlBinary('1.33');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('simulated kube-apiserver: authentication and impersonation (kubectl 1.33)', function () {
  this.timeout(30_000);
  let dir: string;
  let audit: AuditLog;
  let api: ApiServer;
  let ca: Buffer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sim-kube-auth-'));
    const store = new KubeStore();
    seedRecObjects(store, { secret: { data: { password: 's3cret' } }, pods: [{ name: 'rec-0', labels: { app: 'redis-enterprise' } }] });
    audit = new AuditLog();
    api = await startApiServer({ store, executor: localShell, audit, faults: new Faults(), dir });
    ca = await readFile(api.caFile);
  });

  after(async () => {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** kubectl with a fresh discovery cache, so every run's discovery goes through impersonation too. */
  async function kubectl(kubeconfig: string, args: string[], env: Record<string, string> = {}): Promise<ProcessResult & { events: ApiEvent[] }> {
    const cache = await mkdtemp(join(dir, 'cache-'));
    const mark = audit.mark();
    const r = await runProcess(KUBECTL, ['--kubeconfig', kubeconfig, '--cache-dir', cache, ...args], { env: { ...process.env, KUBECONFIG: '', ...env } });
    return { ...r, events: audit.since(mark).filter((e): e is ApiEvent => e.kind === 'api') };
  }
  const as = (user: string, args: string[]) => kubectl(api.users[user]!.kubeconfig, args);

  function raw(
    path: string,
    headers: Record<string, string | string[]>,
    token = api.users['admin']!.token,
    method = 'GET',
    body?: string,
  ): Promise<{ status: number; contentType: string; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(`${api.url}${path}`, { method, ca, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...headers } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), body }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }
  const review = (headers: Record<string, string | string[]>, token?: string) =>
    raw('/apis/authentication.k8s.io/v1/selfsubjectreviews', headers, token, 'POST', JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }));

  const whoami = async (kubeconfig: string, args: string[] = []) => {
    const r = await kubectl(kubeconfig, ['auth', 'whoami', '-o', 'json', ...args]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { status: { userInfo: { username: string; uid?: string; groups: string[] } } }).status.userInfo;
  };

  describe('impersonation (--as, --as-group, --as-uid)', () => {
    it('breakglass may do nothing as itself, everything as admin; every request is audited as breakglass acting as admin', async () => {
      const self = await as('breakglass', ['get', 'rec']);
      assert.equal(self.code, 1);
      assert.match(
        self.stderr,
        /redisenterpriseclusters\.app\.redislabs\.com is forbidden: User "breakglass" cannot list resource "redisenterpriseclusters" in API group "app\.redislabs\.com" in the namespace "default"/,
      );

      const r = await as('breakglass', ['get', 'rec', '--as', 'admin']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^rec\s+3\s+7\.8\.2-34\s+Running/m);
      assert.ok(r.events.length >= 3, 'discovery and the list');
      for (const e of r.events) {
        assert.deepEqual(
          [e.user, e.authn, e.impersonatedUser, e.impersonatedGroups, e.impersonation?.user, e.status],
          ['breakglass', 'token', 'admin', ['system:authenticated'], 'admin', 200],
          e.uri,
        );
        assert.equal(e.host, new URL(api.url).host);
      }
    });

    it('impersonating a user it may not: 403 with the filter message, before anything else runs', async () => {
      const r = await as('breakglass', ['auth', 'can-i', 'get', 'secrets', '--as', 'read-only']);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /Error from server \(Forbidden\): users "read-only" is forbidden: User "breakglass" cannot impersonate resource "users" in API group "" at the cluster scope/,
      );
      assert.ok(r.events.length > 0);
      for (const e of r.events) {
        assert.deepEqual([e.user, e.status, e.impersonatedUser, e.impersonation?.user], ['breakglass', 403, undefined, 'read-only'], e.uri);
      }
      // The Status body as responsewriters.Forbidden writes it.
      const res = await raw('/api/v1/namespaces/default/secrets', { 'Impersonate-User': 'read-only' }, api.users['breakglass']!.token);
      assert.equal(res.status, 403);
      assert.deepEqual(JSON.parse(res.body), {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'users "read-only" is forbidden: User "breakglass" cannot impersonate resource "users" in API group "" at the cluster scope',
        reason: 'Forbidden',
        details: { name: 'read-only', kind: 'users' },
        code: 403,
      });
    });

    it('a user with no impersonate right is refused whoever it asks for', async () => {
      for (const user of ['no-impersonate', 'read-only', 'no-exec']) {
        const r = await as(user, ['auth', 'can-i', 'list', 'pods', '--as', 'admin']);
        assert.equal(r.code, 1, user);
        assert.match(r.stderr, new RegExp(`users "admin" is forbidden: User "${user}" cannot impersonate resource "users" in API group "" at the cluster scope`));
      }
      const plain = await as('no-impersonate', ['auth', 'can-i', 'patch', 'secrets']);
      assert.equal(plain.stdout.trim(), 'yes', 'without --as it has every other right');
    });

    it('--as-group and --as-uid are authorized one by one: groups, then the uid', async () => {
      const group = await as('breakglass', ['auth', 'can-i', 'get', 'pods', '--as', 'admin', '--as-group', 'system:masters']);
      assert.equal(group.code, 1);
      assert.match(group.stderr, /groups "system:masters" is forbidden: User "breakglass" cannot impersonate resource "groups" in API group "" at the cluster scope/);
      const uid = await as('breakglass', ['auth', 'can-i', 'get', 'pods', '--as', 'admin', '--as-uid', 'other-uid']);
      assert.equal(uid.code, 1);
      assert.match(
        uid.stderr,
        /uids\.authentication\.k8s\.io "other-uid" is forbidden: User "breakglass" cannot impersonate resource "uids" in API group "authentication\.k8s\.io" at the cluster scope/,
      );
      const both = await whoami(api.users['breakglass']!.kubeconfig, ['--as', 'operator', '--as-group', 'rec-operators', '--as-uid', 'breakglass-uid']);
      assert.deepEqual(both, { username: 'operator', uid: 'breakglass-uid', groups: ['rec-operators', 'system:authenticated'] });
    });

    it('requests and access reviews are authorized as the impersonated user and groups only', async () => {
      const can = async (user: string, extra: string[]) => (await as(user, ['auth', 'can-i', 'create', 'pods', '--subresource=exec', ...extra])).stdout.trim();
      // The impersonated user brings none of its groups: rec-operators holds operator's rights.
      assert.equal(await can('breakglass', ['--as', 'operator']), 'no');
      assert.equal(await can('breakglass', ['--as', 'operator', '--as-group', 'rec-operators']), 'yes');
      assert.equal(await can('breakglass', ['--as', 'admin']), 'yes');
      assert.equal(await can('admin', ['--as', 'read-only']), 'no');
      const list = await as('breakglass', ['get', 'rec', '--as', 'operator', '--as-group', 'rec-operators', '-o', 'name']);
      assert.equal(list.stdout, 'redisenterprisecluster.app.redislabs.com/rec\n', list.stderr);
      const denied = await as('admin', ['get', 'secrets', '--as', 'nobody']);
      assert.equal(denied.code, 1);
      assert.match(denied.stderr, /secrets is forbidden: User "nobody" cannot list resource "secrets" in API group "" in the namespace "default"/);
    });

    it('admin may impersonate a service account, which gets its fixed groups', async () => {
      assert.deepEqual(await whoami(api.users['admin']!.kubeconfig, ['--as', 'system:serviceaccount:redis:deployer']), {
        username: 'system:serviceaccount:redis:deployer',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:redis', 'system:authenticated'],
      });
      const r = await as('breakglass', ['auth', 'can-i', 'get', 'pods', '--as', 'system:serviceaccount:redis:deployer']);
      assert.match(r.stderr, /serviceaccounts "deployer" is forbidden: User "breakglass" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "redis"/);
    });

    it('groups or a uid without a user: kubectl refuses, the server answers 500 in plain text', async () => {
      const r = await as('admin', ['get', 'pods', '--as-group', 'rec-operators']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /requesting uid, groups or user-extra for admin without impersonating a user/);
      assert.deepEqual(r.events, [], 'refused before any request');
      const res = await raw('/api/v1/namespaces/default/pods', { 'Impersonate-Group': ['a', 'b'] });
      assert.equal(res.status, 500);
      assert.equal(res.contentType, 'text/plain; charset=utf-8');
      assert.equal(res.body, 'Internal Server Error: "/api/v1/namespaces/default/pods": requested [{Group  a    } {Group  b    }] without impersonating a user\n');
      const uid = await raw('/api/v1/namespaces/default/pods', { 'Impersonate-Uid': 'u-1' });
      assert.equal(uid.body, 'Internal Server Error: "/api/v1/namespaces/default/pods": requested [{UID  u-1  authentication.k8s.io/v1  }] without impersonating a user\n');
    });

    it('Impersonate-Extra-* headers: each value authorized as userextras/<key>, the key lower-cased and %-decoded', async () => {
      const allowed = await review({ 'Impersonate-User': 'someone', 'Impersonate-Extra-Scopes': ['a', 'b'], 'Impersonate-Extra-Example.com%2fteam': 'redis' });
      assert.equal(allowed.status, 201, allowed.body);
      assert.deepEqual(JSON.parse(allowed.body).status.userInfo, {
        username: 'someone',
        groups: ['system:authenticated'],
        extra: { scopes: ['a', 'b'], 'example.com/team': ['redis'] },
      });
      const denied = await review({ 'Impersonate-User': 'admin', 'Impersonate-Extra-Scopes': 'a' }, api.users['breakglass']!.token);
      assert.equal(denied.status, 403);
      assert.equal(
        JSON.parse(denied.body).message,
        'userextras.authentication.k8s.io "a" is forbidden: User "breakglass" cannot impersonate resource "userextras/scopes" in API group "authentication.k8s.io" at the cluster scope',
      );
    });

    it('exec --as: the WebSocket upgrade is impersonated and authorized as the impersonated user', async () => {
      const r = await as('breakglass', ['exec', 'rec-0', '--as', 'admin', '--', 'echo', 'ok']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'ok\n');
      const upgrade = r.events.find((e) => e.uri.includes('/exec?'));
      assert.deepEqual(upgrade && [upgrade.user, upgrade.impersonatedUser, upgrade.status], ['breakglass', 'admin', 101]);

      const denied = await as('admin', ['exec', 'rec-0', '--as', 'read-only', '--', 'echo', 'ok']);
      assert.equal(denied.code, 1);
      assert.match(denied.stderr, /pods "rec-0" is forbidden: User "read-only" cannot create resource "pods\/exec" in API group "" in the namespace "default"/);
      const refused = denied.events.find((e) => e.uri.includes('/exec?'));
      assert.deepEqual(refused && [refused.user, refused.impersonatedUser, refused.status], ['admin', 'read-only', 403]);
    });
  });

  describe('x509 client certificates', () => {
    it('CN is the user and each O a group; the groups bring their rights', async () => {
      const operator = await api.clientCertUser('operator');
      assert.deepEqual(await whoami(operator.kubeconfig), { username: 'operator', groups: ['rec-operators', 'system:authenticated'] });
      const r = await kubectl(operator.kubeconfig, ['get', 'rec', '-o', 'name']);
      assert.equal(r.stdout, 'redisenterprisecluster.app.redislabs.com/rec\n', r.stderr);
      assert.ok(r.events.every((e) => e.user === 'operator' && e.authn === 'x509'));

      const master = await api.clientCertUser('cert-only', { groups: ['system:masters', 'ops'] });
      assert.deepEqual(await whoami(master.kubeconfig), { username: 'cert-only', groups: ['system:masters', 'ops', 'system:authenticated'] });
      const secret = await kubectl(master.kubeconfig, ['get', 'secret', 'rec', '-o', 'jsonpath={.metadata.name}']);
      assert.equal(secret.stdout, 'rec', secret.stderr);

      const exec = await kubectl(operator.kubeconfig, ['exec', 'rec-0', '--', 'echo', 'ok']);
      assert.equal(exec.stdout, 'ok\n', exec.stderr);
      const upgrade = exec.events.find((e) => e.uri.includes('/exec?'));
      assert.deepEqual(upgrade && [upgrade.user, upgrade.authn, upgrade.status], ['operator', 'x509', 101]);
    });

    it('a certificate the client CA did not sign is 401; a valid certificate wins over a token, an invalid one falls through to it', async () => {
      const untrusted = await api.clientCertUser('admin', { untrusted: true, name: 'untrusted-admin' });
      const r = await kubectl(untrusted.kubeconfig, ['get', 'rec']);
      assert.equal(r.code, 1);
      // Discovery's 401 is read as an unstructured error, hence kubectl's wording.
      assert.match(r.stderr, /error: You must be logged in to the server \(the server has asked for the client to provide credentials\)/);
      assert.ok(r.events.length > 0 && r.events.every((e) => e.status === 401 && e.authn === undefined));

      const certAndToken = await api.clientCertUser('operator', { token: api.users['read-only']!.token, name: 'operator-with-token' });
      assert.equal((await whoami(certAndToken.kubeconfig)).username, 'operator', 'x509 comes first in the union');
      const badCertAndToken = await api.clientCertUser('admin', { untrusted: true, token: api.users['read-only']!.token, name: 'untrusted-with-token' });
      assert.equal((await whoami(badCertAndToken.kubeconfig)).username, 'read-only');
    });

    it('a certificate user may impersonate as its rights allow', async () => {
      await api.clientCertUser('breakglass', { name: 'breakglass-cert' }).then(async (c) => {
        assert.equal((await whoami(c.kubeconfig, ['--as', 'admin'])).username, 'admin');
      });
    });
  });

  describe('bearer tokens', () => {
    it('--token authenticates a kubeconfig that has no credentials', async () => {
      const bare = api.writeKubeconfig({ user: 'nobody-yet' });
      // With no credential at all kubectl prompts for a basic-auth user name on stdin, here /dev/null.
      const none = await kubectl(bare, ['get', 'rec']);
      assert.equal(none.code, 1);
      assert.equal(none.stderr, 'error: EOF\n', none.stdout);
      assert.match(none.stdout, /Please enter Username: /);
      const token = api.issueToken('operator', 60_000);
      assert.deepEqual(await whoami(bare, ['--token', token]), { username: 'operator', groups: ['rec-operators', 'system:authenticated'] });
      const r = await kubectl(bare, ['get', 'rec', '-o', 'name', '--token', token]);
      assert.equal(r.stdout, 'redisenterprisecluster.app.redislabs.com/rec\n', r.stderr);
    });

    it('an expiring token works until its expiry, then kubectl gets 401', async () => {
      const token = api.issueToken('admin', 1500);
      const kubeconfig = api.writeKubeconfig({ user: 'short-lived', token });
      const before = await kubectl(kubeconfig, ['get', 'rec', '-o', 'name']);
      assert.equal(before.code, 0, before.stderr);
      await sleep(1600);
      const after = await kubectl(kubeconfig, ['get', 'rec', '-o', 'name']);
      assert.equal(after.code, 1);
      assert.match(after.stderr, /error: You must be logged in to the server \(the server has asked for the client to provide credentials\)/);
      assert.ok(after.events.length > 0 && after.events.every((e) => e.status === 401));
      const res = await raw('/api/v1/namespaces/default/secrets', {}, token);
      assert.equal(res.status, 401);
      assert.deepEqual(JSON.parse(res.body), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    });
  });

  describe('exec credential plugin', () => {
    for (const apiVersion of ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'] as const) {
      it(`${apiVersion}: kubectl runs it once, with args, env and the cluster (provideClusterInfo)`, async () => {
        const plugin = api.execKubeconfig({
          user: 'admin',
          apiVersion,
          args: ['--region', 'sim-1'],
          env: [{ name: 'SIM_PROFILE', value: 'prod' }],
          provideClusterInfo: true,
          execExtension: { audience: 'sim' },
        });
        const r = await kubectl(plugin.kubeconfig, ['get', 'rec', '-o', 'name']);
        assert.equal(r.stdout, 'redisenterprisecluster.app.redislabs.com/rec\n', r.stderr);
        assert.ok(r.events.every((e) => e.user === 'admin' && e.authn === 'token'));
        const runs = plugin.invocations();
        assert.equal(runs.length, 1, 'one run for every request of one kubectl');
        const run = runs[0]!;
        assert.deepEqual(run.argv, ['--region', 'sim-1']);
        assert.deepEqual(run.env, { SIM_PROFILE: 'prod' });
        assert.equal(run.apiVersion, apiVersion);
        assert.equal(run.execInfo?.apiVersion, apiVersion);
        assert.equal(run.execInfo?.kind, 'ExecCredential');
        assert.equal(run.execInfo?.spec?.interactive, false);
        assert.deepEqual(run.execInfo?.spec?.cluster, {
          server: api.url,
          'certificate-authority-data': ca.toString('base64'),
          config: { audience: 'sim' },
        });
        assert.match(run.expirationTimestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      });
    }

    it('without provideClusterInfo the plugin gets no cluster; interactiveMode IfAvailable without a terminal is not interactive', async () => {
      const plugin = api.execKubeconfig({ user: 'operator', interactiveMode: 'IfAvailable' });
      const r = await kubectl(plugin.kubeconfig, ['auth', 'whoami', '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).status.userInfo.username, 'operator');
      const [run] = plugin.invocations();
      assert.equal(run?.execInfo?.spec?.cluster, undefined);
      assert.equal(run?.execInfo?.spec?.interactive, false);
    });

    it('each kubectl run mints a token that expires; a run after the expiry runs the plugin again and succeeds', async () => {
      const plugin = api.execKubeconfig({ user: 'admin', ttlMs: 1200 });
      assert.equal((await kubectl(plugin.kubeconfig, ['get', 'rec', '-o', 'name'])).code, 0);
      await sleep(1300);
      const again = await kubectl(plugin.kubeconfig, ['get', 'rec', '-o', 'name']);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(plugin.invocations().length, 2);
      const [first] = plugin.invocations();
      assert.ok(Date.parse(first!.expirationTimestamp!) <= first!.time + 1200, 'the timestamp is not later than the server-side expiry');
    });

    it('what kubectl says when the plugin is missing (installHint), fails, answers another apiVersion, or v1 lacks interactiveMode', async () => {
      const missing = api.execKubeconfig({ user: 'admin', command: 'sim-no-such-credential-plugin', installHint: 'Install it with: sim install plugin' });
      const m = await kubectl(missing.kubeconfig, ['get', 'rec']);
      assert.equal(m.code, 1);
      assert.match(m.stderr, /exec: executable sim-no-such-credential-plugin not found/);
      assert.match(m.stderr, /Install it with: sim install plugin/);

      const failing = api.execKubeconfig({ user: 'admin', fail: 'sim: the identity provider said no' });
      const f = await kubectl(failing.kubeconfig, ['get', 'rec']);
      assert.equal(f.code, 1);
      assert.match(f.stderr, /sim: the identity provider said no/);
      assert.match(f.stderr, /exec: executable .*exec-credential-plugin\.mjs failed with exit code 1/);
      assert.ok(failing.invocations().length >= 1 && failing.invocations().every((i) => i.error === 'sim: the identity provider said no'));

      const mismatch = api.execKubeconfig({ user: 'admin', apiVersion: 'client.authentication.k8s.io/v1', outputApiVersion: 'client.authentication.k8s.io/v1beta1' });
      const v = await kubectl(mismatch.kubeconfig, ['get', 'rec']);
      assert.equal(v.code, 1);
      assert.match(v.stderr, /exec plugin is configured to use API version client\.authentication\.k8s\.io\/v1, plugin returned version client\.authentication\.k8s\.io\/v1beta1/);

      const noMode = api.execKubeconfig({ user: 'admin', apiVersion: 'client.authentication.k8s.io/v1', interactiveMode: null });
      const n = await kubectl(noMode.kubeconfig, ['get', 'rec']);
      assert.equal(n.code, 1);
      assert.match(n.stderr, /interactiveMode must be specified for admin to use exec authentication plugin/);
      assert.equal(noMode.invocations().length, 0);
    });
  });
});
