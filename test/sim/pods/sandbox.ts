// Pod sandboxes: one Linux mount + network (+ UTS) namespace per pod, entered with nsenter for exec; made as root,
// or inside a user namespace (`unshare -r`) by a plain user.
// Inside, /opt/redislabs/credentials is that pod's kubelet-managed folder and localhost:9443 its REST API.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync, existsSync, openSync, readSync, closeSync, fstatSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { AuditLog } from '../audit.js';
import { parseTrace, straceArgs, straceInstalled } from './exec-trace.js';
import type { ExecProcess, ExecRequest, PodExecutor } from './executor.js';
import { SETUP_SCRIPT } from './setup-script.js';

export interface PodSpec {
  namespace: string;
  name: string;
  /** Host folder bind-mounted at /opt/redislabs/credentials. */
  credentialsDir: string;
  /** Host Unix socket that localhost:9443 in the pod is piped to. */
  socketPath: string;
  /** Host file the argv wrappers append to (pods whose execs are not traced); traced execs log beside it. */
  argvLog: string;
  /** Commands absent from the pod's image (`curl`, `sha256sum`...), as in a `.minimal` image. */
  missingTools?: string[];
  /** Host folder bind-mounted at the exec user's HOME (default: `home` beside credentialsDir). */
  homeDir?: string;
}

/**
 * How a pod sandbox gets its namespaces: `root` creates them directly (root or CAP_SYS_ADMIN); `user` creates a
 * user namespace first (`unshare -r`, root mapped to the caller), which a plain user may do where the kernel allows it.
 */
export type NamespaceMode = 'root' | 'user';

/** The machine cannot create the pod sandboxes; the message says what is missing and how to enable it. */
export class NamespacesUnavailableError extends Error {}

/**
 * Exit code of `npm run demo`, `npm run sim` and the test runner when no pod sandbox can be made: sysexits'
 * EX_UNAVAILABLE, so a script tells "this machine cannot run it" from "it ran and failed" (1).
 */
export const EXIT_NAMESPACES_UNAVAILABLE = 69;

/** Forces user-namespace pods even as root, so that mode can be tested on a root CI machine. */
export const USERNS_ENV = 'RECCRED_SIM_USERNS';

interface Sandbox {
  spec: PodSpec;
  unshare: ChildProcess | null;
  /** The forked child holding the namespaces (nsenter's target). */
  pid: number;
  /** Its mount namespace id, to find every process left inside at stop time. */
  mntNs: string;
  ready: Promise<void>;
  argvOffset: number;
  argvRest: Buffer;
  execs: Set<ChildProcess>;
}

const FORWARDER = join(dirname(fileURLToPath(import.meta.url)), 'forwarder.mjs');
const POD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/**
 * HOME of a command run through exec. A container runtime sets it from the image (or the user's passwd
 * entry); in the sandbox it is a folder on the pod's own /opt tmpfs, so a `.curlrc` placed there stays in
 * the pod and never touches the host's home.
 */
export const POD_HOME = '/opt/.sim/home';
const homeDirOf = (spec: PodSpec) => spec.homeDir ?? join(dirname(spec.credentialsDir), 'home');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The names go into the setup script's environment, which removes /usr/bin/NAME for each: plain command names only. */
function missingTools(spec: PodSpec): string {
  const names = spec.missingTools ?? [];
  const bad = names.find((t) => !/^[a-z0-9][a-z0-9_.+-]*$/.test(t));
  if (bad !== undefined) throw new Error(`pod ${spec.name}: "${bad}" is not a command name`);
  return names.join(' ');
}

const SANDBOX_FLAGS = ['--mount', '--net', '--uts', '--fork', '--propagation', 'private'];
/** unshare's arguments for a sandbox (`--map-root-user` is `-r`: our uid and gid become root inside). */
const unshareArgs = (mode: NamespaceMode) => (mode === 'user' ? ['--map-root-user', ...SANDBOX_FLAGS] : SANDBOX_FLAGS);
/**
 * nsenter's arguments to enter a pod. In user mode the user namespace comes first (it holds the rights over the
 * others), keeping our uid and groups, which it maps to root: plain nsenter would call setgroups, which `unshare -r`
 * denies in the namespace.
 */
