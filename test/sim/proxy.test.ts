// The real kubectl against the simulated API server through a real proxy process (test/sim/proxy): which proxy
// kubectl uses, when it bypasses one, how it authenticates to it and trusts it. kubectl is the oracle; the plugin's
// proxy support must reach the same outcome in each case.
//
// Sources of the behaviour observed here (kubectl 1.33.1, go1.24.2, gorilla/websocket e064f32, x/net v0.38.0):
// - kubeconfig `proxy-url`: client-go tools/clientcmd/client_config.go sets rest.Config.Proxy = http.ProxyURL(u),
//   one proxy for every request whatever the host; tools/clientcmd/helpers.go parseProxyURL allows http, https,
//   socks5 only. Without it client-go transport/cache.go uses http.ProxyFromEnvironment.
// - HTTPS_PROXY/NO_PROXY: golang.org/x/net/http/httpproxy/proxy.go (vendored in Go's net/http): useProxy never
//   proxies the host "localhost" (exact, case-sensitive) nor a loopback IP; NO_PROXY entries are lower-cased,
//   "name" matches the name and its subdomains, ".name"/"*.name" subdomains only, "name:port" that port, "*" all,
//   IP/CIDR entries only IP literals (names are never resolved); parseProxy accepts any scheme (x/net 8c07e20f),
//   so socks5h:// works there.
// - TLS to an https:// proxy: net/http transport.go addTLS and gorilla/websocket client.go clone the transport's
//   TLSClientConfig, so the proxy's certificate is checked against the kubeconfig CA (system roots, where
//   SSL_CERT_FILE counts, only when the kubeconfig has none) and against tls-server-name when one is set.
// - exec: client-go transport/websocket/roundtripper.go dials with gorilla/websocket using the same proxy function.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from './audit.js';
import { Faults } from './faults.js';
import { kubectlBinary, localShell, runProcess, seedRecObjects, type ProcessResult } from './kube/api-fixture.js';
import { startApiServer, type ApiServer } from './kube/apiserver.js';
import { KubeStore } from './kube/store.js';
import { startProxy, withCredentials, type ProxyTunnel, type TestProxy } from './proxy/proxy.js';

const KUBECTL = kubectlBinary('1.33');

/** A name no DNS resolves (RFC 2606 .test): only the proxy's host map knows it, so reaching the API server by it proves the proxy carried the connection. */
const NAME = 'kube.sim.test';
const V6 = 'fd00::10';
const CREDS = { username: 'alice', password: 'w0nder:land' };

/** Kubeconfig `cluster` fields; undefined drops the default one. */
type ClusterFields = Record<string, string | boolean | undefined>;

const GET_REC = ['get', 'rec', '-o', 'name'];
const EXEC = ['exec', 'rec-0', '-c', 'redis-enterprise-node', '--', 'sh', '-c', 'echo through-the-proxy'];

