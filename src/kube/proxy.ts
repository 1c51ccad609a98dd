// Proxies as kubectl reaches the API server through them: the cluster's proxy-url (http, https or socks5;
// tools/clientcmd/validation.go parseProxyURL), else HTTPS_PROXY/HTTP_PROXY with NO_PROXY as Go reads them
// (golang.org/x/net/http/httpproxy: loopback and localhost are never proxied). The tunnel carries TLS
// end to end: the proxy sees only the host and port it connects to.
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { usageError } from '../errors/exit-codes.js';

const KUBECONFIG_SCHEMES = new Set(['http:', 'https:', 'socks5:']);
const ENV_SCHEMES = new Set(['http:', 'https:', 'socks5:', 'socks5h:']);

/** The cluster's proxy-url, validated as clientcmd validates it. */
export function parseProxyUrl(value: string, cluster: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usageError(`cluster "${cluster}": proxy-url could not be parsed: ${value.replace(/\/\/[^/@]*@/, '//').slice(0, 200)}`);
  }
  if (!KUBECONFIG_SCHEMES.has(url.protocol))
    throw usageError(`cluster "${cluster}": proxy-url has unsupported scheme "${url.protocol.slice(0, -1)}", must be http, https, or socks5`);
  return url;
}

/** Go's httpproxy.Config.ProxyFunc for one URL: the proxy from the environment, or undefined for a direct connection. */
export function proxyFromEnvironment(target: URL, env: NodeJS.ProcessEnv): URL | undefined {
  const secure = target.protocol === 'https:' || target.protocol === 'wss:';
  // eslint-disable-next-line @typescript-eslint/prefer-nullish-coalescing -- Go's getEnvAny skips empty values
  const raw = (secure ? env.HTTPS_PROXY || env.https_proxy : env.HTTP_PROXY || env.http_proxy) || '';
  if (!raw) return undefined;
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (secure ? '443' : '80');
  if (!useProxy(host, port, env.NO_PROXY || env.no_proxy || '')) return undefined; // eslint-disable-line @typescript-eslint/prefer-nullish-coalescing
  const name = secure ? 'HTTPS_PROXY' : 'HTTP_PROXY';
  // A value without a scheme or a host is read as host:port of an HTTP proxy (httpproxy.parseProxy).
  let url = parseOrUndefined(raw);
  if (!url?.protocol || !url.host) url = parseOrUndefined(`http://${raw}`);
  if (!url) throw usageError(`invalid proxy address in ${name}`, `set ${name} to a URL such as http://proxy.example:3128`);
  if (!ENV_SCHEMES.has(url.protocol)) throw usageError(`${name}: unsupported proxy scheme "${url.protocol.slice(0, -1)}"`, 'use http, https, socks5 or socks5h');
  return url;
}

function parseOrUndefined(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

function useProxy(host: string, port: string, noProxy: string): boolean {
  if (host === 'localhost') return false;
  const ip = net.isIP(host) ? host : undefined;
  if (ip && isLoopback(ip)) return false;
  for (let entry of noProxy.split(',')) {
    entry = entry.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return false;
    if (entry.includes('/')) {
      if (ip && inCidr(ip, entry)) return false;
      continue;
    }
    let entryHost = entry;
    let entryPort = '';
    const hostPort = /^\[?(.*?)\]?:(\d+)$/.exec(entry);
    if (hostPort && (net.isIP(hostPort[1] ?? '') === 4 || entry.startsWith('[') || !(hostPort[1] ?? '').includes(':'))) {
      entryHost = hostPort[1] ?? '';
      entryPort = hostPort[2] ?? '';
    }
    entryHost = entryHost.replace(/^\[|\]$/g, '');
    if (!entryHost) continue;
    if (net.isIP(entryHost)) {
      if (ip && sameIp(ip, entryHost) && (!entryPort || entryPort === port)) return false;
      continue;
    }
    // A domain entry never matches an IP host (httpproxy's domainMatch needs ip == nil).
    if (ip) continue;
    // foo.com matches foo.com and bar.foo.com; .foo.com and *.foo.com match only subdomains.
    const matchHost = !entryHost.startsWith('.') && !entryHost.startsWith('*.');
    const suffix = entryHost.startsWith('*.') ? entryHost.slice(1) : entryHost.startsWith('.') ? entryHost : `.${entryHost}`;
    if ((host.endsWith(suffix) || (matchHost && host === suffix.slice(1))) && (!entryPort || entryPort === port)) return false;
  }
  return true;
}

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
// IPv4-mapped loopback (::ffff:127.x.y.z), which Go's IsLoopback counts too.
LOOPBACK.addSubnet('::ffff:7f00:0', 104, 'ipv6');

function isLoopback(ip: string): boolean {
  return LOOPBACK.check(ip, net.isIPv6(ip) ? 'ipv6' : 'ipv4');
}

function sameIp(a: string, b: string): boolean {
  const list = new net.BlockList();
  list.addAddress(b, net.isIPv6(b) ? 'ipv6' : 'ipv4');
  return list.check(a, net.isIPv6(a) ? 'ipv6' : 'ipv4');
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  if (!base || !bits || !net.isIP(base) || !/^\d+$/.test(bits)) return false;
  const list = new net.BlockList();
  try {
    list.addSubnet(base, Number(bits), net.isIPv6(base) ? 'ipv6' : 'ipv4');
  } catch {
    return false;
  }
  return list.check(ip, net.isIPv6(ip) ? 'ipv6' : 'ipv4');
}

export class ProxyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProxyError';
  }
}

