// A forward proxy for tests, one process on loopback with three ports:
//   http   HTTP/1.1 CONNECT tunnels (RFC 9110 §9.3.6). Any other method, and any request asking for an
//          Upgrade without CONNECT, is refused with 405 and `Allow: CONNECT`: nothing is forwarded in the clear.
//   https  the same behind TLS to the proxy itself (a client's "https://" proxy URL), with --cert/--key.
//   socks5 RFC 1928 CONNECT, address types IPv4 (1), domain name (3) and IPv6 (4); method "no authentication"
//          (0x00), or RFC 1929 username/password (0x02) only when --socks-auth-file is given.
// Plain JavaScript without dependencies, so it starts in milliseconds: `node proxy-server.mjs --log FILE ...`.
//
// Options (all optional):
//   --listen ADDR          address of every port (default 127.0.0.1)
//   --http-port N          (default 0: an ephemeral port), --https-port N, --socks-port N
//   --cert FILE --key FILE serve the https port (without them it is off)
//   --http-auth-file FILE  `user:password` (one line): the http and https ports then answer 407 with
//                          `Proxy-Authenticate: Basic` unless `Proxy-Authorization: Basic` carries exactly it
//   --socks-auth-file FILE `user:password`: the socks5 port then requires RFC 1929
//   --map HOST=ADDR        repeatable: a tunnel to HOST (a name or an IP literal, as the client asked) dials ADDR
//                          instead, so clients can name the API server with a host only the proxy resolves
//   --log FILE             one JSON line per client connection, appended when it closes (fields below)
// Credentials come from files, not argv, so they never show in `ps`.
//
// stdout: first `{"ready":true,"pid":…,"listen":…,"http":PORT,"https":PORT|null,"socks5":PORT}`, then
// `{"open":ID}` as each connection is accepted, so a reader knows which log lines are still to come.
// The process exits on SIGTERM/SIGINT, and when its stdin closes (the test runner died).
//
// Log line fields: id, protocol (http|https|socks5), start (ISO time), durationMs, method (CONNECT, another
// HTTP method, SOCKS CONNECT/BIND/UDP ASSOCIATE, or null), target ("host:port" as the client asked, IPv6 in
// brackets), addressType (ipv4|ipv6|domain), dialed ("addr:port" after --map), authPresented, authUser (never
// the password), authOk (null when no auth is required), socksMethods (the methods a SOCKS client offered),
// outcome (tunnelled | auth-required | auth-failed | method-not-allowed | bad-request | connect-failed |
// tls-failed | closed-early), status (the HTTP status or SOCKS reply code sent), bytesUp (client to target),
// bytesDown (target to client), error. Bytes are counted inside the TLS layer on the https port.
import { appendFileSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { setInterval } from 'node:timers';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    listen: { type: 'string', default: '127.0.0.1' },
    'http-port': { type: 'string', default: '0' },
    'https-port': { type: 'string', default: '0' },
    'socks-port': { type: 'string', default: '0' },
    cert: { type: 'string' },
    key: { type: 'string' },
    'http-auth-file': { type: 'string' },
    'socks-auth-file': { type: 'string' },
    map: { type: 'string', multiple: true, default: [] },
    log: { type: 'string' },
  },
});

function fail(message) {
  process.stderr.write(`proxy-server: ${message}\n`);
  process.exit(2);
}

function readCredentials(file) {
  if (!file) return null;
  const line = readFileSync(file, 'utf8').split('\n')[0] ?? '';
  const colon = line.indexOf(':');
  if (colon < 0) fail(`${file}: expected user:password`);
  return { user: line.slice(0, colon), password: line.slice(colon + 1) };
}

const httpAuth = readCredentials(opts['http-auth-file']);
const socksAuth = readCredentials(opts['socks-auth-file']);
if (Boolean(opts.cert) !== Boolean(opts.key)) fail('--cert and --key go together');

/** Host as the client named it (lower case, IPv6 without brackets) -> address to dial. */
const hostMap = new Map();
for (const entry of opts.map) {
  const eq = entry.indexOf('=');
  if (eq <= 0) fail(`--map ${entry}: expected HOST=ADDR`);
  hostMap.set(unbracket(entry.slice(0, eq)).toLowerCase(), unbracket(entry.slice(eq + 1)));
}

