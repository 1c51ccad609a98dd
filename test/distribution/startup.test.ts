// --help and version must not pay for the Kubernetes client, nor `get` for yargs: the bundle is built with a
// marker in every module of @kubernetes/client-node, zod, ws and yargs, and run as the executable runs it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildBundle } from '../../scripts/build-bundle.js';

describe('start-up of the bundled executable', function () {
  this.timeout(120_000);
  let dir: string;
  let bundle: string;
  const preload = () => path.join(dir, 'report.cjs');

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-startup-'));
    bundle = (await buildBundle(path.join(dir, 'kubectl-reccred.cjs'), { markEvaluated: /node_modules[\\/](@kubernetes[\\/]client-node|zod|ws|yargs)[\\/]/ })).path;
    // Prints what was evaluated when the process exits, on fd 3 so that the command's own output stays apart.
    fs.writeFileSync(preload(), `process.on('exit', () => require('fs').writeSync(3, JSON.stringify(globalThis.__reccredEvaluated ?? [])));\n`);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function evaluated(args: string[], env: NodeJS.ProcessEnv = {}): string[] {
    const r = spawnSync(process.execPath, ['-r', preload(), bundle, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
    });
    return JSON.parse(String(r.output[3])) as string[];
  }

  const kubeClient = (mods: string[]) => mods.filter((m) => m.includes('@kubernetes/client-node'));

  it('--help does not evaluate @kubernetes/client-node', () => {
    assert.deepEqual(kubeClient(evaluated(['--help'])), []);
  });

  it('version does not evaluate @kubernetes/client-node', () => {
    assert.deepEqual(kubeClient(evaluated(['version'])), []);
  });

  const kubeconfigFor = (user: string) => {
    const kubeconfig = path.join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}`);
    fs.writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: k, cluster: {server: "https://127.0.0.1:1"}}]\n' +
        `users: [{name: u, user: ${user}}]\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n`,
    );
    return kubeconfig;
  };

  it("a command that talks to the cluster as a token user does not evaluate the client either (the connection is the plugin's own)", () => {
    // No cluster needed: the connection to a closed port fails after the connection is built.
    const mods = evaluated(['get', 'rec', '--request-timeout', '1s'], { KUBECONFIG: kubeconfigFor('{token: t}') });
    assert.ok(mods.length > 0, 'the marker reported');
    assert.deepEqual(kubeClient(mods), []);
    // Nor the WebSocket client, which only an exec session needs.
    assert.deepEqual(
      mods.filter((m) => /node_modules[\\/]ws[\\/]/.test(m)),
      [],
    );
  });

  const yargsModules = (mods: string[]) => mods.filter((m) => /node_modules[\\/]yargs[\\/]/.test(m));

  it('get in its plain forms does not evaluate yargs (src/commands/plain-argv.ts), and with -v it does', () => {
    const env = { KUBECONFIG: kubeconfigFor('{token: t}') };
    const plain = evaluated(['get', 'rec', '-n', 'redis', '--request-timeout', '1s'], env);
    assert.ok(
      plain.some((m) => m.includes('node_modules/zod/')),
      'the marker reported get loading zod',
    );
    assert.deepEqual(yargsModules(plain), []);
    assert.ok(yargsModules(evaluated(['get', 'rec', '-v', '--request-timeout', '1s'], env)).length > 0, 'get -v goes through yargs');
  });

  it('the marker works: an auth-provider (oidc) user, which only the client implements here, evaluates it', () => {
    const mods = evaluated(['get', 'rec', '--request-timeout', '1s'], {
      KUBECONFIG: kubeconfigFor('{auth-provider: {name: oidc, config: {client-id: x, id-token: t, idp-issuer-url: "https://127.0.0.1:1"}}}'),
    });
    assert.ok(kubeClient(mods).length > 0, `expected @kubernetes/client-node among ${mods.length} modules`);
  });
});