/** How an https proxy's certificate is checked: client-go uses the cluster's own TLS settings for it (CA, insecure, tls-server-name). */
export interface ProxyTrust {
  ca?: string | Buffer | string[];
  rejectUnauthorized: boolean;
  servername?: string;
  /** The client certificate, offered to an https proxy too, as Go's TLS config does. */
  cert?: string | Buffer;
  key?: string | Buffer;
}

/** A byte stream to host:port through the proxy (HTTP CONNECT, over TLS for an https proxy, or SOCKS5). */
export async function tunnel(proxy: URL, host: string, port: number, trust: ProxyTrust, timeoutMs = 0): Promise<Duplex> {
  const proxyPort = Number(proxy.port || (proxy.protocol === 'https:' ? 443 : proxy.protocol === 'http:' ? 80 : 1080));
  const proxyHost = proxy.hostname.replace(/^\[|\]$/g, '');
  const socket: net.Socket =
    proxy.protocol === 'https:'
      ? tls.connect({
          host: proxyHost,
          port: proxyPort,
          servername: trust.servername ?? (net.isIP(proxyHost) ? undefined : proxyHost),
          ca: trust.ca,
          rejectUnauthorized: trust.rejectUnauthorized,
          ...(trust.cert !== undefined && trust.key !== undefined ? { cert: trust.cert, key: trust.key } : {}),
          ALPNProtocols: ['http/1.1'],
        })
      : net.connect({ host: proxyHost, port: proxyPort });
  // The request's own timeout starts only once it has a socket: a proxy that never answers would hang the run.
  if (timeoutMs > 0) socket.setTimeout(timeoutMs, () => socket.destroy(new ProxyError(`no answer within ${timeoutMs}ms`)));
  const reader = new SocketReader(socket, proxy.protocol === 'https:' ? 'secureConnect' : 'connect');
  try {
    await reader.ready;
    if (proxy.protocol.startsWith('socks5')) await socks5Connect(reader, proxy, host, port);
    else await httpConnect(reader, proxy, host, port);
    reader.release();
    socket.setTimeout(0);
    return socket;
  } catch (err) {
    socket.destroy();
    throw new ProxyError(`proxy ${proxy.protocol}//${proxyHost}:${proxyPort}: ${(err as Error).message}`);
  }
}

async function httpConnect(reader: SocketReader, proxy: URL, host: string, port: number): Promise<void> {
  const authority = `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
  const credentials = proxy.username
    ? `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}\r\n`
    : '';
  reader.socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${credentials}\r\n`);
  const head = await reader.until(Buffer.from('\r\n\r\n'), 16 * 1024);
  const status = /^HTTP\/1\.[01] (\d{3})([^\r\n]*)/.exec(head.toString('latin1'));
  if (!status) throw new ProxyError('the proxy did not answer CONNECT with an HTTP status');
  if (status[1] !== '200') throw new ProxyError(`the proxy refused to connect to ${authority}: ${status[1] ?? ''}${status[2] ?? ''}`);
}