export const nsenterArgs = (mode: NamespaceMode, pid: number) => ['-t', String(pid), ...(mode === 'user' ? ['--user', '--preserve-credentials'] : []), '-m', '-n', '-u', '--'];

/** Builds a throwaway sandbox and mounts a tmpfs in it, as the setup script does first: undefined when that works, else why not. */
function probe(mode: NamespaceMode): string | undefined {
  const r = spawnSync('unshare', [...unshareArgs(mode), '--', '/bin/sh', '-c', 'mount -t tmpfs -o size=1m simprobe /opt'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (r.error) return (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'unshare is not installed' : r.error.message;
  if (r.status !== 0) return r.stderr.trim() || `exit ${r.status ?? r.signal}`;
  return undefined;
}

/**
 * Picks how the pod sandboxes get their namespaces on this machine: directly where it can (root), else inside a user
 * namespace. `prefer`, or RECCRED_SIM_USERNS=1, allows one mode only. Throws NamespacesUnavailableError saying what is
 * missing and how to enable it when nothing works.
 */
export function checkNamespaces(prefer?: NamespaceMode): NamespaceMode {
  if (process.platform !== 'linux') {
    unavailable(
      [
        `The simulated cluster runs only on Linux (this is ${process.platform}): each simulated pod is a set of Linux namespaces.`,
        'Run it in a Linux VM or container (as root, or with user namespaces allowed), or in WSL2 on Windows.',
      ].join('\n'),
    );
  }
  const only = prefer ?? (process.env[USERNS_ENV] === '1' ? 'user' : undefined);
  const failures: [NamespaceMode, string][] = [];
  for (const mode of only ? [only] : (['root', 'user'] as const)) {
    const failure = probe(mode);
    if (failure === undefined) return mode;
    failures.push([mode, failure]);
  }
  unavailable(namespacesHelp(failures, only !== undefined && prefer === undefined));
}

let exitWhenUnavailable = false;

/**
 * For the test runner (test/runner-setup.ts): the first test that starts a simulated cluster on a machine that
 * cannot make pods stops the whole run with the plain message and EXIT_NAMESPACES_UNAVAILABLE, instead of every
 * test file failing with the same stack trace.
 */
export function exitWhenNamespacesUnavailable(): void {
  exitWhenUnavailable = true;
}

function unavailable(message: string): never {
  if (exitWhenUnavailable) {
    process.stderr.write(`\n${message}\n`);
    process.exit(EXIT_NAMESPACES_UNAVAILABLE);
  }
  throw new NamespacesUnavailableError(message);
}

/** The sysctls that allow or refuse unprivileged user namespaces on common distributions, and the value that allows them. */
const USERNS_SYSCTLS = [
  { name: 'user.max_user_namespaces', allow: '15000', blocks: (v: string) => v === '0', where: 'all distributions' },
  { name: 'kernel.unprivileged_userns_clone', allow: '1', blocks: (v: string) => v === '0', where: 'Debian, Ubuntu' },
  { name: 'kernel.apparmor_restrict_unprivileged_userns', allow: '0', blocks: (v: string) => v !== '0', where: 'Ubuntu 24.04 (AppArmor)' },
];

function namespacesHelp(failures: [NamespaceMode, string][], forced: boolean): string {
  const uid = process.getuid?.() ?? -1;
  const lines = [
    'The simulated cluster cannot start its pods: each pod is a Linux mount and network namespace, made as root or',
    'inside a user namespace, and neither works here:',
  ];
  for (const [mode, why] of failures) {
    const how = mode === 'root' ? `as ${uid === 0 ? 'root' : `uid ${uid}, not root`} (unshare --mount --net)` : 'in a user namespace (unshare -r --mount --net)';
    lines.push(`  ${how}: ${why}`);
  }
  if (forced) lines.push(`  (${USERNS_ENV}=1 is set: only user namespaces were tried)`);
  if (failures.some(([, why]) => why === 'unshare is not installed')) {
    lines.push('Install util-linux (unshare, nsenter) and iproute2 (ip), e.g. apt-get install util-linux iproute2.');
    return lines.join('\n');
  }
  lines.push('These sysctls govern user namespaces. To allow them for every user, run as root (and put the setting in', '/etc/sysctl.d/ to keep it after a reboot):');
  for (const s of USERNS_SYSCTLS) {
    let now: string;
    try {
      now = readFileSync(`/proc/sys/${s.name.replace(/\./g, '/')}`, 'utf8').trim();
    } catch {
      now = '';
    }
    const state = now === '' ? 'not on this kernel' : `now ${now}${s.blocks(now) ? ', which refuses them' : ''}`;
    lines.push(`  sysctl -w ${s.name}=${s.allow}`.padEnd(60) + `  # ${s.where}; ${state}`);
  }
  lines.push(
    'Or run it as root. Inside a container (Docker, Podman) the default seccomp profile refuses namespaces even to',
    'root: run the container with --privileged, or run this on the host or in a VM.',
  );
  return lines.join('\n');
}

export class PodSandboxes implements PodExecutor {
  private readonly pods = new Map<string, Sandbox>();
  private readonly setupFile: string;
  /** Every exec runs under strace and each process it exec'd is recorded (see the traceExecs option). */
  readonly tracesExecs: boolean;
  private traces = 0;
  /** Traced execs whose log was read and held at least one execve (the nsenter that enters the pod). */
  tracedSessions = 0;
  /** Traced execs whose log held no execve although nobody killed them (strace failed to attach, or lost its log). */
  readonly lostTraces: string[] = [];

  constructor(
    private readonly o: {
      dir: string;
      audit: AuditLog;
      /** Runs before each (re)start: the kubelet re-syncs the credentials folder here. */
      beforeStart?: (spec: PodSpec) => void | Promise<void>;
      /**
       * Fleet mode: no node forwarder in the pod (curl is pointed at the REST socket by its wrapper), so a
       * pod costs about 1 MB and 20 ms instead of 40 MB and 170 ms. localhost:9443 is then not listening
       * for anything but curl.
       */
      light?: boolean;
      /** How the sandboxes get their namespaces (from checkNamespaces). */
      mode: NamespaceMode;
      /**
       * Record every process exec'd in a pod (path and argv, whatever the program) by running each exec under
       * strace. Off: wrappers record the argv of curl, sh and bash only. Default: on for normal pods where
       * strace is installed, off for light pods (fleet mode stays cheap; their curl wrapper would show too).
       */
      traceExecs?: boolean;
    },
  ) {
    if (o.traceExecs && !straceInstalled()) throw new Error('traceExecs needs strace (apt-get install strace), and ptrace allowed');
    this.tracesExecs = o.traceExecs ?? (!o.light && straceInstalled());
    mkdirSync(o.dir, { recursive: true });
    this.setupFile = join(o.dir, 'pod-setup.sh');
    writeFileSync(this.setupFile, SETUP_SCRIPT, { mode: 0o755 });
  }

  async start(spec: PodSpec): Promise<void> {
    const key = `${spec.namespace}/${spec.name}`;
    if (this.pods.has(key)) throw new Error(`pod ${key} already has a sandbox`);
    const sb: Sandbox = {
      spec,
      unshare: null,
      pid: 0,
      mntNs: '',
      ready: Promise.resolve(),
      argvOffset: 0,
      argvRest: Buffer.alloc(0),
      execs: new Set(),
    };
    this.pods.set(key, sb);
    sb.ready = this.boot(sb);
    await sb.ready;
  }

  private async boot(sb: Sandbox): Promise<void> {
    const { spec } = sb;
    mkdirSync(spec.credentialsDir, { recursive: true });
    mkdirSync(homeDirOf(spec), { recursive: true });
    mkdirSync(dirname(spec.argvLog), { recursive: true });
    if (!existsSync(spec.argvLog)) writeFileSync(spec.argvLog, '');
    await this.o.beforeStart?.(spec);
    const child = spawn('unshare', [...unshareArgs(this.o.mode), '--', '/bin/sh', this.setupFile], {
      // stdin stays open for the forwarder's lifetime: it exits when we die (see forwarder.mjs).
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        PATH: POD_PATH,
        SIM_CREDENTIALS: spec.credentialsDir,
        SIM_HOME: homeDirOf(spec),
        SIM_POD_HOME: POD_HOME,
        SIM_HOSTNAME: spec.name,
        SIM_ARGV_LOG: spec.argvLog,
        SIM_MISSING_TOOLS: missingTools(spec),
        SIM_LIGHT: this.o.light ? '1' : '0',
        SIM_RECORD_ARGV: this.tracesExecs ? '0' : '1',
        SIM_NODE: process.execPath,
        SIM_FORWARDER: FORWARDER,
        SIM_REST_SOCKET: spec.socketPath,
      },
    });
    sb.unshare = child;
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const pid = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`pod ${spec.name}: sandbox not ready after 15 s: ${stderr}`)), 15_000);
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = out.match(/ready (\d+)\n/);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new NamespacesUnavailableError(`cannot start unshare: ${e.message}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new NamespacesUnavailableError(`pod ${spec.name}: sandbox setup failed (exit ${code}): ${stderr.trim()}`));
      });
    });
    sb.pid = pid;
    sb.mntNs = readlinkSync(`/proc/${pid}/ns/mnt`);
  }

  private sandbox(namespace: string, name: string): Sandbox {
    const sb = this.pods.get(`${namespace}/${name}`);
    if (!sb) throw new Error(`no sandbox for pod ${namespace}/${name}`);
    return sb;
  }

  /** Host side of the pod's HOME: files written here are in the exec user's home inside the pod. */
  podHome(namespace: string, name: string): string {
    return homeDirOf(this.sandbox(namespace, name).spec);
  }

  get mode(): NamespaceMode {
    return this.o.mode;
  }

  pid(namespace: string, name: string): number | undefined {
    return this.pods.get(`${namespace}/${name}`)?.pid;
  }

  /** Runs a command inside the pod's namespaces with a clean environment, like a container runtime exec. */
  exec(request: ExecRequest): ExecProcess {
    const sb = this.sandbox(request.namespace, request.pod);
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let child: ChildProcess | null = null;
    let killed = false;
    const exit = (async () => {
      // A restarting pod is waited for rather than failed: exec lands on the new container.
      await sb.ready;
      if (killed) return { code: null, signal: 'SIGKILL' as NodeJS.Signals };
      const nsenter = ['nsenter', ...nsenterArgs(this.o.mode, sb.pid), ...request.command];
      // Traced: strace -DD keeps nsenter as our child (same pid, group, exit status) and logs every execve below it.
      const trace = this.tracesExecs ? join(dirname(sb.spec.argvLog), `exec-${++this.traces}.strace`) : undefined;
      const [file, ...args] = trace ? ['strace', ...straceArgs(trace, 'execs'), ...nsenter] : nsenter;
      const c = spawn(file!, args, {
        cwd: '/',
        env: { PATH: POD_PATH, HOSTNAME: request.pod, HOME: POD_HOME },
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      });
      child = c;
      sb.execs.add(c);
      if (request.stdin) stdin.pipe(c.stdin!);
      else c.stdin!.end();
      c.stdin!.on('error', () => {});
      c.stdout!.pipe(stdout);
      c.stderr!.pipe(stderr);
      const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        c.once('error', (e) => {
          stderr.end(`exec failed: ${e.message}\n`);
          resolve({ code: 126, signal: null });
        });
        c.once('close', (code, signal) => resolve({ code, signal }));
      });
      sb.execs.delete(c);
      if (trace) this.recordTrace(sb, trace, killed);
      this.collectPod(sb);
      return result;
    })().catch((e: unknown) => {
      stderr.end(`exec failed: ${String(e)}\n`);
      return { code: 126, signal: null };
    });
    return {
      stdin,
      stdout,
      stderr,
      exit,
      kill: () => {
        killed = true;
        const c = child as ChildProcess | null;
        if (c?.pid) {
          try {
            process.kill(-c.pid, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }
      },
    };
  }

  /**
   * Every program a traced exec ran (nsenter, the shell, each command, failed PATH lookups too) into the audit
   * log, with the path it was exec'd from. The tracer has exited when the exec's stdio closes: the log is whole.
   */
  private recordTrace(sb: Sandbox, file: string, killed: boolean): void {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      /* counted as lost below */
    }
    rmSync(file, { force: true });
    const { execs } = parseTrace(text);
    if (execs.length > 0) this.tracedSessions += 1;
    // A session killed before nsenter started has nothing to record; any other empty log is a hole in the scan.
    else if (!killed) this.lostTraces.push(`${sb.spec.namespace}/${sb.spec.name} ${file}`);
    for (const e of execs) {
      const failed = e.result === -1 ? { failed: true as const } : {};
      this.o.audit.record({ kind: 'argv', time: Date.now(), namespace: sb.spec.namespace, pod: sb.spec.name, argv: e.argv, path: e.path, ...failed });
    }
  }

  /** Reads the argv the wrappers recorded since last time into the audit log. */
  collectArgv(): void {
    for (const sb of this.pods.values()) this.collectPod(sb);
  }

  private collectPod(sb: Sandbox): void {
    let fd: number;
    try {
      fd = openSync(sb.spec.argvLog, 'r');
    } catch {
      return;
    }
    try {
      const size = fstatSync(fd).size;
      if (size <= sb.argvOffset) return;
      const fresh = Buffer.alloc(size - sb.argvOffset);
      readSync(fd, fresh, 0, fresh.length, sb.argvOffset);
      sb.argvOffset = size;
      let buf = Buffer.concat([sb.argvRest, fresh]);
      // Records: "argc\0argv0\0...argv[argc]\0" ($0 plus argc arguments).
      for (;;) {
        const fields: string[] = [];
        let pos = 0;
        let need = 1;
        while (fields.length < need) {
          const end = buf.indexOf(0, pos);
          if (end < 0) break;
          fields.push(buf.subarray(pos, end).toString('utf8'));
          pos = end + 1;
          if (fields.length === 1) need = Number(fields[0]) + 2;
        }
        if (fields.length < need || !Number.isFinite(need)) break;
        buf = buf.subarray(pos);
        this.o.audit.record({
          kind: 'argv',
          time: Date.now(),
          namespace: sb.spec.namespace,
          pod: sb.spec.name,
          argv: fields.slice(1),
        });
      }
      sb.argvRest = Buffer.from(buf);
    } finally {
      closeSync(fd);
    }
  }

  /** Kills the pod's sandbox and everything in it, then builds a fresh one (files re-synced by beforeStart). */
  async restartPod(namespace: string, name: string): Promise<void> {
    const sb = this.sandbox(namespace, name);
    const previous = sb.ready;
    // Execs arriving meanwhile wait on this promise and land in the new sandbox.
    sb.ready = (async () => {
      await previous.catch(() => {});
      this.collectPod(sb);
      await this.kill(sb);
      await this.boot(sb);
    })();
    await sb.ready;
  }

  /** Kills every sandbox and every process inside; nothing (process, mount, namespace) survives. */
  async stopAll(): Promise<void> {
    const all = [...this.pods.values()];
    this.pods.clear();
    await Promise.all(
      all.map(async (sb) => {
        await sb.ready.catch(() => {});
        this.collectPod(sb);
        await this.kill(sb);
      }),
    );
  }

  private async kill(sb: Sandbox): Promise<void> {
    const unshare = sb.unshare;
    const running = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;
    const unshareGone = unshare && running(unshare) ? new Promise<void>((r) => unshare.once('exit', () => r())) : Promise.resolve();
    // Kill what lives in the namespace first (the forwarder and any exec'd command) while unshare is
    // still there to reap the forwarder: killing unshare first would leave an orphaned zombie.
    for (let round = 0; round < 200; round++) {
      const pids = sb.mntNs ? processesIn(sb.mntNs) : [];
      if (sb.pid && !pids.includes(sb.pid) && alive(sb.pid) && !sb.mntNs) pids.push(sb.pid);
      if (!pids.length) break;
      for (const p of pids) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await sleep(5);
    }
    // unshare --fork exits once its child is gone; force it if it lingers.
    await Promise.race([unshareGone, sleep(1000)]);
    if (unshare && running(unshare)) {
      unshare.kill('SIGKILL');
      await unshareGone;
    }
    for (const c of sb.execs) await new Promise<void>((r) => (running(c) ? c.once('exit', () => r()) : r()));
    sb.execs.clear();
    sb.unshare = null;
  }
}

/** False for exited and zombie processes. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Every process whose mount namespace is `ns` (as /proc/<pid>/ns/mnt reads). */
function processesIn(ns: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/mnt`) === ns && alive(Number(entry))) out.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}
