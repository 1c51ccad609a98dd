// HTTPS_PROXY, HTTP_PROXY and NO_PROXY as Go reads them (kubectl's proxy rules when the kubeconfig
// names no proxy-url). The cases are golang.org/x/net/http/httpproxy's own (proxy_test.go:
// proxyForURLTests, UseProxyTests with its noProxy list), facts carried over, not its code.
import assert from 'node:assert/strict';
import { proxyFromEnvironment } from '../../src/kube/proxy.js';

const GO_NO_PROXY =
  'foobar.com, .barbaz.net, *.wildcard.io, 192.168.1.1, 192.168.1.2:81, 192.168.1.3:80, 10.0.0.0/30, 2001:db8::52:0:1, [2001:db8::52:0:2]:443, [2001:db8::52:0:3]:80, 2002:db8:a::45/64';

// host -> whether it is proxied (httpproxy's UseProxyTests, each asked for port 80).
const USE_PROXY: [string, boolean][] = [
  ['localhost', false],
  ['127.0.0.1', false],
  ['127.0.0.2', false],
  ['[::1]', false],
  ['[::2]', true],
  ['192.168.1.1', false],
  ['192.168.1.2', true],
  ['192.168.1.3', false],
  ['192.168.1.4', true],
  ['10.0.0.2', false],
  ['[2001:db8::52:0:1]', false],
  ['[2001:db8::52:0:2]', true],
  ['[2001:db8::52:0:3]', false],
  ['[2002:db8:a::123]', false],
  ['[fe80::424b:c8be:1643:a1b6]', true],
  ['barbaz.net', true],
  ['www.barbaz.net', false],
  ['foobar.com', false],
  ['www.foobar.com', false],
  ['foofoobar.com', true],
  ['baz.com', true],
  ['localhost.net', true],
  ['local.localhost', true],
  ['barbarbaz.net', true],
  ['wildcard.io', true],
  ['nested.wildcard.io', false],
  ['awildcard.io', true],
];

describe('proxy from the environment, as Go (and so kubectl) reads it', () => {
  for (const [host, proxied] of USE_PROXY) {
    it(`${host}:80 is ${proxied ? '' : 'not '}proxied with the httpproxy test NO_PROXY list`, () => {
      const got = proxyFromEnvironment(new URL(`https://${host}:80/`), { HTTPS_PROXY: 'http://proxy.example:3128', NO_PROXY: GO_NO_PROXY });
      assert.equal(got !== undefined, proxied);
    });
  }

  it('NO_PROXY=* proxies nothing', () => {
    for (const [host] of USE_PROXY) assert.equal(proxyFromEnvironment(new URL(`https://${host}:80/`), { HTTPS_PROXY: 'proxy:1', NO_PROXY: '*' }), undefined, host);
  });

  it('a malformed NO_PROXY entry (":1") is ignored', () => {
    assert.ok(proxyFromEnvironment(new URL('https://example.com/'), { HTTPS_PROXY: 'proxy:1', NO_PROXY: ':1' }));
  });

  it('an https URL uses HTTPS_PROXY (else https_proxy), never HTTP_PROXY; an http URL the reverse', () => {
    assert.equal(proxyFromEnvironment(new URL('https://secure.tld/'), { HTTP_PROXY: 'http.proxy.tld' }), undefined);
    assert.equal(proxyFromEnvironment(new URL('https://secure.tld/'), { HTTP_PROXY: 'http.proxy.tld', HTTPS_PROXY: 'secure.proxy.tld' })?.href, 'http://secure.proxy.tld/');
    assert.equal(proxyFromEnvironment(new URL('https://secure.tld/'), { https_proxy: 'https://secure.proxy.tld' })?.href, 'https://secure.proxy.tld/');
    assert.equal(proxyFromEnvironment(new URL('http://insecure.tld/'), { HTTP_PROXY: 'http.proxy.tld', HTTPS_PROXY: 'secure.proxy.tld' })?.href, 'http://http.proxy.tld/');
    assert.equal(proxyFromEnvironment(new URL('https://example.com/'), { no_proxy: 'example.com', https_proxy: 'p:1' }), undefined);
  });

  it('a proxy without a scheme is an HTTP proxy (host, host:port, localhost); schemes http, https, socks5 and socks5h are kept', () => {
    const proxyFor = (value: string) => proxyFromEnvironment(new URL('https://example.com/'), { HTTPS_PROXY: value })?.href;
    assert.equal(proxyFor('127.0.0.1:8080'), 'http://127.0.0.1:8080/');
    assert.equal(proxyFor('cache.corp.example.com:1234'), 'http://cache.corp.example.com:1234/');
    assert.equal(proxyFor('cache.corp.example.com'), 'http://cache.corp.example.com/');
    assert.equal(proxyFor('localhost'), 'http://localhost/');
    assert.equal(proxyFor('https://127.0.0.1:8080'), 'https://127.0.0.1:8080/');
    assert.equal(proxyFor('socks5://127.0.0.1'), 'socks5://127.0.0.1');
    assert.equal(proxyFor('socks5h://127.0.0.1:1080'), 'socks5h://127.0.0.1:1080');
    assert.throws(() => proxyFor('foo://host'), /unsupported proxy scheme "foo"/);
  });

  it('the default port decides a port-specific NO_PROXY entry (443 for https)', () => {
    assert.equal(proxyFromEnvironment(new URL('https://192.168.1.9/'), { HTTPS_PROXY: 'p:1', NO_PROXY: '192.168.1.9:443' }), undefined);
    assert.ok(proxyFromEnvironment(new URL('https://192.168.1.9/'), { HTTPS_PROXY: 'p:1', NO_PROXY: '192.168.1.9:80' }));
  });
});
