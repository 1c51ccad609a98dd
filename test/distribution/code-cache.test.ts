// The linux-amd64 executable carries a V8 code cache of its command-line script (scripts/sea/code-cache.ts):
// V8 must take it as it comes, the same sources must make the same bytes (reproducible builds), and a cache
// V8 refuses (other V8 flags, through NODE_OPTIONS) must cost nothing but time: the same answer, nothing
// more on stderr. What V8 decided is read from vm.Script, which the loader compiles with (a preload given
// through NODE_OPTIONS, which the executable honours and which sets no V8 flag).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { carriesCodeCache } from '../../scripts/build-binaries.js';
import { bundlePath, scriptPath } from '../../scripts/build-bundle.js';
import { makeCodeCache } from '../../scripts/sea/code-cache.js';
import { findTarget, TARGETS } from '../../scripts/sea/runtime.js';
import { freshBinaries } from './built-binaries.js';

describe('the code cache of the linux-amd64 executable', function () {
  this.timeout(300_000);
  let dir: string;
  let exe: string;
  const probe = () => path.join(dir, 'probe.cjs');

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-code-cache-'));
    exe = (await freshBinaries([findTarget('linux-amd64')])).paths[0]!;
    // Reports every vm.Script compiled with a cache: its size and whether V8 rejected it.
    fs.writeFileSync(
      probe(),
      `const vm = require('vm'); const Script = vm.Script;
vm.Script = class extends Script { constructor(code, options) { super(code, options);
  if (options && options.cachedData) require('fs').writeSync(2, '[probe] cache ' + options.cachedData.length + ' rejected ' + this.cachedDataRejected + '\\n'); } };\n`,
    );
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  // Completion of a flag: the command line loads, and nothing reaches for a cluster.
  const complete = (nodeOptions: string) => spawnSync(exe, ['__complete', '--', 'get', '--names'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: nodeOptions } });

  it('is used as it is', () => {
    const r = complete(`--require ${probe()}`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '--namespace\n:4\n');
    assert.match(r.stderr, /^\[probe\] cache \d+ rejected false\n$/);
  });

  it("get's own script (get without yargs) comes with its cache too, used as it is", () => {
    const r = spawnSync(exe, ['get', 'rec', '--kubeconfig', path.join(dir, 'missing')], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: `--require ${probe()}` } });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^\[probe\] cache \d+ rejected false\nerror: .*kubeconfig/);
  });

  it('loads the Kubernetes client, a script without a cache, from its assets for an auth-provider (oidc) user', () => {
    const kubeconfig = path.join(dir, 'oidc-kubeconfig');
    fs.writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: k, cluster: {server: "https://127.0.0.1:1"}}]\n' +
        'users: [{name: u, user: {auth-provider: {name: oidc, config: {client-id: x, id-token: t, idp-issuer-url: "https://127.0.0.1:1"}}}}]\n' +
        'contexts: [{name: c, context: {cluster: k, user: u}}]\n',
    );
    const r = spawnSync(exe, ['get', 'rec', '--request-timeout', '1s'], { encoding: 'utf8', env: { ...process.env, KUBECONFIG: kubeconfig } });
    // Past the client (it adds the token), at the closed port.
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^error: cannot reach the Kubernetes API: connect ECONNREFUSED 127\.0\.0\.1:1/);
  });

  it('when V8 refuses it (a V8 flag in NODE_OPTIONS), the answer is the same and nothing more is printed', () => {
    const r = complete(`--max-old-space-size=1000 --require ${probe()}`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '--namespace\n:4\n');
    assert.match(r.stderr, /^\[probe\] cache \d+ rejected true\n$/);
  });

  it('is made the same from the same script', () => {
    // The script the executable was built from (freshBinaries built it, or found it current).
    const cli = scriptPath(bundlePath, 'cli');
    const [a, b] = [makeCodeCache('cli', cli, path.join(dir, 'a.cache')), makeCodeCache('cli', cli, path.join(dir, 'b.cache'))];
    assert.ok(a.length > 100_000, `a cache of ${a.length} bytes`);
    assert.ok(a.equals(b), 'two caches of the same script differ');
  });

  it('only for the executable whose runtime makes it: this machine runs linux-amd64', () => {
    assert.deepEqual(
      TARGETS.filter(carriesCodeCache).map((t) => `${t.os}-${t.arch}`),
      ['linux-amd64'],
    );
  });
});