function unbracket(host) {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function joinHostPort(host, port) {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

function addressType(host) {
  if (net.isIPv4(host)) return 'ipv4';
  if (net.isIPv6(host)) return 'ipv6';
  return 'domain';
}

// --- connection records -----------------------------------------------------------------------------------

let nextId = 1;
const open = new Set();

function newRecord(protocol, client) {
  const record = {
    id: nextId++,
    protocol,
    start: new Date().toISOString(),
    durationMs: 0,
    method: null,
    target: null,
    addressType: null,
    dialed: null,
    authPresented: false,
    authUser: null,
    authOk: null,
    socksMethods: null,
    outcome: 'closed-early',
    status: null,
    bytesUp: 0,
    bytesDown: 0,
    error: null,
  };
  // Closed when the client connection and the upstream one (if any) have both closed.
  record.pending = 1;
  record.startedAt = Date.now();
  record.client = client;
  open.add(record);
  process.stdout.write(`${JSON.stringify({ open: record.id })}\n`);
  return record;
}

function release(record) {
  if (--record.pending > 0) return;
  open.delete(record);
  record.durationMs = Date.now() - record.startedAt;
  const { pending: _pending, startedAt: _startedAt, client: _client, ...line } = record;
  if (opts.log) appendFileSync(opts.log, `${JSON.stringify(line)}\n`);
}

function closeAfterFlush(socket, now) {
  if (socket.destroyed) return;
  if (now) socket.destroy();
  else socket.end(() => socket.destroy());
}

/** Connects to the target (after --map) and pipes both ways; `onConnected(upstream)` answers the client. */
function tunnel(record, client, host, port, head, onConnected, onFailed) {
  record.target = joinHostPort(host, port);
  record.addressType = addressType(host);
  const dialHost = hostMap.get(host.toLowerCase()) ?? host;
  record.pending++;
  const upstream = net.connect({ host: dialHost, port });
  let connected = false;
  upstream.on('connect', () => {
    connected = true;
    record.dialed = joinHostPort(upstream.remoteAddress ?? dialHost, upstream.remotePort ?? port);
    record.outcome = 'tunnelled';
    onConnected(upstream);
    if (head && head.length > 0) {
      record.bytesUp += head.length;
      upstream.write(head);
    }
    client.on('data', (d) => (record.bytesUp += d.length));
    upstream.on('data', (d) => (record.bytesDown += d.length));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  upstream.on('error', (e) => {
    if (connected) return client.destroy();
    record.outcome = 'connect-failed';
    record.error = `${e.code ?? ''} ${e.message}`.trim();
    // onFailed ends the client connection with a refusal; a client that keeps its end open is cut after a second.
    onFailed(e);
    setTimeout(() => client.destroy(), 1000).unref();
  });
  // When one side has closed, the other is closed too once the bytes still buffered for it are flushed
  // (a server waiting for a TLS close_notify would otherwise hold the tunnel open); a reset cuts it at once.
  upstream.on('close', (hadError) => {
    if (connected) closeAfterFlush(client, hadError);
    release(record);
  });
  client.on('error', () => upstream.destroy());
  client.on('close', (hadError) => closeAfterFlush(upstream, hadError || !connected));
}

// --- HTTP and HTTPS: CONNECT ------------------------------------------------------------------------------

/** Which record a socket handed to the HTTP parser belongs to (the raw socket, or the TLS socket over it). */
const recordOf = new WeakMap();

function rawResponse(socket, status, reason, headers = []) {
  socket.end([`HTTP/1.1 ${status} ${reason}`, ...headers, 'Content-Length: 0', 'Connection: close', '', ''].join('\r\n'));
}

/** Checks Proxy-Authorization; answers 407 and returns false when it does not carry --http-auth-file. */
function proxyAuthorized(record, req, socket) {
  const header = req.headers['proxy-authorization'];
  record.authPresented = header !== undefined;
  if (header !== undefined) {
    const m = /^Basic\s+(\S+)$/i.exec(header);
    const decoded = m ? Buffer.from(m[1], 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    record.authUser = colon >= 0 ? decoded.slice(0, colon) : null;
    if (httpAuth) record.authOk = colon >= 0 && decoded.slice(0, colon) === httpAuth.user && decoded.slice(colon + 1) === httpAuth.password;
  }
  if (!httpAuth || record.authOk) return true;
  if (httpAuth && !record.authPresented) record.authOk = false;
  record.outcome = record.authPresented ? 'auth-failed' : 'auth-required';
  record.status = 407;
  rawResponse(socket, 407, 'Proxy Authentication Required', ['Proxy-Authenticate: Basic realm="sim-proxy"']);
  return false;
}

/** CONNECT authority: `host:port` or `[v6]:port`. */
function parseAuthority(authority) {
  const m = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(authority ?? '');
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return { host: unbracket(m[1]), port };
}

const httpServer = http.createServer();
httpServer.on('connect', (req, socket, head) => {
  const record = recordOf.get(socket);
  record.method = 'CONNECT';
  record.target = req.url;
  const target = parseAuthority(req.url);
  if (target) record.addressType = addressType(target.host);
  if (!proxyAuthorized(record, req, socket)) return;
  if (!target) {
    record.outcome = 'bad-request';
    record.status = 400;
    rawResponse(socket, 400, 'Bad Request');
    return;
  }
  tunnel(
    record,
    socket,
    target.host,
    target.port,
    head,
    () => {
      record.status = 200;
      socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
    },
    () => {
      record.status = 502;
      rawResponse(socket, 502, 'Bad Gateway');
    },
  );
});

function refuseMethod(req, socket) {
  const record = recordOf.get(socket);
  record.method = req.method;
  record.target = req.url;
  record.outcome = 'method-not-allowed';
  record.status = 405;
  rawResponse(socket, 405, 'Method Not Allowed', ['Allow: CONNECT']);
}
httpServer.on('request', (req, res) => {
  req.resume();
  refuseMethod(req, res.socket);
});
httpServer.on('upgrade', (req, socket) => refuseMethod(req, socket));
httpServer.on('clientError', (err, socket) => {
  const record = recordOf.get(socket);
  if (record?.outcome === 'tls-failed') return socket.destroy();
  if (record && record.outcome === 'closed-early' && err.code !== 'ECONNRESET') {
    record.outcome = 'bad-request';
    record.status = 400;
    record.error = err.message;
  }
  if (socket.writable) rawResponse(socket, 400, 'Bad Request');
  else socket.destroy();
});

function acceptHttp(protocol, raw) {
  const record = newRecord(protocol, raw);
  recordOf.set(raw, record);
  raw.on('error', () => {});
  raw.on('close', () => release(record));
  if (protocol === 'http') {
    httpServer.emit('connection', raw);
    return;
  }
  const secure = new tls.TLSSocket(raw, { isServer: true, secureContext });
  recordOf.set(secure, record);
  let handshakeDone = false;
  secure.on('secure', () => (handshakeDone = true));
  secure.on('error', (e) => {
    if (!handshakeDone) {
      record.outcome = 'tls-failed';
      record.error = e.message;
    }
    raw.destroy();
  });
  secure.on('close', () => raw.destroy());
  httpServer.emit('connection', secure);
}

// --- SOCKS5 -----------------------------------------------------------------------------------------------

/** Reads exact byte counts from a socket during a handshake. */
class Reader {
  constructor(socket) {
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.waiting = null;
    this.ended = false;
    this.onData = (d) => {
      this.buffer = Buffer.concat([this.buffer, d]);
      this.wake();
    };
    this.onEnd = () => {
      this.ended = true;
      this.wake();
    };
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
  }
  wake() {
    const w = this.waiting;
    if (!w) return;
    if (this.buffer.length >= w.n) {
      this.waiting = null;
      const out = this.buffer.subarray(0, w.n);
      this.buffer = this.buffer.subarray(w.n);
      w.resolve(out);
    } else if (this.ended) {
      this.waiting = null;
      w.reject(new Error('client closed during the SOCKS handshake'));
    }
  }
  read(n) {
    return new Promise((resolve, reject) => {
      this.waiting = { n, resolve, reject };
      this.wake();
    });
  }
  async byte() {
    return (await this.read(1))[0];
  }
  /** Stops reading; returns what arrived beyond the handshake (the start of the tunnelled stream). */
  detach() {
    // Paused until the tunnel pipes it, so nothing the client sends meanwhile is lost.
    this.socket.pause();
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    return this.buffer;
  }
}

const SOCKS_COMMANDS = { 1: 'CONNECT', 2: 'BIND', 3: 'UDP ASSOCIATE' };
// RFC 1928 §6 reply codes.
const REP = { succeeded: 0, failure: 1, networkUnreachable: 3, hostUnreachable: 4, refused: 5, commandNotSupported: 7, addressTypeNotSupported: 8 };

function socksReply(rep, bindHost = '0.0.0.0', bindPort = 0) {
  const v6 = net.isIPv6(bindHost);
  const addr = v6 ? ipv6Bytes(bindHost) : Buffer.from(net.isIPv4(bindHost) ? bindHost.split('.').map(Number) : [0, 0, 0, 0]);
  const port = Buffer.alloc(2);
  port.writeUInt16BE(bindPort);
  return Buffer.concat([Buffer.from([5, rep, 0, v6 ? 4 : 1]), addr, port]);
}

/** 16 bytes of an IPv6 literal (`::` shorthand and a dotted IPv4 tail allowed). */
function ipv6Bytes(host) {
  let text = host.replace(/%.*$/, '');
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) text = `${text.slice(0, v4.index)}${((+v4[1] << 8) | +v4[2]).toString(16)}:${((+v4[3] << 8) | +v4[4]).toString(16)}`;
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** RFC 5952 text of 16 bytes: lower case, the longest run of two or more zero groups as `::`. */
function ipv6Text(bytes) {
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i));
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j > i ? j : i + 1;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}

function repFor(error) {
  switch (error.code) {
    case 'ECONNREFUSED':
      return REP.refused;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
      return REP.hostUnreachable;
    case 'ENETUNREACH':
      return REP.networkUnreachable;
    default:
      return REP.failure;
  }
}

async function socksHandshake(record, client) {
  const reader = new Reader(client);
  const refuse = (outcome, reply) => {
    record.outcome = outcome;
    reader.detach();
    client.end(reply);
  };
  if ((await reader.byte()) !== 5) {
    record.outcome = 'bad-request';
    record.error = 'not SOCKS version 5';
    reader.detach();
    client.destroy();
    return;
  }
  const methods = [...(await reader.read(await reader.byte()))];
  record.socksMethods = methods;
  const method = socksAuth ? 2 : 0;
  if (!methods.includes(method)) {
    record.authOk = socksAuth ? false : null;
    record.status = 0xff;
    refuse('auth-required', Buffer.from([5, 0xff]));
    return;
  }
  client.write(Buffer.from([5, method]));
  if (method === 2) {
    // RFC 1929: VER=1, ULEN, UNAME, PLEN, PASSWD; reply VER=1, STATUS (0 = success).
    if ((await reader.byte()) !== 1) {
      record.error = 'bad RFC 1929 version';
      refuse('bad-request', Buffer.from([1, 1]));
      return;
    }
    const user = (await reader.read(await reader.byte())).toString('utf8');
    const password = (await reader.read(await reader.byte())).toString('utf8');
    record.authPresented = true;
    record.authUser = user;
    record.authOk = user === socksAuth.user && password === socksAuth.password;
    if (!record.authOk) {
      record.status = 1;
      refuse('auth-failed', Buffer.from([1, 1]));
      return;
    }
    client.write(Buffer.from([1, 0]));
  }
  const [ver, cmd, , atyp] = await reader.read(4);
  record.method = SOCKS_COMMANDS[cmd] ?? `command ${cmd}`;
  let host;
  if (atyp === 1) host = [...(await reader.read(4))].join('.');
  else if (atyp === 3) host = (await reader.read(await reader.byte())).toString('utf8');
  else if (atyp === 4) host = ipv6Text(await reader.read(16));
  else {
    record.status = REP.addressTypeNotSupported;
    refuse('bad-request', socksReply(REP.addressTypeNotSupported));
    return;
  }
  const port = (await reader.read(2)).readUInt16BE(0);
  record.target = joinHostPort(host, port);
  record.addressType = addressType(host);
  if (ver !== 5 || cmd !== 1) {
    record.status = REP.commandNotSupported;
    refuse('method-not-allowed', socksReply(REP.commandNotSupported));
    return;
  }
  const early = reader.detach();
  tunnel(
    record,
    client,
    host,
    port,
    early,
    (upstream) => {
      record.status = REP.succeeded;
      client.write(socksReply(REP.succeeded, upstream.localAddress, upstream.localPort));
    },
    (e) => {
      record.status = repFor(e);
      client.end(socksReply(record.status));
    },
  );
}

function acceptSocks(client) {
  const record = newRecord('socks5', client);
  client.on('error', () => {});
  client.on('close', () => release(record));
  socksHandshake(record, client).catch((e) => {
    if (record.outcome === 'closed-early') record.error = e.message;
    client.destroy();
  });
}

// --- listening --------------------------------------------------------------------------------------------

const secureContext = opts.cert ? tls.createSecureContext({ cert: readFileSync(opts.cert), key: readFileSync(opts.key) }) : null;
const servers = [];

function listen(port, onConnection) {
  return new Promise((resolve, reject) => {
    const server = net.createServer(onConnection);
    server.once('error', reject);
    server.listen(Number(port), opts.listen, () => {
      servers.push(server);
      resolve(server.address().port);
    });
  });
}

let ports;
try {
  ports = {
    http: await listen(opts['http-port'], (s) => acceptHttp('http', s)),
    https: secureContext ? await listen(opts['https-port'], (s) => acceptHttp('https', s)) : null,
    socks5: await listen(opts['socks-port'], acceptSocks),
  };
} catch (e) {
  fail(`cannot listen: ${e.message}`);
}

let stopping = false;
function shutdown() {
  if (stopping) return;
  stopping = true;
  for (const s of servers) s.close();
  // Open tunnels are cut; their records are still written as their sockets close.
  for (const record of open) record.client.destroy();
  setTimeout(() => process.exit(0), 200).unref();
  const poll = setInterval(() => {
    if (open.size === 0) process.exit(0);
  }, 10);
  poll.unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.stdin.on('data', () => {});
process.stdin.on('end', shutdown);
process.stdin.on('error', shutdown);

process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid, listen: opts.listen, ...ports })}\n`);
