// `npm run sim -- [options]`: the simulated cluster as a long-running process for demos and manual tries.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startSimCluster, type ExecProtocol, type SimOptions } from './cluster.js';
import { EXIT_NAMESPACES_UNAVAILABLE, NamespacesUnavailableError } from './pods/sandbox.js';

const USAGE = `usage: npm run sim -- [options]

  --write-kubeconfig FILE   write the admin user's kubeconfig to FILE once the cluster is ready
  --write-env FILE          write shell lines: VAULT_ADDR, VAULT_TOKEN, VAULT_CACERT, KUBECONFIG_<USER>
  --recs N                  number of RECs (default 2: rec with a Secret, rec-vault with Vault)
  --namespaces M            namespaces the RECs are spread over (default 1)
  --pods P                  pods per REC (default 3)
  --sync-delay DURATION     kubelet secret sync delay, e.g. 2s, 90s, 500ms (default 2s)
  --latency-ms L            latency added to every API request (default 0)
  --exec-protocols LIST     exec WebSocket protocols offered, e.g. v5,v4 or v4 (default v5,v4)
  --operator-interval DURATION   how often operator components re-read and authenticate (default 1s)
  --dir DIR                 work folder (default: a fresh temporary folder, removed at exit)

The pods are Linux namespaces: made directly as root, else inside a user namespace (as a normal user).
RECCRED_SIM_USERNS=1 makes them in user namespaces even as root.
Exit codes: 0 stopped by Ctrl-C or SIGTERM, 2 bad option, 69 this machine can make no pod namespaces
(the message says what is missing and how to allow it).
`;

export function parseDuration(text: string): number {
  const m = text.trim().match(/^(\d+(?:\.\d+)?)(ms|s|m|h)?$/);
  if (!m) throw new Error(`invalid duration "${text}" (examples: 500ms, 2s, 90s, 5m)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}

interface CliOptions {
  sim: SimOptions;
  kubeconfigFile?: string;
  envFile?: string;
}

function parseArgs(argv: string[]): CliOptions {
  const out: CliOptions = { sim: {} };
  const int = (flag: string, v: string) => {
    if (!/^\d+$/.test(v)) throw new Error(`${flag} needs a whole number, got "${v}"`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    let value: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) [arg, value] = [arg.slice(0, eq), arg.slice(eq + 1)];
    const next = () => {
      if (value !== undefined) return value;
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '-h':
      case '--help':
        process.stdout.write(USAGE);
        process.exit(0);
        break;
      case '--write-kubeconfig':
        out.kubeconfigFile = resolve(next());
        break;
      case '--write-env':
        out.envFile = resolve(next());
        break;
      case '--recs':
        out.sim.recs = int(arg, next());
        break;
      case '--namespaces':
        out.sim.namespaces = Math.max(1, int(arg, next()));
        break;
      case '--pods':
        out.sim.pods = Math.max(1, int(arg, next()));
        break;
      case '--sync-delay':
        out.sim.syncDelayMs = parseDuration(next());
        break;
      case '--latency-ms':
        out.sim.latencyMs = int(arg, next());
        break;
      case '--operator-interval':
        out.sim.operatorIntervalMs = Math.max(10, parseDuration(next()));
        break;
      case '--exec-protocols': {
        const list = next()
          .split(',')
          .map((s) => s.trim().replace(/\.channel\.k8s\.io$/, ''))
          .filter(Boolean);
        for (const p of list) if (p !== 'v5' && p !== 'v4') throw new Error(`unknown exec protocol "${p}" (v5, v4)`);
        out.sim.execProtocols = list as ExecProtocol[];
        break;
      }
      case '--dir':
        out.sim.dir = resolve(next());
        break;
      default:
        throw new Error(`unknown option "${arg}"`);
    }
  }
  return out;
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

async function main(): Promise<number> {
  let opts: CliOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`sim: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  let sim;
  try {
    sim = await startSimCluster(opts.sim);
  } catch (e) {
    if (e instanceof NamespacesUnavailableError) {
      process.stderr.write(`sim: ${e.message}\n`);
      return EXIT_NAMESPACES_UNAVAILABLE;
    }
    throw e;
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\nsim: ${signal}: stopping...\n`);
    await sim.stop();
    process.stderr.write('sim: stopped, nothing left behind\n');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  if (opts.kubeconfigFile) writeFileSync(opts.kubeconfigFile, readFileSync(sim.kubeconfig), { mode: 0o600 });
  const kubeconfig = opts.kubeconfigFile ?? sim.kubeconfig;
  if (opts.envFile) {
    const lines = [
      `export VAULT_ADDR=${shq(sim.vault.addr)}`,
      `export VAULT_TOKEN=${shq(sim.vault.token)}`,
      `export VAULT_CACERT=${shq(sim.vault.caFile)}`,
      `export KUBECONFIG=${shq(kubeconfig)}`,
      ...Object.entries(sim.users).map(([user, u]) => `export KUBECONFIG_${user.toUpperCase().replace(/[^A-Z0-9]/g, '_')}=${shq(u.kubeconfig)}`),
    ];
    writeFileSync(opts.envFile, lines.join('\n') + '\n', { mode: 0o600 });
  }

  const recLines = sim.recs.map(
    (r) =>
      `  ${r.namespace}/${r.name}: ${r.pods.length} pods, credentials in ${
        r.secretType === 'vault' ? `Vault ${r.vault!.mount}/data/${r.vault!.path}` : `Secret ${r.secretName}`
      } (user ${r.username})`,
  );
  process.stdout.write(
    [
      `Simulated Redis Enterprise on Kubernetes is running (API server ${sim.apiUrl}; pods in ${sim.podNamespaces === 'user' ? 'user namespaces' : 'namespaces made as root'}).`,
      ...recLines,
      '',
      'Point kubectl at it:',
      `  export KUBECONFIG=${kubeconfig}`,
      '  kubectl get rec',
      `  kubectl exec -it ${sim.recs[0]?.pods[0] ?? 'rec-0'} -c redis-enterprise-node -- bash`,
      ...(opts.envFile ? [`  . ${opts.envFile}    # Vault and per-user kubeconfigs`] : []),
      '',
      `Users: ${Object.entries(sim.users)
        .map(([u, x]) => `${u} (${x.kubeconfig})`)
        .join(', ')}`,
      `Vault: VAULT_ADDR=${sim.vault.addr} VAULT_CACERT=${sim.vault.caFile}`,
      'Ctrl-C stops it.',
      '',
    ].join('\n'),
  );
  return new Promise<number>(() => {
    /* runs until a signal */
  });
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`sim: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
