// The pods as a plain user makes them (issue 19): in user namespaces (`unshare -r`, entered with nsenter --user
// --preserve-credentials), with everything the root-made pods have. And where the machine refuses namespaces,
// `npm run demo`, `npm run sim` and the test runner stop with a plain message and exit code 69.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimCluster, type SimCluster } from './cluster.js';
import { EXIT_NAMESPACES_UNAVAILABLE, USERNS_ENV } from './pods/sandbox.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CREDS = '/opt/redislabs/credentials';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: SpawnOptions & { input?: string } = {}): Promise<Run> {
  return new Promise((res, reject) => {
    const p = spawn(cmd, args, { ...opts, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => res({ code, stdout, stderr }));
    p.stdin!.end(opts.input ?? '');
  });
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The pod's REST call with the mounted credentials; printf is a shell builtin, so they never reach an argv. */
const REST_CHECK = `printf 'user = "%s:%s"\\n' "$(cat ${CREDS}/username)" "$(cat ${CREDS}/password)" | curl -sk -K - -o /dev/null -w '%{http_code}' https://localhost:9443/v1/cluster`;

/** Processes still in any of these mount or user namespaces, or naming `dir` in their command line. */
function leftovers(namespaces: string[], dir: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const ns = [readlinkSync(`/proc/${pid}/ns/mnt`), readlinkSync(`/proc/${pid}/ns/user`)];
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (ns.some((n) => namespaces.includes(n)) || cmd.includes(dir)) out.push(`${pid} ${cmd}`);
    } catch {
      /* gone, or not ours to read */
    }
  }
  return out;
}

describe('pod sandboxes in user namespaces (as a plain user makes them)', function () {
  this.timeout(60_000);
  let sim: SimCluster;
  let cacheDir: string;
  const kubectl = (args: string[]) => run('kubectl', ['--kubeconfig', sim.kubeconfig, '--cache-dir', cacheDir, ...args]);
  const execIn = (pod: string, script: string) => kubectl(['exec', pod, '-c', 'redis-enterprise-node', '--', 'sh', '-c', script]);

  before(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), 'kubectl-cache-'));
    // Asked for explicitly, so this runs in user namespaces as root too.
    sim = await startSimCluster({ recs: [{ name: 'rec' }], pods: 2, syncDelayMs: 500, operatorIntervalMs: 200, podNamespaces: 'user' });
  });

  after(async () => {
    await sim?.stop();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('each pod has its own user namespace, and exec enters it as root of that namespace', async () => {
    assert.equal(sim.podNamespaces, 'user');
    const own = readlinkSync('/proc/self/ns/user');
    const podNs = ['rec-0', 'rec-1'].map((p) => readlinkSync(`/proc/${sim.sandboxes.pid('default', p)}/ns/user`));
    assert.ok(!podNs.includes(own));
    assert.notEqual(podNs[0], podNs[1]);
    const r = await execIn('rec-0', 'readlink /proc/self/ns/user; id -u; hostname');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [podNs[0], '0', 'rec-0']);
  });

  it('mounted credentials and the REST API on localhost:9443, with the argv audited', async () => {
    const r = await execIn('rec-0', `cat ${CREDS}/username; echo; ${REST_CHECK}`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'demo@redis.com\n200');
    sim.collectArgv();
    const argv = sim.audit.events().flatMap((e) => (e.kind === 'argv' && e.pod === 'rec-0' ? [e.argv] : []));
    const curl = argv.find((a) => basename(a[0]!) === 'curl');
    assert.ok(curl?.includes('https://localhost:9443/v1/cluster'), JSON.stringify(argv));
    assert.ok(!argv.flat().some((a) => a.includes(sim.credentials('rec')!.password)));
  });

  it("the kubelet's ..data swap reaches the pod, and a restarted pod works again", async () => {
    const password = 'Userns-Pass-19';
    sim.redis('rec').addPassword(sim.redis('rec').findUser('demo@redis.com')!.uid, password);
    const patch = await kubectl(['patch', 'secret', 'rec', '--type', 'merge', '-p', JSON.stringify({ stringData: { password } })]);
    assert.equal(patch.code, 0, patch.stderr);
    await until('rec-1 to mount the new password', async () => (await execIn('rec-1', `cat ${CREDS}/password`)).stdout === password);
    // rec-0: the master, the pod that answers REST calls itself (the others redirect).
    const before = sim.sandboxes.pid('default', 'rec-0');
    await sim.restartPod('default', 'rec-0');
    assert.notEqual(sim.sandboxes.pid('default', 'rec-0'), before);
    const r = await execIn('rec-0', REST_CHECK);
    assert.equal(r.stdout, '200', r.stderr);
  });

  it('stop() leaves no process, mount or namespace behind', async () => {
    const namespaces = sim.recs[0]!.pods.flatMap((p) => ['mnt', 'user'].map((n) => readlinkSync(`/proc/${sim.sandboxes.pid('default', p)}/ns/${n}`)));
    const dir = sim.dir;
    await sim.stop();
    assert.deepEqual(leftovers(namespaces, dir), []);
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes('simpod'));
    assert.throws(() => readdirSync(dir));
  });
});