describe('kubectl 1.33 through a proxy (proxy-url, HTTPS_PROXY, NO_PROXY)', function () {
  this.timeout(60_000);
  let dir: string;
  let audit: AuditLog;
  let api: ApiServer;
  let port: string;
  /** No authentication; the host map knows NAME, V6 and 127.0.0.2. */
  let proxy: TestProxy;
  /** Basic on http/https, RFC 1929 on socks5, both with CREDS. */
  let authProxy: TestProxy;
  /** Its certificate names IP:127.0.0.1 only. */
  let ipOnlyProxy: TestProxy;
  /** The cluster CA plus the proxies' self-signed certificates. */
  let bundle: string;
  let n = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sim-proxy-'));
    const store = new KubeStore();
    seedRecObjects(store, { podIP: '10.0.0.10' });
    audit = new AuditLog();
    api = await startApiServer({ store, executor: localShell, audit, faults: new Faults(), dir: join(dir, 'api') });
    port = new URL(api.url).port;
    const map = { [NAME]: '127.0.0.1', [V6]: '127.0.0.1', '127.0.0.2': '127.0.0.1' };
    proxy = await startProxy({ dir: join(dir, 'proxy'), map });
    authProxy = await startProxy({ dir: join(dir, 'auth-proxy'), map, httpAuth: CREDS, socksAuth: CREDS });
    ipOnlyProxy = await startProxy({ dir: join(dir, 'ip-proxy'), map, sans: ['IP:127.0.0.1'] });
    bundle = join(dir, 'ca-bundle.pem');
    const pems = await Promise.all([api.caFile, proxy.caFile!, authProxy.caFile!, ipOnlyProxy.caFile!].map((f) => readFile(f, 'utf8')));
    await writeFile(bundle, pems.join(''));
  });

  after(async () => {
    await Promise.all([proxy?.stop(), authProxy?.stop(), ipOnlyProxy?.stop()]);
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const byName = () => ({ server: `https://${NAME}:${port}`, 'tls-server-name': 'localhost' });

  /**
   * Runs kubectl 1.33 with a kubeconfig whose cluster is the simulated one plus `cluster`, in an environment
   * holding PATH, HOME and `env` only (the runner's own proxy variables must not leak in). Returns what it did
   * and the connections each proxy logged meanwhile.
   */
  async function kubectl(cluster: ClusterFields, opts: { env?: Record<string, string>; args?: string[] } = {}) {
    const fields: ClusterFields = { server: api.url, 'certificate-authority': api.caFile, ...cluster };
    for (const k of Object.keys(fields)) if (fields[k] === undefined) delete fields[k];
    const kubeconfig = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'sim', cluster: fields }],
      users: [{ name: 'admin', user: { token: api.users['admin']!.token } }],
      contexts: [{ name: 'admin@sim', context: { cluster: 'sim', user: 'admin', namespace: 'default' } }],
      'current-context': 'admin@sim',
    };
    const file = join(dir, `kubeconfig-${n++}.json`); // JSON is YAML: kubectl reads it as is
    await writeFile(file, JSON.stringify(kubeconfig), { mode: 0o600 });
    const cache = await mkdtemp(join(dir, 'cache-'));
    const marks = await Promise.all([proxy, authProxy, ipOnlyProxy].map(async (p) => (await p.tunnels()).length));
    const args = ['--kubeconfig', file, '--cache-dir', cache, '--request-timeout', '10s', ...(opts.args ?? GET_REC)];
    const run = await runProcess(KUBECTL, args, { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, ...opts.env } });
    const [viaProxy, viaAuthProxy, viaIpOnlyProxy] = (await Promise.all([proxy, authProxy, ipOnlyProxy].map(async (p, i) => (await p.tunnels()).slice(marks[i])))) as [
      ProxyTunnel[],
      ProxyTunnel[],
      ProxyTunnel[],
    ];
    return { ...run, viaProxy, viaAuthProxy, viaIpOnlyProxy };
  }

  function assertGotRec(r: ProcessResult) {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'redisenterprisecluster.app.redislabs.com/rec');
  }

  /** Every connection was a tunnel to `target` over `protocol`, and there was at least one. */
  function assertTunnelled(tunnels: ProxyTunnel[], protocol: ProxyTunnel['protocol'], target: string) {
    assert.ok(tunnels.length > 0, 'no connection reached the proxy');
    assert.deepEqual(
      tunnels.map((t) => [t.protocol, t.method, t.target, t.outcome, t.dialed]),
      tunnels.map(() => [protocol, 'CONNECT', target, 'tunnelled', `127.0.0.1:${port}`]),
    );
    assert.ok(tunnels.every((t) => t.bytesUp > 0 && t.bytesDown > 0));
  }

  /** Sends raw bytes to a proxy port and returns everything it answered before it closed the connection. */
  function exchange(url: string, bytes: Buffer | string): Promise<Buffer> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(u.port), u.hostname);
      const chunks: Buffer[] = [];
      socket.on('data', (d: Buffer) => chunks.push(d));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks)));
      socket.write(bytes); // no half-close: a client keeps its end open until the proxy answers
    });
  }

  describe('the proxy itself', () => {
    it('refuses a plain (non-CONNECT) proxy request with 405 and an unreachable target with 502, and logs both', async () => {
      const plain = await exchange(proxy.httpUrl, `GET http://${NAME}:${port}/version HTTP/1.1\r\nHost: ${NAME}:${port}\r\n\r\n`);
      assert.match(plain.toString(), /^HTTP\/1\.1 405 Method Not Allowed\r\nAllow: CONNECT\r\n/);
      const unknown = await exchange(proxy.httpUrl, 'CONNECT nowhere.sim.test:443 HTTP/1.1\r\nHost: nowhere.sim.test:443\r\n\r\n');
      assert.match(unknown.toString(), /^HTTP\/1\.1 502 Bad Gateway\r\n/);
      const logged = (await proxy.tunnels()).slice(-2);
      assert.deepEqual(
        logged.map((t) => [t.method, t.target, t.outcome, t.status]),
        [
          ['GET', `http://${NAME}:${port}/version`, 'method-not-allowed', 405],
          ['CONNECT', 'nowhere.sim.test:443', 'connect-failed', 502],
        ],
      );
    });

    it('answers a SOCKS5 BIND with "command not supported" (7)', async () => {
      // Greeting (no auth), then BIND (2) to 127.0.0.1:80.
      const reply = await exchange(proxy.socksUrl, Buffer.from([5, 1, 0, 5, 2, 0, 1, 127, 0, 0, 1, 0, 80]));
      assert.deepEqual([...reply.subarray(0, 4)], [5, 0, 5, 7]);
      const [last] = (await proxy.tunnels()).slice(-1);
      assert.deepEqual([last?.method, last?.target, last?.outcome, last?.status], ['BIND', '127.0.0.1:80', 'method-not-allowed', 7]);
    });
  });

  it('is kubectl v1.33 (the version these observations hold for)', () => {
    const v = JSON.parse(execFileSync(KUBECTL, ['version', '--client', '-o', 'json'], { encoding: 'utf8' })) as { clientVersion: { gitVersion: string } };
    assert.match(v.clientVersion.gitVersion, /^v1\.33\./);
  });

  describe('kubeconfig proxy-url', () => {
    it('http: every request to the 127.0.0.1 server is a CONNECT tunnel (proxy-url is not subject to the loopback rule)', async () => {
      const r = await kubectl({ 'proxy-url': proxy.httpUrl });
      assertGotRec(r);
      assertTunnelled(r.viaProxy, 'http', `127.0.0.1:${port}`);
      assert.ok(r.viaProxy.every((t) => t.status === 200 && !t.authPresented));
    });

    it('https: TLS to the proxy, then CONNECT; the proxy certificate is trusted through the kubeconfig certificate-authority', async () => {
      const r = await kubectl({ 'proxy-url': proxy.httpsUrl, 'certificate-authority': bundle });
      assertGotRec(r);
      assertTunnelled(r.viaProxy, 'https', `127.0.0.1:${port}`);
    });

    it('socks5: an IP server is sent as ATYP IPv4, no-auth method only', async () => {
      const r = await kubectl({ 'proxy-url': proxy.socksUrl });
      assertGotRec(r);
      assertTunnelled(r.viaProxy, 'socks5', `127.0.0.1:${port}`);
      assert.ok(r.viaProxy.every((t) => t.addressType === 'ipv4' && t.status === 0 && JSON.stringify(t.socksMethods) === '[0]'));
    });

    it('socks5: a host name is sent unresolved (ATYP domain): plain socks5 already resolves at the proxy', async () => {
      const r = await kubectl({ 'proxy-url': proxy.socksUrl, ...byName() });
      assertGotRec(r);
      assertTunnelled(r.viaProxy, 'socks5', `${NAME}:${port}`);
      assert.ok(r.viaProxy.every((t) => t.addressType === 'domain'));
    });

    it('socks5: an IPv6 server is sent as ATYP IPv6', async () => {
      const r = await kubectl({ 'proxy-url': proxy.socksUrl, server: `https://[${V6}]:${port}`, 'tls-server-name': 'localhost' });
      assertGotRec(r);
      assertTunnelled(r.viaProxy, 'socks5', `[${V6}]:${port}`);
      assert.ok(r.viaProxy.every((t) => t.addressType === 'ipv6'));
    });

    it('socks5h and any other scheme are refused when the kubeconfig is loaded, before any connection', async () => {
      for (const scheme of ['socks5h', 'ftp']) {
        const url = proxy.socksUrl.replace(/^socks5/, scheme);
        const r = await kubectl({ 'proxy-url': url });
        assert.equal(r.code, 1);
        assert.equal(r.stderr.trim(), `error: invalid 'proxy-url' "${url}" for cluster "sim": unsupported scheme "${scheme}", must be http, https, or socks5`);
        assert.deepEqual(r.viaProxy, []);
      }
    });

    it('wins over HTTPS_PROXY and ignores NO_PROXY', async () => {
      const r = await kubectl({ 'proxy-url': proxy.httpUrl, ...byName() }, { env: { HTTPS_PROXY: 'http://127.0.0.1:1', NO_PROXY: '*' } });
      assertGotRec(r);
      assertTunnelled(r.viaProxy, 'http', `${NAME}:${port}`);
    });

    it('a server name the serving certificate lacks needs tls-server-name (kubeconfig field or flag)', async () => {
      const bare = await kubectl({ 'proxy-url': proxy.httpUrl, server: `https://${NAME}:${port}` });
      assert.equal(bare.code, 1);
      assert.match(bare.stderr, new RegExp(`x509: certificate is valid for localhost, not ${NAME.replace(/\./g, '\\.')}`));
      assert.ok(bare.viaProxy.length > 0 && bare.viaProxy.every((t) => t.outcome === 'tunnelled'), 'the tunnel was made; TLS to the API server failed inside it');
      const flag = await kubectl({ 'proxy-url': proxy.httpUrl, server: `https://${NAME}:${port}` }, { args: ['--tls-server-name', 'localhost', ...GET_REC] });
      assertGotRec(flag);
      assertTunnelled(flag.viaProxy, 'http', `${NAME}:${port}`);
    });
  });

  describe('proxy authentication from the URL user information', () => {
    const withAuth = (url: string, password = CREDS.password) => withCredentials(url, { ...CREDS, password });

    for (const kind of ['http', 'https'] as const) {
      it(`${kind}: Basic Proxy-Authorization from the URL (percent-decoded); none or a wrong one fails with "Proxy Authentication Required"`, async () => {
        const url = () => (kind === 'http' ? authProxy.httpUrl : authProxy.httpsUrl!);
        const ok = await kubectl({ 'proxy-url': withAuth(url()), 'certificate-authority': bundle });
        assertGotRec(ok);
        assertTunnelled(ok.viaAuthProxy, kind, `127.0.0.1:${port}`);
        assert.ok(ok.viaAuthProxy.every((t) => t.authPresented && t.authUser === 'alice' && t.authOk === true));

        const none = await kubectl({ 'proxy-url': url(), 'certificate-authority': bundle });
        assert.equal(none.code, 1);
        assert.match(none.stderr, /^Unable to connect to the server: Proxy Authentication Required$/m);
        assert.ok(none.viaAuthProxy.length > 0 && none.viaAuthProxy.every((t) => t.outcome === 'auth-required' && t.status === 407));

        const wrong = await kubectl({ 'proxy-url': withAuth(url(), 'nope'), 'certificate-authority': bundle });
        assert.equal(wrong.code, 1);
        assert.match(wrong.stderr, /^Unable to connect to the server: Proxy Authentication Required$/m);
        assert.ok(wrong.viaAuthProxy.length > 0 && wrong.viaAuthProxy.every((t) => t.outcome === 'auth-failed' && t.authUser === 'alice'));
      });
    }

    it('socks5: RFC 1929 username/password from the URL (methods offered: none and username/password)', async () => {
      const ok = await kubectl({ 'proxy-url': withAuth(authProxy.socksUrl) });
      assertGotRec(ok);
      assertTunnelled(ok.viaAuthProxy, 'socks5', `127.0.0.1:${port}`);
      assert.ok(ok.viaAuthProxy.every((t) => JSON.stringify(t.socksMethods) === '[0,2]' && t.authUser === 'alice' && t.authOk === true));

      const wrong = await kubectl({ 'proxy-url': withAuth(authProxy.socksUrl, 'nope') });
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /socks connect tcp 127\.0\.0\.1:\d+->127\.0\.0\.1:\d+: username\/password authentication failed/);
      assert.ok(wrong.viaAuthProxy.length > 0 && wrong.viaAuthProxy.every((t) => t.outcome === 'auth-failed'));

      const none = await kubectl({ 'proxy-url': authProxy.socksUrl });
      assert.equal(none.code, 1);
      assert.match(none.stderr, /socks connect tcp 127\.0\.0\.1:\d+->127\.0\.0\.1:\d+: no acceptable authentication methods/);
      assert.ok(none.viaAuthProxy.length > 0 && none.viaAuthProxy.every((t) => t.outcome === 'auth-required' && JSON.stringify(t.socksMethods) === '[0]'));
    });
  });

  describe('trusting an https proxy', () => {
    it('with a kubeconfig CA, SSL_CERT_FILE does not make the proxy trusted: the CA file is the only root', async () => {
      const r = await kubectl({ 'proxy-url': proxy.httpsUrl }, { env: { SSL_CERT_FILE: proxy.caFile! } });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /proxyconnect tcp: tls: failed to verify certificate: x509: certificate signed by unknown authority/);
      assert.ok(r.viaProxy.length > 0 && r.viaProxy.every((t) => t.outcome === 'tls-failed' && /bad certificate/.test(t.error ?? '')));
    });

    it('without a kubeconfig CA, the system roots (SSL_CERT_FILE) verify both the proxy and the API server', async () => {
      const r = await kubectl({ 'proxy-url': proxy.httpsUrl, 'certificate-authority': undefined }, { env: { SSL_CERT_FILE: bundle } });
      assertGotRec(r);
      assertTunnelled(r.viaProxy, 'https', `127.0.0.1:${port}`);
    });

    it('insecure-skip-tls-verify skips the proxy certificate check too', async () => {
      const r = await kubectl({ 'proxy-url': proxy.httpsUrl, 'certificate-authority': undefined, 'insecure-skip-tls-verify': true });
      assertGotRec(r);
      assertTunnelled(r.viaProxy, 'https', `127.0.0.1:${port}`);
    });

    it('tls-server-name is also the name the proxy certificate must carry', async () => {
      const plain = await kubectl({ 'proxy-url': ipOnlyProxy.httpsUrl, 'certificate-authority': bundle });
      assertGotRec(plain);
      assertTunnelled(plain.viaIpOnlyProxy, 'https', `127.0.0.1:${port}`);
      const named = await kubectl({ 'proxy-url': ipOnlyProxy.httpsUrl, 'certificate-authority': bundle, 'tls-server-name': 'localhost' });
      assert.equal(named.code, 1);
      assert.match(named.stderr, /proxyconnect tcp: tls: failed to verify certificate: x509: certificate is not valid for any names, but wanted to match localhost/);
      assert.ok(named.viaIpOnlyProxy.length > 0 && named.viaIpOnlyProxy.every((t) => t.outcome === 'tls-failed'));
    });
  });

  describe('HTTPS_PROXY and NO_PROXY', () => {
    it('HTTPS_PROXY (or https_proxy) carries a request to a name only the proxy resolves', async () => {
      for (const variable of ['HTTPS_PROXY', 'https_proxy']) {
        const r = await kubectl(byName(), { env: { [variable]: proxy.httpUrl } });
        assertGotRec(r);
        assertTunnelled(r.viaProxy, 'http', `${NAME}:${port}`);
      }
    });

    it('HTTPS_PROXY forms: host:port means http; https, socks5 and socks5h (refused in a kubeconfig) all work', async () => {
      const cases: [string, ProxyTunnel['protocol']][] = [
        [proxy.httpUrl.replace('http://', ''), 'http'],
        [proxy.httpsUrl!, 'https'],
        [proxy.socksUrl, 'socks5'],
        [proxy.socksUrl.replace(/^socks5/, 'socks5h'), 'socks5'],
        [withCredentials(authProxy.httpUrl, CREDS), 'http'],
      ];
      for (const [url, protocol] of cases) {
        const r = await kubectl({ ...byName(), 'certificate-authority': bundle }, { env: { HTTPS_PROXY: url } });
        assertGotRec(r);
        assertTunnelled([...r.viaProxy, ...r.viaAuthProxy], protocol, `${NAME}:${port}`);
      }
    });

    it('HTTP_PROXY alone is not used for an https server; HTTPS_PROXY is read before https_proxy', async () => {
      const httpOnly = await kubectl(byName(), { env: { HTTP_PROXY: proxy.httpUrl } });
      assert.equal(httpOnly.code, 1);
      assert.match(httpOnly.stderr, new RegExp(`dial tcp: lookup ${NAME.replace(/\./g, '\\.')}`));
      assert.deepEqual(httpOnly.viaProxy, []);
      const upperFirst = await kubectl(byName(), { env: { HTTPS_PROXY: 'http://127.0.0.1:1', https_proxy: proxy.httpUrl }, args: ['get', '--raw', '/version'] });
      assert.equal(upperFirst.code, 1);
      // A refused proxy connection is reported as if the API server had refused it.
      assert.equal(upperFirst.stderr, `The connection to the server ${NAME}:${port} was refused - did you specify the right host or port?\n`);
      assert.deepEqual(upperFirst.viaProxy, []);
    });

    // Bypassed: kubectl dials the name itself, which no DNS knows. Proxied: the proxy's map reaches the server.
    const NO_PROXY_CASES: [string, 'bypassed' | 'proxied'][] = [
      [NAME, 'bypassed'],
      ['KUBE.SIM.TEST', 'bypassed'],
      ['sim.test', 'bypassed'],
      ['test', 'bypassed'],
      ['.sim.test', 'bypassed'],
      ['*.sim.test', 'bypassed'],
      [' other.test , kube.sim.test ', 'bypassed'],
      ['*', 'bypassed'],
      ['PORT', 'bypassed'], // kube.sim.test:<the server's port>
      ['.kube.sim.test', 'proxied'],
      ['im.test', 'proxied'],
      ['other.test', 'proxied'],
      ['kube.sim.test:1', 'proxied'],
      ['127.0.0.1', 'proxied'],
    ];
    for (const [entry, expected] of NO_PROXY_CASES) {
      it(`NO_PROXY=${JSON.stringify(entry)}: ${expected}`, async () => {
        const value = entry === 'PORT' ? `${NAME}:${port}` : entry;
        const r = await kubectl(byName(), { env: { HTTPS_PROXY: proxy.httpUrl, NO_PROXY: value } });
        if (expected === 'proxied') {
          assertGotRec(r);
          assertTunnelled(r.viaProxy, 'http', `${NAME}:${port}`);
        } else {
          assert.equal(r.code, 1);
          assert.match(r.stderr, new RegExp(`dial tcp: lookup ${NAME.replace(/\./g, '\\.')}`));
          assert.deepEqual(r.viaProxy, []);
        }
      });
    }

    it('no_proxy (lower case) is read too, also when NO_PROXY is set but empty', async () => {
      const envs: Record<string, string>[] = [{ no_proxy: NAME }, { NO_PROXY: '', no_proxy: NAME }];
      for (const env of envs) {
        const r = await kubectl(byName(), { env: { HTTPS_PROXY: proxy.httpUrl, ...env } });
        assert.equal(r.code, 1, JSON.stringify(env));
        assert.deepEqual(r.viaProxy, []);
      }
    });

    it('HTTPS_PROXY is never used for 127.0.0.1 or localhost', async () => {
      for (const server of [api.url, `https://localhost:${port}`]) {
        const r = await kubectl({ server }, { env: { HTTPS_PROXY: proxy.httpUrl } });
        assertGotRec(r);
        assert.deepEqual(r.viaProxy, [], server);
      }
    });

    it('the loopback rule covers 127.0.0.0/8: 127.0.0.2 is dialled directly (and refused) though the proxy could reach it', async () => {
      const r = await kubectl({ server: `https://127.0.0.2:${port}`, 'tls-server-name': 'localhost' }, { env: { HTTPS_PROXY: proxy.httpUrl } });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /dial tcp 127\.0\.0\.2:\d+: connect: connection refused/);
      assert.deepEqual(r.viaProxy, []);
    });

    it('the "localhost" rule is case-sensitive: LOCALHOST goes through HTTPS_PROXY', async () => {
      const r = await kubectl({ server: `https://LOCALHOST:${port}` }, { env: { HTTPS_PROXY: proxy.httpUrl } });
      assertGotRec(r);
      assertTunnelled(r.viaProxy, 'http', `LOCALHOST:${port}`);
    });
  });

  describe('kubectl exec (WebSocket) through the proxy', () => {
    const cases: [string, () => ClusterFields, () => Record<string, string>, (r: Awaited<ReturnType<typeof kubectl>>) => ProxyTunnel[], ProxyTunnel['protocol']][] = [
      ['proxy-url http', () => ({ 'proxy-url': proxy.httpUrl }), () => ({}), (r) => r.viaProxy, 'http'],
      ['proxy-url https', () => ({ 'proxy-url': proxy.httpsUrl, 'certificate-authority': bundle }), () => ({}), (r) => r.viaProxy, 'https'],
      ['proxy-url socks5 with username/password', () => ({ 'proxy-url': withCredentials(authProxy.socksUrl, CREDS) }), () => ({}), (r) => r.viaAuthProxy, 'socks5'],
      [
        'proxy-url https with Basic auth',
        () => ({ 'proxy-url': withCredentials(authProxy.httpsUrl!, CREDS), 'certificate-authority': bundle }),
        () => ({}),
        (r) => r.viaAuthProxy,
        'https',
      ],
      ['HTTPS_PROXY http', () => ({}), () => ({ HTTPS_PROXY: proxy.httpUrl }), (r) => r.viaProxy, 'http'],
      ['HTTPS_PROXY socks5h', () => ({}), () => ({ HTTPS_PROXY: proxy.socksUrl.replace(/^socks5/, 'socks5h') }), (r) => r.viaProxy, 'socks5'],
    ];
    for (const [label, cluster, env, via, protocol] of cases) {
      it(`${label}: the upgrade to ${NAME} is tunnelled and the command runs`, async () => {
        const mark = audit.mark();
        const r = await kubectl({ ...byName(), ...cluster() }, { env: env(), args: EXEC });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, 'through-the-proxy\n');
        const execs = audit.since(mark).filter((e) => e.kind === 'exec');
        assert.equal(execs.length, 1);
        // The WebSocket subprotocols prove the session was the v5 WebSocket one (the simulator refuses SPDY).
        assert.ok(execs[0]!.kind === 'exec' && execs[0]!.protocols?.includes('v5.channel.k8s.io'));
        // Discovery, the pod GET and the upgrade: each on a connection only the proxy could make.
        assertTunnelled(via(r), protocol, `${NAME}:${port}`);
      });
    }
  });
});
