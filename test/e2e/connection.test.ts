// Rotations through the ways people connect: impersonation (--as), a proxy (kubeconfig proxy-url and
// HTTPS_PROXY), an exec credential plugin whose token expires in the middle of the run, and --token,
// which must never be echoed. Each ends with the cluster accepting exactly the stored password.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AuditEvent } from '../sim/audit.js';
import { startSimCluster, type SimCluster } from '../sim/cluster.js';
import { startProxy, type TestProxy } from '../sim/proxy/proxy.js';
import { guardOperatorLogins, journalExists, reccred, validPasswords, writeKubeconfig, type RunResult } from './harness.js';

const NS = 'default';
const FAST = ['--settle', '2s', '--propagation-timeout', '30s'];

describe('connecting as kubectl does: a rotation through --as, a proxy, an expiring exec-plugin token (end to end)', function () {
  this.timeout(300_000);
  let sim: SimCluster;
  let proxy: TestProxy;
  let dir: string;
  guardOperatorLogins(() => sim);

  before(async () => {
    sim = await startSimCluster({ recs: [{ name: 'rec' }], pods: 2, syncDelayMs: 500, operatorIntervalMs: 250 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-connection-'));
    proxy = await startProxy({ dir: path.join(dir, 'proxy'), map: { 'kube.sim.test': '127.0.0.1' } });
  });
  after(async () => {
    await proxy?.stop();
    await sim?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const stored = () => sim.credentials('rec')?.password ?? assert.fail('no stored password');
  const email = () => sim.credentials('rec')?.username ?? assert.fail('no stored username');
  const assertSettled = (previous: string, rotated: boolean) => {
    assert.equal(journalExists(sim, NS, 'rec'), false, 'no journal is left');
    assert.deepEqual(validPasswords(sim, 'rec', email()), [stored()], 'the cluster accepts exactly the stored password');
    if (rotated) assert.notEqual(stored(), previous, 'the password was rotated');
    else assert.equal(stored(), previous, 'the password is unchanged');
  };
  const apiEvents = (events: readonly AuditEvent[]) => events.filter((e): e is Extract<AuditEvent, { kind: 'api' }> => e.kind === 'api' && !e.uri.startsWith('/sim/'));
  const secretWrites = (events: readonly AuditEvent[]) => apiEvents(events).filter((e) => e.method !== 'GET' && /\/secrets(\/|$|\?)/.test(e.uri) && e.status < 300);
  const kubeconfig = (name: string, cluster: Record<string, unknown>, user: Record<string, unknown>) =>
    writeKubeconfig(path.join(dir, name), { 'certificate-authority': sim.caFile, ...cluster }, user, NS);
  const ok = (r: RunResult) => assert.equal(r.code, 0, `exit ${String(r.code)}\n${r.stderr}`);

  it('--as a user the caller may impersonate: every request and exec upgrade acts as that user; the rotation completes', async () => {
    const before = stored();
    const mark = sim.audit.mark();
    const r = await reccred(sim, ['rotate', 'rec', '--as', 'admin', ...FAST], { kubeconfig: sim.users.breakglass?.kubeconfig });
    ok(r);
    assertSettled(before, true);
    const events = apiEvents(sim.audit.since(mark));
    assert.ok(
      events.some((e) => e.uri.includes('/exec?')),
      'exec sessions were opened',
    );
    assert.deepEqual([...new Set(events.map((e) => `${e.user} as ${e.impersonatedUser ?? '-'}`))], ['breakglass as admin']);
  });

  it('--as a user the caller may not impersonate: exit 4 before anything changes', async () => {
    const before = stored();
    const mark = sim.audit.mark();
    const r = await reccred(sim, ['rotate', 'rec', '--as', 'read-only', ...FAST], { kubeconfig: sim.users.breakglass?.kubeconfig });
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /cannot impersonate resource "users"/);
    assertSettled(before, false);
    assert.deepEqual(secretWrites(sim.audit.since(mark)), [], 'nothing was written');
  });

  it('--as an identity without the rights: the access reviews ask as that identity and the preflight refuses (exit 4)', async () => {
    const before = stored();
    const mark = sim.audit.mark();
    const r = await reccred(sim, ['rotate', 'rec', '--as', 'read-only', ...FAST], { kubeconfig: sim.users.admin?.kubeconfig });
    assert.equal(r.code, 4, r.stderr);
    assertSettled(before, false);
    const events = apiEvents(sim.audit.since(mark));
    const reviews = events.filter((e) => e.uri.startsWith('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'));
    assert.ok(reviews.length > 0, 'the preflight asked');
    assert.ok(
      reviews.every((e) => e.user === 'admin' && e.impersonatedUser === 'read-only'),
      'as the impersonated user',
    );
    assert.deepEqual(secretWrites(events), [], 'nothing was written');
  });

  it("through the kubeconfig's proxy-url (HTTP CONNECT): API requests and exec sessions tunnelled; the rotation completes", async () => {
    const before = stored();
    const kc = kubeconfig('proxy-url', { server: sim.apiUrl, 'proxy-url': proxy.httpUrl }, { token: sim.users.admin?.token });
    const tunnelsBefore = (await proxy.tunnels()).length;
    const mark = sim.audit.mark();
    const r = await reccred(sim, ['rotate', 'rec', ...FAST], { kubeconfig: kc });
    ok(r);
    assertSettled(before, true);
    const tunnels = (await proxy.tunnels()).slice(tunnelsBefore);
    const port = new URL(sim.apiUrl).port;
    assert.ok(tunnels.length > 0, 'the proxy carried the connections');
    assert.deepEqual([...new Set(tunnels.map((t) => `${t.outcome} ${t.target ?? ''}`))], [`tunnelled 127.0.0.1:${port}`]);
    const execs = apiEvents(sim.audit.since(mark)).filter((e) => e.uri.includes('/exec?'));
    assert.ok(execs.length > 0, 'exec sessions were opened');
  });

  it('through HTTPS_PROXY (SOCKS5, socks5h) to a host name only the proxy resolves; the rotation completes', async () => {
    const before = stored();
    const server = `https://kube.sim.test:${new URL(sim.apiUrl).port}`;
    const kc = kubeconfig('env-proxy', { server, 'tls-server-name': 'localhost' }, { token: sim.users.admin?.token });
    const tunnelsBefore = (await proxy.tunnels()).length;
    const r = await reccred(sim, ['rotate', 'rec', ...FAST], {
      kubeconfig: kc,
      env: { HTTPS_PROXY: proxy.socksUrl.replace('socks5:', 'socks5h:'), NO_PROXY: 'elsewhere.example' },
    });
    ok(r);
    assertSettled(before, true);
    const tunnels = (await proxy.tunnels()).slice(tunnelsBefore);
    assert.ok(tunnels.length > 0);
    assert.ok(
      tunnels.every((t) => t.protocol === 'socks5' && t.addressType === 'domain' && t.target === `kube.sim.test:${new URL(sim.apiUrl).port}`),
      JSON.stringify(tunnels.slice(0, 3)),
    );
  });

  it('through an exec credential plugin whose token expires during the settle: fetched again before it lapses, never a 401', async () => {
    const before = stored();
    const exec = sim.apiServer.execKubeconfig({ user: 'admin', ttlMs: 3000, file: path.join(dir, 'exec-kc'), log: path.join(dir, 'exec.log') });
    const mark = sim.audit.mark();
    const r = await reccred(sim, ['rotate', 'rec', '--settle', '5s', '--propagation-timeout', '30s'], { kubeconfig: exec.kubeconfig });
    ok(r);
    assertSettled(before, true);
    const runs = exec.invocations();
    assert.ok(runs.length >= 2, `the plugin ran ${runs.length} time(s)`);
    assert.deepEqual(
      apiEvents(sim.audit.since(mark)).filter((e) => e.status === 401),
      [],
      'no request was refused',
    );
    assert.ok(
      runs.every((i) => i.execInfo?.spec?.interactive === false),
      'KUBERNETES_EXEC_INFO says the run is not interactive',
    );
  });

  it('--token is accepted and never echoed: not on stdout, stderr (-vv) or in the JSON result, whether the run succeeds or fails', async () => {
    const token = sim.users.admin?.token ?? assert.fail('no admin token');
    const bare = kubeconfig('no-user', { server: sim.apiUrl }, {});
    const good = await reccred(sim, ['get', 'rec', '--token', token, '-vv', '-o', 'json'], { kubeconfig: bare });
    ok(good);
    const bad = await reccred(sim, ['rotate', 'rec', '--token', token, '-vv', '--server', 'https://127.0.0.1:1', ...FAST], { kubeconfig: bare });
    assert.equal(bad.code, 1, bad.stderr);
    const forbidden = await reccred(sim, ['rotate', 'rec', '--token', token, '-vv', '--as', 'read-only', ...FAST], { kubeconfig: bare });
    assert.equal(forbidden.code, 4, forbidden.stderr);
    for (const out of [good, bad, forbidden]) {
      assert.ok(!`${out.stdout}\n${out.stderr}`.includes(token), 'the token is not in the output');
      assert.ok(!`${out.stdout}\n${out.stderr}`.includes(token.slice(0, 16)), 'nor a part of it');
    }
  });
});
