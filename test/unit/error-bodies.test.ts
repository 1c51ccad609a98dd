// Error bodies that are not JSON (an HTML page from a proxy, say) are scrubbed before they are cut
// (issue 11, defect 6): a secret crossing the cut must not survive as a prefix. Real HTTPS servers,
// the real Kubernetes and Vault clients.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { KubeApi, KubeApiError } from '../../src/kube/api-client.js';
import { redactor } from '../../src/output/redactor.js';
import { VaultClient, VaultError } from '../../src/vault/vault-client.js';
import { makeSelfSignedCert } from '../sim/kube/tls.js';

const PASSWORD = 'Cut-Across-9#Secret!Value';
const TOKEN = 'hvs.test-token-for-error-bodies';

describe('error bodies that are not JSON: scrubbed before they are cut', function () {
  this.timeout(30_000);
  let dir: string;
  let server: https.Server;
  let url: string;
  let certFile: string;
  let body = '';

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-bodies-'));
    const certs = await makeSelfSignedCert(dir);
    certFile = certs.certFile;
    server = https.createServer({ key: fs.readFileSync(certs.keyFile), cert: fs.readFileSync(certs.certFile) }, (_req, res) => {
      res.writeHead(502, { 'Content-Type': 'text/html' });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    redactor.add(PASSWORD);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  // The secret starts a few characters before each client's cut.
  const bodyCrossing = (cut: number) => `${'<p>'.padEnd(cut - 8, '.')}${PASSWORD}</p>`;

  it('Kubernetes API (cut at 300)', async () => {
    body = bodyCrossing(300);
    const api = await KubeApi.connect(
      {
        cluster: { name: 'c', cluster: { server: url, 'insecure-skip-tls-verify': true } },
        user: { name: 'u', user: { token: 't' } },
        contextName: 'ctx',
        namespace: 'default',
        source: 'test',
        inCluster: false,
      },
      5000,
      () => {},
    );
    const err = await api.send('GET', '/api/v1/namespaces/default/secrets/x').then(
      () => assert.fail('expected an error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof KubeApiError);
    assert.ok(!err.message.includes(PASSWORD.slice(0, 6)), err.message);
  });

  it('Vault (cut at 200)', async () => {
    body = bodyCrossing(200);
    const client = new VaultClient({ addr: url, token: TOKEN, namespace: '', caCertFile: certFile, timeoutMs: 5000 });
    const err = await client.kvRead('secret', 'redisenterprise/rec').then(
      () => assert.fail('expected an error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof VaultError);
    assert.ok(!err.message.includes(PASSWORD.slice(0, 6)), err.message);
  });
});