describe('npm run sim as an unprivileged user', function () {
  this.timeout(60_000);

  it('runs its pods in user namespaces: exec, credentials, REST, and a clean stop', async function () {
    // Needs root to become another user, and that user must be able to read this clone.
    const nobody = spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim();
    const group = spawnSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).stdout.trim();
    const as = ['--reuid', nobody, '--regid', group, '--clear-groups', '--'];
    if (process.getuid?.() !== 0 || !nobody || spawnSync('setpriv', [...as, 'test', '-r', join(repo, 'node_modules/tsx/package.json')]).status !== 0) {
      this.skip();
    }
    const home = mkdtempSync(join(tmpdir(), 'reccred-nobody-'));
    chmodSync(home, 0o755);
    chownSync(home, Number(nobody), Number(group));
    const kubeconfig = join(home, 'kubeconfig');
    // setpriv execs (no parent left behind to forward signals): the SIGTERM below reaches the sim itself.
    const child = spawn('setpriv', [...as, process.execPath, '--import', 'tsx', 'test/sim/cli.ts', '--recs', '1', '--pods', '1', '--write-kubeconfig', kubeconfig], {
      cwd: repo,
      env: { PATH: process.env.PATH, HOME: home, TMPDIR: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    try {
      await until('the sim to start', () => out.includes('Ctrl-C stops it') || child.exitCode !== null, 30_000);
      assert.match(out, /pods in user namespaces/, out);
      const r = await run('kubectl', [
        '--kubeconfig',
        kubeconfig,
        '--cache-dir',
        join(home, 'cache'),
        'exec',
        'rec-0',
        '-c',
        'redis-enterprise-node',
        '--',
        'sh',
        '-c',
        `id -u; ${REST_CHECK}`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '0\n200');
      child.kill('SIGTERM');
      assert.equal(await exited, 0, out);
      assert.match(out, /stopped, nothing left behind/);
      assert.deepEqual(leftovers([], home), []);
    } finally {
      child.kill('SIGKILL');
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('where namespaces are refused', function () {
  this.timeout(60_000);
  let stub: string;
  let env: NodeJS.ProcessEnv;

  before(() => {
    // An unshare that fails as the kernel does for a plain user without user namespaces (or seccomp in a container).
    stub = mkdtempSync(join(tmpdir(), 'reccred-no-ns-'));
    writeFileSync(join(stub, 'unshare'), '#!/bin/sh\necho "unshare: unshare failed: Operation not permitted" >&2\nexit 1\n', { mode: 0o755 });
    // TMPDIR too: a test file stopped in its before() never runs its after(), so what it made there goes with the stub.
    env = { ...process.env, PATH: `${stub}:${process.env.PATH ?? ''}`, TMPDIR: stub };
    delete env[USERNS_ENV];
  });

  after(() => rmSync(stub, { recursive: true, force: true }));

  const commands: [string, string[]][] = [
    ['npm', ['run', 'demo']],
    ['npm', ['run', 'sim']],
    ['npx', ['mocha', 'test/sim/sim.test.ts']],
  ];
  for (const [cmd, args] of commands) {
    it(`${cmd} ${args.join(' ')} says what is missing and how to enable it, exit ${EXIT_NAMESPACES_UNAVAILABLE}, no stack trace`, async () => {
      const r = await run(cmd, args, { cwd: repo, env });
      assert.equal(r.code, EXIT_NAMESPACES_UNAVAILABLE, r.stdout + r.stderr);
      assert.match(r.stderr, /cannot start its pods/);
      assert.match(r.stderr, /in a user namespace \(unshare -r --mount --net\): unshare: unshare failed: Operation not permitted/);
      for (const sysctl of ['user.max_user_namespaces', 'kernel.unprivileged_userns_clone=1', 'kernel.apparmor_restrict_unprivileged_userns=0']) {
        assert.ok(r.stderr.includes(`sysctl -w ${sysctl}`), sysctl);
      }
      assert.match(r.stderr, /run it as root/);
      assert.doesNotMatch(r.stdout + r.stderr, /^\s+at /m);
    });
  }
});
