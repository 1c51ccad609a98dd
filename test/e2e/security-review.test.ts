// Defects of the outside security review (issue 11), reproduced end to end against the simulated
// cluster: bytes that are not UTF-8 (5), exec edge cases (7), the pod's ~/.curlrc (8).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { AuditEvent } from '../sim/audit.js';
import type { SimCluster } from '../sim/cluster.js';
import { startSimCluster } from '../sim/cluster.js';
import { journalExists, leaksIn, reccred, validPasswords, type RunResult, guardOperatorLogins } from './harness.js';

const NS = 'default';
const OFFERED = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

describe('security review: encodings, exec edge cases, curlrc (end to end)', function () {
  this.timeout(300_000);
  let sim: SimCluster;
  guardOperatorLogins(() => sim);
  const outputs: string[] = [];
  const run = async (args: string[], opts: Parameters<typeof reccred>[2] = {}): Promise<RunResult> => {
    const r = await reccred(sim, args, opts);
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const vaultEnv = () => ({ VAULT_ADDR: sim.vault.addr, VAULT_TOKEN: sim.vault.token, VAULT_CACERT: sim.vault.caFile });
  const restCalls = (rec: string, since: number) => sim.audit.since(since).filter((e) => e.kind === 'rest' && e.rec === rec);
  const secretData = (name: string) => ({ ...((sim.store.get('secrets', NS, name) as { data?: Record<string, string> } | undefined)?.data ?? {}) });
  const journalPhase = (rec: string): string | undefined => {
    const data = secretData(`${rec}-reccred-journal`)['journal.json'];
    return data === undefined ? undefined : JSON.parse(Buffer.from(data, 'base64').toString('utf8')).phase;
  };
  /** No crash: a message for the user, never an uncaught exception's stack. */
  const assertNoCrash = (r: RunResult) => {
    assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+\)?\n/, `no stack trace: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /SyntaxError|Unexpected token|uncaught/i, r.stderr);
  };
  const assertSettled = (rec: string) => {
    const c = sim.credentials(rec)!;
    assert.equal(journalExists(sim, NS, rec), false, 'no journal is left');
    assert.deepEqual(validPasswords(sim, rec, c.username), [c.password], 'the cluster accepts exactly the stored password');
  };

  before(async () => {
    sim = await startSimCluster({
      recs: [
        { name: 'rec-bytes', namespace: NS, pods: 1 },
        { name: 'rec-input', namespace: NS, pods: 1 },
        { name: 'rec-vbytes', namespace: NS, pods: 1, secretType: 'vault' },
        { name: 'rec-exec', namespace: NS, pods: 1 },
        // 15 characters and a colon: the password starts at offset 16 of the Basic token, alignment 1.
        { name: 'rec-curlrc', namespace: NS, pods: 2, username: 'ops@example.com' },
      ],
      syncDelayMs: 300,
      operatorIntervalMs: 250,
      vaultCacheSeconds: 1,
    });
  });
  afterEach(() => {
    sim.faults.execStatusFaults = [];
  });
  after(async () => sim?.stop());

  describe('bytes that are not valid UTF-8 are refused (exit 2) before any login', () => {
    it('a credential Secret whose password is not UTF-8: exit 2, zero REST calls, the cluster and the Secret unchanged', async () => {
      const rec = 'rec-bytes';
      const username = sim.credentials(rec)!.username;
      const valid = validPasswords(sim, rec, username);
      const secret = sim.store.get('secrets', NS, rec) as unknown as { data: Record<string, string> };
      const mangled = Buffer.concat([Buffer.from('Stored-Secret-9'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('A!')]);
      secret.data.password = mangled.toString('base64');
      sim.store.update('secrets', secret as never);
      // The operator's own components would log in with a mangled copy: keep them out of the count.
      sim.operator.setEnabled(rec, false);
      const data = secretData(rec);
      const mark = sim.audit.mark();
      const r = await run(['rotate', rec, '--settle', '1s']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /"password".*secret default\/rec-bytes|secret default\/rec-bytes.*"password"/);
      assert.match(r.stderr, /not valid UTF-8/);
      assert.ok(!r.stderr.includes('Stored-Secret-9'), 'the value itself is never shown');
      assert.deepEqual(restCalls(rec, mark), [], 'no REST call, so no login, reached the cluster');
      assert.deepEqual(validPasswords(sim, rec, username), valid);
      assert.deepEqual(secretData(rec), data, 'the Secret is unchanged');
      assert.equal(journalExists(sim, NS, rec), false);
      assertNoCrash(r);
    });

    it('--password-stdin with bytes that are not UTF-8: exit 2, nothing changed', async () => {
      const rec = 'rec-input';
      const before = sim.credentials(rec)!;
      const valid = validPasswords(sim, rec, before.username);
      const mark = sim.audit.mark();
      const stdin = Buffer.concat([Buffer.from('Supplied-Pass-7'), Buffer.from([0xc3, 0x28]), Buffer.from('x!\n')]);
      const r = await run(['rotate', rec, '--password-stdin', '--settle', '1s'], { stdin });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--password-stdin.*not valid UTF-8/);
      assert.ok(!r.stderr.includes('Supplied-Pass-7'));
      assert.deepEqual(sim.credentials(rec), before, 'the store is unchanged');
      assert.deepEqual(validPasswords(sim, rec, before.username), valid, 'the cluster is unchanged');
      assert.equal(journalExists(sim, NS, rec), false);
      assert.equal(sim.audit.failedRestAuths(rec), 0);
      assert.deepEqual(
        restCalls(rec, mark).filter((e) => e.kind === 'rest' && e.method !== 'GET'),
        [],
        'no change was sent to the REST API',
      );
      assertNoCrash(r);
    });

    it('--password-file with bytes that are not UTF-8: exit 2, nothing changed', async () => {
      const rec = 'rec-input';
      const before = sim.credentials(rec)!;
      const valid = validPasswords(sim, rec, before.username);
      const file = path.join(sim.dir, 'not-utf8-password');
      fs.writeFileSync(file, Buffer.concat([Buffer.from('Filed-Pass-7-'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('\n')]), { mode: 0o600 });
      const r = await run(['rotate', rec, '--password-file', file, '--settle', '1s']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--password-file.*not valid UTF-8/);
      assert.ok(!r.stderr.includes('Filed-Pass-7'));
      assert.deepEqual(sim.credentials(rec), before);
      assert.deepEqual(validPasswords(sim, rec, before.username), valid);
      assert.equal(journalExists(sim, NS, rec), false);
    });

    it('a Vault entry whose password is not well-formed Unicode: exit 2, zero REST calls, nothing changed', async () => {
      const rec = 'rec-vbytes';
      const r0 = sim.recs.find((x) => x.name === rec)!;
      const username = r0.username;
      const valid = validPasswords(sim, rec, username);
      sim.operator.setEnabled(rec, false);
      // A lone surrogate: JSON carries it as "\ud800", and no UTF-8 encoding of it is the same text.
      sim.vault.server.write(r0.vault!.mount, r0.vault!.path, { username, password: 'Vault-Secret-9\ud800A!' });
      const mark = sim.audit.mark();
      const r = await run(['rotate', rec, '--settle', '1s'], { env: vaultEnv() });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /password.*not valid|not valid.*password/);
      assert.ok(!r.stderr.includes('Vault-Secret-9'));
      assert.deepEqual(restCalls(rec, mark), [], 'no REST call, so no login, reached the cluster');
      assert.deepEqual(validPasswords(sim, rec, username), valid);
      assert.equal(journalExists(sim, NS, rec), false);
    });
  });

  describe('exec edge cases', () => {
    it('offers only the v5 and v4 exec protocols', async () => {
      const mark = sim.audit.mark();
      const r = await run(['status', 'rec-exec']);
      assert.equal(r.code, 0, r.stderr);
      const execs = sim.audit.since(mark).filter((e): e is Extract<AuditEvent, { kind: 'exec' }> => e.kind === 'exec');
      assert.ok(execs.length > 0, 'status execs into the pods');
      for (const e of execs) assert.deepEqual(e.protocols, OFFERED);
    });

    for (const status of ['text', 'empty-exit-code'] as const) {
      it(`a status frame with ${status === 'text' ? 'a plain-text error' : 'an empty ExitCode cause'} after the POST: outcome unknown, exit 3, the journal keeps both passwords, finish completes`, async () => {
        const rec = 'rec-exec';
        const old = sim.credentials(rec)!;
        sim.faults.execStatusFaults = [{ match: /^POST \/v1\/users\/password$/, status, remaining: 1 }];
        const r = await run(['rotate', rec, '--settle', '1s']);
        assert.equal(sim.faults.execStatusFaults[0]!.remaining, 0, 'the fault was hit');
        assert.equal(r.code, 3, r.stderr);
        assertNoCrash(r);
        assert.match(r.stderr, /may or may not have run/);
        assert.match(r.stderr, /finish/);
        assert.equal(journalPhase(rec), 'recorded', 'the journal keeps the state it had');
        assert.deepEqual(sim.credentials(rec), old, 'the store still holds the old password');
        // The command did run: the cluster has both passwords, and the journal both copies.
        assert.equal(validPasswords(sim, rec, old.username).length, 2);
        const f = await run(['finish', rec, '--settle', '1s']);
        assert.equal(f.code, 0, f.stderr);
        assert.notEqual(sim.credentials(rec)!.password, old.password);
        assertSettled(rec);
      });
    }
  });

  for (const [label, curlrc] of [
    ['verbose', 'verbose\n'],
    ['trace-ascii', 'trace-ascii = "/opt/.sim/home/curl-trace.txt"\n'],
  ] as const) {
    it(`the pod's ~/.curlrc (${label}) is not read: no Authorization header or password in any output or file, the rotation completes`, async () => {
      const rec = 'rec-curlrc';
      const r0 = sim.recs.find((x) => x.name === rec)!;
      const old = sim.credentials(rec)!.password;
      const homes = r0.pods.map((p) => sim.sandboxes.podHome(NS, p));
      for (const h of homes) fs.writeFileSync(path.join(h, '.curlrc'), curlrc);
      const mark = sim.audit.mark();
      const r = await run(['rotate', rec, '--settle', '1s']);
      assert.equal(r.code, 0, r.stderr);
      assertSettled(rec);
      const now = sim.credentials(rec)!.password;
      assert.notEqual(now, old);
      const execOutputs = sim.audit.since(mark).flatMap((e) => (e.kind === 'exec-output' && r0.pods.includes(e.pod) ? [e.stdout, e.stderr] : []));
      assert.ok(execOutputs.length > 0, 'the sim recorded what the pods wrote');
      const texts = [...execOutputs, r.stdout, r.stderr];
      assert.ok(!texts.some((t) => /Authorization/i.test(t)), 'no Authorization header in what the pods wrote or the plugin printed');
      assert.ok(!execOutputs.some((t) => /^[<>*] /m.test(t)), 'curl was not verbose');
      for (const h of homes) assert.deepEqual(fs.readdirSync(h), ['.curlrc'], 'curl wrote no trace file');
      assert.deepEqual(leaksIn([...texts, ...sim.audit.texts()], [old, now]), []);
    });
  }

  // A suite of its own: mocha runs a suite's tests before its nested suites, and this one comes last.
  describe('afterwards', () => {
    it('no password of these runs in any output or the audit trail', () => {
      const passwords = sim.recs.flatMap((x) => [sim.credentials(x.name)?.password ?? '']).filter((p) => p.length >= 8);
      assert.deepEqual(leaksIn([...outputs, ...sim.audit.texts()], passwords), []);
    });
  });
});
