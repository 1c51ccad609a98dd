// Vault-backed RECs end to end: the store is the KV v2 entry the operator reads, written with
// check-and-set; the settle is never shorter than the operator's Vault cache.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { SimCluster } from '../sim/cluster.js';
import { startSimCluster } from '../sim/cluster.js';
import { journalExists, journalPhaseOf, leaksIn, reccred, type RunResult } from './harness.js';

const REC = 'rec-vault';
const NS = 'default';

describe('Vault-backed REC (end to end)', function () {
  this.timeout(300_000);
  let sim: SimCluster;
  let env: Record<string, string>;
  const outputs: string[] = [];
  const passwords = new Set<string>();
  const run = async (args: string[], opts: Parameters<typeof reccred>[2] = {}): Promise<RunResult> => {
    const r = await reccred(sim, args, { ...opts, env: { ...env, ...opts.env } });
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const creds = () => sim.credentials(REC)!;
  const vaultVersion = () => sim.vault.server.currentVersion('secret', `redisenterprise/${REC}`);
  const valid = () => sim.redis(REC).findUser(creds().username)!.passwords.slice().sort();
  const assertSettled = () => {
    assert.equal(journalExists(sim, NS, REC), false, 'no journal is left');
    assert.deepEqual(valid(), [creds().password], 'the cluster accepts exactly the password Vault holds');
  };

  before(async () => {
    sim = await startSimCluster({ recs: [{ name: REC, namespace: NS, secretType: 'vault' }], pods: 2, syncDelayMs: 500, operatorIntervalMs: 250, vaultCacheSeconds: 3 });
    // Address, token and CA as the vault CLI takes them; the ConfigMap's address is never used (security-vault.test.ts).
    env = { VAULT_ADDR: sim.vault.addr, VAULT_TOKEN: sim.vault.token, VAULT_CACERT: sim.vault.caFile };
    passwords.add(creds().password);
    passwords.add(sim.vault.token);
  });
  after(async () => sim?.stop());

  it('get reads the Vault entry the operator uses', async () => {
    const r = await run(['get', REC, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.store.type, 'vault');
    assert.equal(doc.store.location, `vault secret/data/redisenterprise/${REC}`);
    assert.equal(doc.username, creds().username);
  });

  it('rotate: Vault holds the new password (one check-and-set write), the cluster accepts only it, the settle covers the operator cache', async () => {
    const before = creds().password;
    const v0 = vaultVersion();
    const started = Date.now();
    const r = await run(['rotate', REC, '--settle', '1s']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /settle raised to 3s/);
    assert.ok(Date.now() - started >= 3000, 'waited at least the Vault cache time');
    assert.notEqual(creds().password, before);
    passwords.add(creds().password);
    assert.equal(vaultVersion(), v0 + 1, 'exactly one Vault write');
    assertSettled();
    assert.equal(sim.operator.failures(REC).length, 0, 'the operator never failed to authenticate');
    assert.equal(sim.audit.failedRestAuths(REC), 0);
  });

  for (const recovery of ['finish', 'abort'] as const) {
    it(`SIGKILL right after the Vault write, then ${recovery}`, async () => {
      const old = creds().password;
      const killed = await run(['rotate', REC, '--settle', '1s'], {
        killWhen: (e) => e.audit?.kind === 'vault' && e.audit.method === 'POST',
      });
      assert.equal(killed.killed, true, killed.stderr);
      const journal = sim.store.get('secrets', NS, `${REC}-reccred-journal`);
      assert.ok(journal, 'the journal survived the crash');
      const record = JSON.parse(Buffer.from((journal as unknown as { data: Record<string, string> }).data['journal.json']!, 'base64').toString('utf8'));
      passwords.add(record.newPassword);
      const r = await run([recovery, REC]);
      assert.equal(r.code, 0, r.stderr);
      assertSettled();
      assert.equal(creds().password, recovery === 'finish' ? record.newPassword : old);
      assert.equal(sim.operator.failures(REC).length, 0);
      assert.equal(sim.audit.failedRestAuths(REC), 0);
    });
  }

  it('someone else rewrites the Vault entry mid-rotation: it is never overwritten; exit 3; abort once it is put back', async () => {
    const old = creds().password;
    const theirs = { username: creds().username, password: 'someone-elses-Pa55!' };
    passwords.add(theirs.password);
    // Their password is not valid on the cluster: keep the operator's components from locking the account meanwhile.
    sim.operator.setEnabled(REC, false);
    const stopWatching = sim.store.onChange((e) => {
      if (journalPhaseOf(e) === 'added') sim.vault.server.write('secret', `redisenterprise/${REC}`, theirs);
    });
    try {
      const r = await run(['rotate', REC, '--settle', '1s']);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /someone else changed it/);
      assert.deepEqual(creds(), theirs, "the other writer's entry was left as it was");
    } finally {
      stopWatching();
    }
    sim.vault.server.write('secret', `redisenterprise/${REC}`, { username: theirs.username, password: old });
    sim.operator.setEnabled(REC, true);
    const r = await run(['abort', REC]);
    assert.equal(r.code, 0, r.stderr);
    assertSettled();
    assert.equal(creds().password, old);
  });

  it('Vault sealed: the preflight stops with a clear message and nothing changes', async () => {
    const before = creds().password;
    sim.faults.vaultSealed = true;
    try {
      const r = await run(['rotate', REC, '--settle', '1s']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /sealed/);
    } finally {
      sim.faults.vaultSealed = false;
    }
    assert.equal(creds().password, before);
    assertSettled();
  });

  it('a bad token: exit 4 before anything changes; the token never appears in the output', async () => {
    const tokenFile = path.join(sim.dir, 'bad-token');
    fs.writeFileSync(tokenFile, 'hvs.not-a-valid-token\n', { mode: 0o600 });
    passwords.add('hvs.not-a-valid-token');
    const r = await run(['rotate', REC, '--vault-token-file', tokenFile]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /token/);
    assertSettled();
  });

  it('no Vault token at all: exit 2, says how to give one', async () => {
    const r = await run(['get', REC], { env: { VAULT_TOKEN: '', HOME: sim.dir } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /VAULT_TOKEN/);
  });

  it('no password or token in the output or the audit trail', () => {
    sim.collectArgv();
    assert.deepEqual(leaksIn([...sim.audit.texts(), ...outputs], [...passwords]), []);
  });
});
