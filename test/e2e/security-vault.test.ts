// Issue 11, defect 4: the Vault token goes only to an address the user chose (VAULT_ADDR or
// --vault-addr). The operator's ConfigMap is editable by anyone with "update configmaps" in the REC
// namespace, so its VAULT_SERVER_FQDN/VAULT_SERVICE_PORT_HTTPS are shown as a suggestion, never used.
import assert from 'node:assert/strict';
import net from 'node:net';
import type { SimCluster } from '../sim/cluster.js';
import { startSimCluster } from '../sim/cluster.js';
import { journalExists, leaksIn, reccred, type RunResult, guardOperatorLogins } from './harness.js';

const REC = 'rec-vault';
const NS = 'default';
const CONFIGMAP = 'operator-environment-config';

describe('Vault address: never taken from the operator ConfigMap (end to end)', function () {
  this.timeout(120_000);
  let sim: SimCluster;
  guardOperatorLogins(() => sim);
  let listener: net.Server;
  let port: number;
  const received: Buffer[] = [];
  let connections = 0;
  const outputs: string[] = [];
  const run = async (args: string[], env: Record<string, string>): Promise<RunResult> => {
    const r = await reccred(sim, args, { env });
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const vaultRequests = (mark: number) => sim.audit.since(mark).filter((e) => e.kind === 'vault').length;

  before(async () => {
    sim = await startSimCluster({ recs: [{ name: REC, namespace: NS, secretType: 'vault' }], pods: 1, syncDelayMs: 300, operatorIntervalMs: 250, vaultCacheSeconds: 1 });
    // Someone who may edit the ConfigMap points it at a host of theirs: here a listener on loopback
    // that records every byte it gets (a TLS ClientHello, and the token if the plugin went on).
    listener = net.createServer((socket) => {
      connections += 1;
      socket.on('data', (d) => {
        received.push(d);
        // No answer: a client that sent anything fails fast instead of waiting for its timeout.
        socket.destroy();
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as net.AddressInfo).port;
    const cm = sim.store.mustGet('configmaps', NS, CONFIGMAP) as unknown as { data: Record<string, string>; metadata: Record<string, unknown> };
    sim.store.update('configmaps', {
      ...cm,
      metadata: { ...cm.metadata, resourceVersion: undefined },
      data: { ...cm.data, VAULT_SERVER_FQDN: '127.0.0.1', VAULT_SERVICE_PORT_HTTPS: String(port) },
    } as never);
  });
  after(async () => {
    listener?.close();
    await sim?.stop();
  });

  for (const command of [
    ['get', REC],
    ['rotate', REC, '--settle', '1s'],
  ]) {
    it(`${command[0]} without VAULT_ADDR: exit 2 before any Vault request; the ConfigMap's address is only suggested`, async () => {
      const before = sim.credentials(REC)!;
      const mark = sim.audit.mark();
      const r = await run(command, { VAULT_ADDR: '', VAULT_TOKEN: sim.vault.token, VAULT_CACERT: sim.vault.caFile });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(connections, 0, 'the address from the ConfigMap received no connection');
      assert.equal(Buffer.concat(received).length, 0);
      assert.equal(vaultRequests(mark), 0, 'no request reached any Vault');
      assert.match(r.stderr, /VAULT_ADDR/);
      assert.match(r.stderr, new RegExp(`operator's ConfigMap suggests https://127\\.0\\.0\\.1:${port}`));
      assert.match(r.stderr, new RegExp(`export VAULT_ADDR=https://127\\.0\\.0\\.1:${port}`));
      assert.deepEqual(sim.credentials(REC), before, 'Vault still holds the same credentials');
      assert.equal(journalExists(sim, NS, REC), false);
    });
  }

  it("VAULT_ADDR chosen by the user: that Vault is used, the ConfigMap's listener still gets nothing", async () => {
    const mark = sim.audit.mark();
    const r = await run(['get', REC, '-o', 'json'], { VAULT_ADDR: sim.vault.addr, VAULT_TOKEN: sim.vault.token, VAULT_CACERT: sim.vault.caFile });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).username, sim.credentials(REC)!.username);
    assert.ok(vaultRequests(mark) > 0);
    assert.equal(connections, 0);
  });

  it('--vault-addr chosen by the user works the same', async () => {
    const r = await run(['get', REC, '--vault-addr', sim.vault.addr], { VAULT_ADDR: '', VAULT_TOKEN: sim.vault.token, VAULT_CACERT: sim.vault.caFile });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(connections, 0);
  });

  it('a ConfigMap path that climbs out of its KV mount (..) is refused before any Vault request', async () => {
    const cm = sim.store.mustGet('configmaps', NS, CONFIGMAP) as unknown as { data: Record<string, string>; metadata: Record<string, unknown> };
    const original = { ...cm.data };
    sim.store.update('configmaps', { ...cm, metadata: { ...cm.metadata, resourceVersion: undefined }, data: { ...cm.data, VAULT_SECRET_PREFIX: '../../sys/policy' } } as never);
    try {
      const mark = sim.audit.mark();
      const r = await run(['get', REC], { VAULT_ADDR: sim.vault.addr, VAULT_TOKEN: sim.vault.token, VAULT_CACERT: sim.vault.caFile });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /VAULT_SECRET_PREFIX/);
      assert.equal(vaultRequests(mark), 0);
    } finally {
      const now = sim.store.mustGet('configmaps', NS, CONFIGMAP) as unknown as { metadata: Record<string, unknown> };
      sim.store.update('configmaps', { ...now, metadata: { ...now.metadata, resourceVersion: undefined }, data: original } as never);
    }
  });

  it('the token appears in no output', () => {
    assert.deepEqual(leaksIn(outputs, [sim.vault.token]), []);
  });
});
