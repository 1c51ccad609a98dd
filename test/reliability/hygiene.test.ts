// Secret hygiene on the output channels the other files do not exercise: every verbosity (-v to
// -vvv), every output format, errors that carry API bodies, --reveal (stdout only), a user password
// printed once, and a wrong stored password (the one refused login, whose value must not be echoed).
// The guard then scans outputs, the audit trail (exec URIs, the argv of every process exec'd in the pods,
// REST paths), the runs' HOME and TMPDIR, new files in the temp folder, annotations and labels; every
// local process of each run is traced from the plugin's exec (it must start none).
import assert from 'node:assert/strict';
import type { SimCluster } from '../sim/cluster.js';
import { startSimCluster } from '../sim/cluster.js';
import { journalExists, validPasswords, guardOperatorLogins } from '../e2e/harness.js';
import { Guard, printTally } from './guard.js';

const NS = 'default';
const REC = 'rec';
const FAST = ['--settle', '1s', '--propagation-timeout', '30s'];

describe('reliability: secret hygiene on every output channel', function () {
  this.timeout(600_000);
  let sim: SimCluster;
  guardOperatorLogins(() => sim);
  let g: Guard;
  const t0 = Date.now();
  let scenarios = 0;
  const creds = () => sim.credentials(REC)!;

  before(async () => {
    sim = await startSimCluster({
      recs: [
        { name: REC, namespace: NS },
        { name: 'rec-wrong', namespace: NS, pods: 1 },
      ],
      pods: 2,
      syncDelayMs: 400,
      operatorIntervalMs: 250,
    });
    g = new Guard(sim);
  });
  after(async () => {
    g?.dispose();
    await sim?.stop();
  });

  for (const [verbosity, output] of [
    ['-v', 'text'],
    ['-vv', 'json'],
    ['-vvv', 'yaml'],
  ] as const) {
    it(`rotate ${verbosity} -o ${output}: diagnostics and the result document carry no password`, async () => {
      const r = await g.run(['rotate', REC, ...FAST, verbosity, '-o', output]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /\[v1\]/, 'diagnostics were printed');
      assert.ok(!/password"?\s*[:=]\s*"?[^\s"*]{8,}/i.test(r.stdout), 'no password field with a value');
      assert.deepEqual(validPasswords(sim, REC, creds().username), [creds().password]);
      scenarios++;
    });
  }

  it('status and get in every format: masked', async () => {
    await g.run(['rotate', REC, ...FAST, '--no-wait']); // a journal with both passwords, for status to describe
    for (const args of [
      ['status', REC],
      ['status', REC, '-o', 'json', '-vvv'],
      ['get', REC, '-o', 'yaml'],
      ['get', REC, '-vv'],
    ]) {
      const r = await g.run(args);
      assert.equal(r.code, 0, r.stderr);
    }
    const f = await g.run(['finish', REC, '-vvv']);
    assert.equal(f.code, 0, f.stderr);
    scenarios++;
  });

  it('get --reveal: the password on stdout only, never on stderr', async () => {
    const r = await g.run(['get', REC, '--reveal', '-vvv'], { stdoutHasSecret: true });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(creds().password), 'revealed on stdout');
    assert.ok(!r.stderr.includes(creds().password), 'not on stderr');
    scenarios++;
  });

  it('errors carrying API bodies (REST 500 on the add, a 500 on the store write) are scrubbed', async () => {
    sim.faults.restErrors.push({ match: /^POST \/v1\/users\/password$/, status: 500, remaining: 1 });
    const r = await g.run(['rotate', REC, ...FAST, '-vvv']);
    sim.faults.restErrors = [];
    assert.equal(r.code, 3, r.stderr);
    const f = await g.run(['abort', REC, '-vvv']);
    assert.equal(f.code, 0, f.stderr);
    sim.faults.apiErrors.push({ match: new RegExp(`^PATCH /api/v1/namespaces/${NS}/secrets/${REC}$`), status: 500, remaining: 1 });
    const r2 = await g.run(['rotate', REC, ...FAST, '-vvv']);
    sim.faults.apiErrors = [];
    assert.equal(r2.code, 3, r2.stderr);
    const f2 = await g.run(['finish', REC, '-vvv']);
    assert.equal(f2.code, 0, f2.stderr);
    assert.equal(journalExists(sim, NS, REC), false);
    scenarios++;
  });

  it('a wrong stored password: one refused login, the value never echoed', async () => {
    const secret = sim.store.get('secrets', NS, 'rec-wrong') as unknown as { data: Record<string, string> };
    const wrong = 'Wrong-Stored-Pa55word!';
    g.addPassword(wrong);
    secret.data.password = Buffer.from(wrong).toString('base64');
    sim.store.update('secrets', secret as never);
    sim.operator.setEnabled('rec-wrong', false); // its components would fail with the wrong secret too
    await sim.waitForSync();
    const r = await g.run(['rotate', 'rec-wrong', ...FAST, '-vvv'], { recs: ['rec-wrong'], mayFailOnce: true });
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.failedAuths, 1, 'exactly one refused login');
    assert.equal(journalExists(sim, NS, 'rec-wrong'), false);
    scenarios++;
  });

  it('user rotate without --to-secret: the password printed once on stdout, never on stderr', async () => {
    sim.redis(REC).createUser({ email: 'hyg@example.com', password: 'Hyg-Initial-Pa55!', role: 'db_viewer' });
    g.addPassword('Hyg-Initial-Pa55!');
    const r = await g.run(['user', 'rotate', REC, '--user', 'hyg@example.com', '--current-password-stdin', '-vvv'], { stdin: 'Hyg-Initial-Pa55!\n', stdoutHasSecret: true });
    assert.equal(r.code, 0, r.stderr);
    const printed = r.stdout.trim();
    g.addPassword(printed);
    assert.ok(!r.stderr.includes(printed));
    const f = await g.run(['user', 'finish', REC, '--user', 'hyg@example.com', '-vvv']);
    assert.equal(f.code, 0, f.stderr);
    assert.deepEqual(validPasswords(sim, REC, 'hyg@example.com'), [printed]);
    scenarios++;
  });

  describe('the scan', () => {
    it('no password in outputs, URIs, argv (pod and local), temp files, annotations or labels', () => {
      const { passwords, texts } = g.assertClean(t0);
      printTally('hygiene', { scenarios, passwordsTracked: passwords, textsScanned: texts });
    });
  });
});
