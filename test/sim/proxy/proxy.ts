// Starts proxy-server.mjs (HTTP CONNECT, the same over TLS, SOCKS5) as a child process for a test, and reads
// back what it tunnelled. A separate process, as a corporate proxy is: the client under test reaches it only
// through the proxy URL it was given.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { makeSelfSignedCert } from '../kube/tls.js';

const SERVER = fileURLToPath(new URL('./proxy-server.mjs', import.meta.url));

export interface ProxyCredentials {
  username: string;
  password: string;
}

export interface StartProxyOptions {
  /** Where the certificate, credential files and the log go. */
  dir: string;
  /** Serve the https:// port (TLS to the proxy) with a self-signed certificate for IP:127.0.0.1 and DNS:localhost. Default true. */
  tls?: boolean;
  /** Subject alternative names of that certificate (openssl form). Default IP:127.0.0.1 and DNS:localhost. */
  sans?: string[];
  /** Require `Proxy-Authorization: Basic` with these on the http and https ports (407 otherwise). */
  httpAuth?: ProxyCredentials;
  /** Require RFC 1929 username/password with these on the socks5 port. */
  socksAuth?: ProxyCredentials;
  /** Host as a client names it (a name or an IP literal) -> address the proxy dials instead. */
  map?: Record<string, string>;
}

/** One log line: one client connection to the proxy, written when it closed. */
export const proxyTunnelSchema = z.object({
  id: z.number(),
  protocol: z.enum(['http', 'https', 'socks5']),
  start: z.string(),
  durationMs: z.number(),
  /** CONNECT, another HTTP method (refused), or the SOCKS command; null when none arrived. */
  method: z.string().nullable(),
  /** `host:port` exactly as the client asked (IPv6 in brackets); for a refused plain request, its URL. */
  target: z.string().nullable(),
  /** How the target was named: a SOCKS ATYP, or the form of the CONNECT host. */
  addressType: z.enum(['ipv4', 'ipv6', 'domain']).nullable(),
  /** `addr:port` the proxy connected to, after the host map. */
  dialed: z.string().nullable(),
  authPresented: z.boolean(),
  /** The user name presented (the password is never logged). */
  authUser: z.string().nullable(),
  /** null when the port requires no authentication. */
  authOk: z.boolean().nullable(),
  /** SOCKS methods the client offered (0 no auth, 2 username/password). */
  socksMethods: z.array(z.number()).nullable(),
  outcome: z.enum(['tunnelled', 'auth-required', 'auth-failed', 'method-not-allowed', 'bad-request', 'connect-failed', 'tls-failed', 'closed-early']),
  /** HTTP status, or SOCKS reply code (0 succeeded; 255 no acceptable method; 1 on a failed RFC 1929 login). */
  status: z.number().nullable(),
  /** Client to target; on the https port counted inside TLS. */
  bytesUp: z.number(),
  bytesDown: z.number(),
  error: z.string().nullable(),
});
export type ProxyTunnel = z.infer<typeof proxyTunnelSchema>;

const readySchema = z.object({ ready: z.literal(true), pid: z.number(), listen: z.string(), http: z.number(), https: z.number().nullable(), socks5: z.number() });
const openSchema = z.object({ open: z.number() });

export interface TestProxy {
  /** http://127.0.0.1:PORT */
  httpUrl: string;
  /** https://127.0.0.1:PORT, when tls is on. */
  httpsUrl: string | undefined;
  /** socks5://127.0.0.1:PORT */
  socksUrl: string;
  /** The https port's self-signed certificate (its own CA): what a client must trust. */
  caFile: string | undefined;
  logFile: string;
  pid: number;
  /** Every connection so far, oldest first; waits (up to 3 s) until each accepted one has closed and been logged. */
  tunnels(): Promise<ProxyTunnel[]>;
  stop(): Promise<void>;
}

/** The proxy URL with user information, as kubeconfig `proxy-url` or HTTPS_PROXY carry it. */
export function withCredentials(url: string, c: ProxyCredentials): string {
  const u = new URL(url);
  u.username = encodeURIComponent(c.username);
  u.password = encodeURIComponent(c.password);
  return u.toString().replace(/\/$/, '');
}

async function credentialFile(file: string, c: ProxyCredentials): Promise<string> {
  if (c.username.includes(':') || /[\r\n]/.test(c.username + c.password)) throw new Error('proxy credentials: no ":" in the user name, no line breaks');
  await writeFile(file, `${c.username}:${c.password}\n`, { mode: 0o600 });
  return file;
}

export async function startProxy(options: StartProxyOptions): Promise<TestProxy> {
  const { dir } = options;
  await mkdir(dir, { recursive: true });
  const logFile = join(dir, 'proxy-log.jsonl');
  await writeFile(logFile, '');
  const args = ['--log', logFile];
  let caFile: string | undefined;
  if (options.tls ?? true) {
    const cert = await makeSelfSignedCert(dir, 'proxy', options.sans);
    caFile = cert.certFile;
    args.push('--cert', cert.certFile, '--key', cert.keyFile);
  }
  if (options.httpAuth) args.push('--http-auth-file', await credentialFile(join(dir, 'proxy-http-auth'), options.httpAuth));
  if (options.socksAuth) args.push('--socks-auth-file', await credentialFile(join(dir, 'proxy-socks-auth'), options.socksAuth));
  for (const [host, addr] of Object.entries(options.map ?? {})) args.push('--map', `${host}=${addr}`);

  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [SERVER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const opened = new Set<number>();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let exitCode: number | null | undefined;
  void exited.then(() => (exitCode = child.exitCode));

  const ready = await new Promise<z.infer<typeof readySchema>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`proxy-server did not start in 10 s: ${stderr}`)), 10_000);
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const json: unknown = JSON.parse(line);
      const open = openSchema.safeParse(json);
      if (open.success) {
        opened.add(open.data.open);
        return;
      }
      clearTimeout(timer);
      resolve(readySchema.parse(json));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`proxy-server exited (${code}) before it was ready: ${stderr}`));
    });
  });

  async function readLog(): Promise<ProxyTunnel[]> {
    if (!existsSync(logFile)) return [];
    const text = await readFile(logFile, 'utf8');
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => proxyTunnelSchema.parse(JSON.parse(l)));
  }

  const host = ready.listen;
  return {
    httpUrl: `http://${host}:${ready.http}`,
    httpsUrl: ready.https === null ? undefined : `https://${host}:${ready.https}`,
    socksUrl: `socks5://${host}:${ready.socks5}`,
    caFile,
    logFile,
    pid: ready.pid,
    async tunnels() {
      const deadline = Date.now() + 3000;
      for (;;) {
        const lines = await readLog();
        const logged = new Set(lines.map((l) => l.id));
        if ([...opened].every((id) => logged.has(id)) || Date.now() > deadline || exitCode !== undefined) return lines;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      if (exitCode !== undefined) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
