// A command that leaves its exec sessions open for reuse (status --check does not release them) must still exit as
// soon as its work is done, whatever carries the connection: an idle session must not hold the process for its 20 s
// idle timeout. Through an https:// proxy the API server's TLS runs inside the proxy's TLS, so the socket that keeps
// the process alive is not the one the exec session sees.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSimCluster, type SimCluster } from '../sim/cluster.js';
import { startProxy, type ProxyTunnel, type TestProxy } from '../sim/proxy/proxy.js';
import { guardOperatorLogins, startReccred, writeKubeconfig } from './harness.js';

const NS = 'default';
/** Far below the 20 s idle timeout of a pod's exec session, far above a normal run's start-up and work. */
const MAX_RUN_MS = 8000;
/** From the result printed to the process gone: only the event loop running dry is left. */
const MAX_EXIT_AFTER_OUTPUT_MS = 2000;

describe('status --check exits once done, its exec sessions idle, through every kind of proxy (end to end)', function () {
  this.timeout(120_000);
  let sim: SimCluster;
  let proxy: TestProxy;
  let dir: string;
  /** The cluster CA and the proxy's self-signed certificate: client-go checks an https proxy against the cluster CA. */
  let bundle: string;
  guardOperatorLogins(() => sim);

  before(async () => {
    sim = await startSimCluster({ recs: [{ name: 'rec' }], pods: 2, syncDelayMs: 500, operatorIntervalMs: 250 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-proxy-exit-'));
    proxy = await startProxy({ dir: path.join(dir, 'proxy') });
    bundle = path.join(dir, 'ca-bundle.pem');
    fs.writeFileSync(bundle, fs.readFileSync(sim.caFile, 'utf8') + fs.readFileSync(proxy.caFile ?? assert.fail('no proxy certificate'), 'utf8'));
  });
  after(async () => {
    await proxy?.stop();
    await sim?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const kubeconfig = (name: string, proxyUrl: string | undefined) =>
    writeKubeconfig(
      path.join(dir, `kubeconfig-${name}`),
      { server: sim.apiUrl, 'certificate-authority': bundle, ...(proxyUrl ? { 'proxy-url': proxyUrl } : {}) },
      { token: sim.users.admin?.token },
      NS,
    );

  /** Runs the command, timing the whole run and the wait between its last output and its exit. */
  const timedStatus = async (kc: string) => {
    const started = Date.now();
    const { child, result } = startReccred(sim, ['status', 'rec', '--check'], { kubeconfig: kc });
    let lastOutput = started;
    child.stdout?.on('data', () => (lastOutput = Date.now()));
    const r = await result;
    const ended = Date.now();
    return { r, totalMs: ended - started, afterOutputMs: ended - lastOutput };
  };

  const kinds: { name: string; url: () => string | undefined; protocol: ProxyTunnel['protocol'] | undefined }[] = [
    { name: 'no proxy', url: () => undefined, protocol: undefined },
    { name: 'an http:// proxy (CONNECT)', url: () => proxy.httpUrl, protocol: 'http' },
    { name: 'an https:// proxy (CONNECT over TLS: TLS in TLS)', url: () => proxy.httpsUrl, protocol: 'https' },
    { name: 'a socks5:// proxy', url: () => proxy.socksUrl, protocol: 'socks5' },
  ];

  for (const kind of kinds) {
    it(`through ${kind.name}: exit 0 with every check ok, within ${MAX_RUN_MS / 1000} s, not held by the idle exec sessions`, async () => {
      const url = kind.url();
      if (kind.protocol && !url) assert.fail(`the proxy serves no ${kind.protocol} port`);
      const tunnelsBefore = (await proxy.tunnels()).length;
      const mark = sim.audit.mark();
      const { r, totalMs, afterOutputMs } = await timedStatus(kubeconfig(kind.name.replace(/\W+/g, '-'), url));
      assert.equal(r.code, 0, `exit ${String(r.code)} (${String(r.signal)})\n${r.stderr}`);
      assert.match(r.stdout, /^REC: +rec \(namespace default/m);
      for (const check of ['operation-age', 'pods-current', 'store-authenticates']) assert.match(r.stdout, new RegExp(`^ +ok +${check}: `, 'm'), r.stdout);
      assert.doesNotMatch(r.stdout, /FAILED/);

      // The sessions were opened (one per pod) and, through a proxy, carried by it.
      const execs = sim.audit.since(mark).filter((e) => e.kind === 'api' && e.uri.includes('/exec?'));
      assert.ok(execs.length >= 2, `${execs.length} exec session(s) opened`);
      if (kind.protocol) {
        const tunnels = (await proxy.tunnels()).slice(tunnelsBefore);
        assert.ok(tunnels.length >= execs.length, `${tunnels.length} tunnel(s) for ${execs.length} exec session(s)`);
        assert.deepEqual([...new Set(tunnels.map((t) => `${t.protocol} ${t.outcome}`))], [`${kind.protocol} tunnelled`]);
      }

      assert.ok(afterOutputMs < MAX_EXIT_AFTER_OUTPUT_MS, `the process lived on ${afterOutputMs} ms after printing its result`);
      assert.ok(totalMs < MAX_RUN_MS, `the run took ${totalMs} ms`);
    });
  }
});
