// `npm run demo`: the main job on the simulated cluster, through the real kubectl, as a user runs it.
// Starts the sim, runs get, rotate (short settle) and status, proves the old password is refused,
// and shuts everything down.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimCluster, type SimCluster } from '../test/sim/cluster.js';
import { EXIT_NAMESPACES_UNAVAILABLE, NamespacesUnavailableError } from '../test/sim/pods/sandbox.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (text: string) => process.stdout.write(`\n\x1b[1m== ${text}\x1b[0m\n`);

let sim: SimCluster;
try {
  sim = await startSimCluster({ recs: [{ name: 'rec', namespace: 'redis' }], pods: 3, syncDelayMs: 3000, operatorIntervalMs: 1000 });
} catch (e) {
  // A machine that cannot run the pods is not a bug: say what is missing, without a stack trace.
  if (!(e instanceof NamespacesUnavailableError)) throw e;
  process.stderr.write(`demo: ${e.message}\n`);
  process.exit(EXIT_NAMESPACES_UNAVAILABLE);
}
const env = { ...process.env, KUBECONFIG: sim.kubeconfig, PATH: `${path.join(repo, 'bin')}${path.delimiter}${process.env.PATH}` };
let exitCode = 0;

function kubectl(args: string[], input?: string): Promise<number> {
  process.stdout.write(`$ kubectl ${args.join(' ')}\n`);
  return new Promise((resolve) => {
    const child = spawn('kubectl', args, { env, stdio: [input === undefined ? 'inherit' : 'pipe', 'inherit', 'inherit'] });
    if (input !== undefined) child.stdin!.end(input);
    child.on('close', (code) => resolve(code ?? 1));
  });
}

/** HTTP status of GET /v1/cluster from inside rec-0 with the given password; the password goes over stdin. */
function restStatusWith(username: string, password: string): Promise<string> {
  const auth = Buffer.from(`${username}:${password}`).toString('base64');
  const config = `url = "https://localhost:9443/v1/cluster"\ninsecure\nsilent\noutput = "/dev/null"\nwrite-out = "%{http_code}"\nheader = "Authorization: Basic ${auth}"\n`;
  // Asynchronous on purpose: the simulated API server runs in this process and must keep answering.
  return new Promise((resolve) => {
    const child = spawn('kubectl', ['exec', '-i', '-n', 'redis', 'rec-0', '-c', 'redis-enterprise-node', '--', 'curl', '-K', '-'], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.stdin.end(config);
    child.on('close', () => resolve(out.trim() || `error: ${err.trim()}`));
  });
}

try {
  const where = sim.podNamespaces === 'user' ? 'user namespaces' : 'namespaces made as root';
  say(`Simulated cluster up: ${sim.apiUrl}, REC "rec" in namespace "redis" with 3 pods in ${where} (KUBECONFIG=${sim.kubeconfig})`);
  await kubectl(['get', 'rec', '-n', 'redis']);

  say('The admin credentials, masked');
  await kubectl(['reccred', 'get', 'rec', '-n', 'redis']);
  const before = sim.credentials('rec')!;

  say('Rotate: one command, zero downtime (settle shortened to 10s for the demo; the default is the documented 5m)');
  const rotated = await kubectl(['reccred', 'rotate', 'rec', '-n', 'redis', '--settle', '10s']);
  if (rotated !== 0) exitCode = rotated;

  say('Status after the rotation');
  await kubectl(['reccred', 'status', 'rec', '-n', 'redis']);

  const after = sim.credentials('rec')!;
  say('What the cluster REST API answers now (GET /v1/cluster from inside rec-0)');
  const oldStatus = await restStatusWith(before.username, before.password);
  const newStatus = await restStatusWith(after.username, after.password);
  process.stdout.write(`old password: HTTP ${oldStatus} (refused)\nnew password: HTTP ${newStatus}\n`);
  const failures = sim.operator.failures('rec').length;
  process.stdout.write(`operator components' failed logins during the rotation: ${failures}\n`);
  if (oldStatus !== '401' || newStatus !== '200' || failures !== 0) exitCode = exitCode || 1;
  say(exitCode === 0 ? 'Demo complete: the old password is refused, the new one works, nothing failed' : 'Demo FAILED');
} finally {
  await sim.stop();
}
process.exit(exitCode);