// RFC 1928 (CONNECT), RFC 1929 (username/password). Host names go to the proxy unresolved, as Go's dialer sends them.
async function socks5Connect(reader: SocketReader, proxy: URL, host: string, port: number): Promise<void> {
  const user = decodeURIComponent(proxy.username);
  const pass = decodeURIComponent(proxy.password);
  reader.socket.write(Buffer.from(user ? [5, 2, 0, 2] : [5, 1, 0]));
  const choice = await reader.take(2);
  if (choice[0] !== 5) throw new ProxyError('the proxy does not speak SOCKS5');
  if (choice[1] === 2) {
    const u = Buffer.from(user);
    const p = Buffer.from(pass);
    if (u.length > 255 || p.length > 255) throw new ProxyError('a SOCKS5 username or password is longer than 255 bytes');
    reader.socket.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]));
    const auth = await reader.take(2);
    if (auth[1] !== 0) throw new ProxyError('the SOCKS5 proxy refused the username and password');
  } else if (choice[1] !== 0) {
    throw new ProxyError('the SOCKS5 proxy accepts none of the offered authentication methods');
  }
  let address: Buffer;
  if (net.isIPv4(host)) address = Buffer.from([1, ...host.split('.').map(Number)]);
  else if (net.isIPv6(host)) address = Buffer.concat([Buffer.from([4]), ipv6Bytes(host)]);
  else if (Buffer.byteLength(host) > 255) throw new ProxyError('a host name longer than 255 bytes cannot go through SOCKS5');
  else address = Buffer.concat([Buffer.from([3, Buffer.byteLength(host)]), Buffer.from(host)]);
  const portBytes = Buffer.alloc(2);
  portBytes.writeUInt16BE(port);
  reader.socket.write(Buffer.concat([Buffer.from([5, 1, 0]), address, portBytes]));
  const reply = await reader.take(4);
  if (reply[0] !== 5) throw new ProxyError('the proxy does not speak SOCKS5');
  if (reply[1] !== 0) throw new ProxyError(`the SOCKS5 proxy could not connect to ${host}:${port} (reply ${reply[1] ?? '?'})`);
  const rest = reply[3] === 1 ? 4 : reply[3] === 4 ? 16 : ((await reader.take(1))[0] ?? 0);
  await reader.take(rest + 2);
}

function ipv6Bytes(address: string): Buffer {
  // An embedded dotted quad (::ffff:1.2.3.4) is the last two groups.
  const ip = address.replace(
    /(\d+)\.(\d+)\.(\d+)\.(\d+)$/,
    (_m, a: string, b: string, c: string, d: string) => `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`,
  );
  const [head = '', tail = ''] = ip.split('::');
  const parts = (s: string) => (s ? s.split(':') : []);
  const h = parts(head);
  const t = parts(tail);
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** Reads a handshake from a socket, then hands the socket over with any bytes read past it put back. */
class SocketReader {
  readonly ready: Promise<void>;
  private buffered = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  private readonly onData = (c: Buffer) => {
    this.buffered = Buffer.concat([this.buffered, c]);
    this.wake?.();
  };
  private readonly onEnd = () => this.fail(new ProxyError('the proxy closed the connection'));
  private readonly onError = (e: Error) => this.fail(e);

  constructor(
    readonly socket: net.Socket,
    connectEvent: string,
  ) {
    this.ready = new Promise((resolve, reject) => {
      socket.once(connectEvent, resolve);
      socket.once('error', reject);
    });
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
  }

  private fail(e: Error) {
    this.failure = e;
    this.wake?.();
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  private async more(): Promise<void> {
    this.check();
    await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = undefined;
    this.check();
  }

  async take(n: number): Promise<Buffer> {
    while (this.buffered.length < n) await this.more();
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }

  async until(marker: Buffer, max: number): Promise<Buffer> {
    for (;;) {
      const at = this.buffered.indexOf(marker);
      if (at >= 0) return this.take(at + marker.length);
      if (this.buffered.length > max) throw new ProxyError('the proxy sent an over-long answer');
      await this.more();
    }
  }

  release(): void {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('error', this.onError);
    if (this.buffered.length) this.socket.unshift(this.buffered);
  }
}

/** An https.Agent whose connections are tunnels through the proxy; TLS to the API server runs inside. */
export class ProxyAgent extends https.Agent {
  constructor(
    private readonly proxy: URL,
    private readonly trust: ProxyTrust,
    private readonly agentOptions: https.AgentOptions,
    private readonly timeoutMs: number,
  ) {
    super(agentOptions);
  }

  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const host = (options.host ?? 'localhost').replace(/^\[|\]$/g, '');
    const trust = {
      ...this.trust,
      ...(this.agentOptions.cert !== undefined && this.agentOptions.key !== undefined ? { cert: this.agentOptions.cert as Buffer, key: this.agentOptions.key as Buffer } : {}),
    };
    tunnel(this.proxy, host, Number(options.port ?? 443), trust, this.timeoutMs).then(
      (socket) => callback?.(null, tls.connect({ ...(options as tls.ConnectionOptions), socket })),
      (err: unknown) => callback?.(err instanceof Error ? err : new ProxyError(String(err)), undefined as unknown as Duplex),
    );
    // Undefined: the agent waits for the callback.
    return undefined;
  }
}
