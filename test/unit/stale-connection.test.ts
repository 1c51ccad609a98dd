// A keep-alive connection the server dropped while idle: the request sent on it fails before any response
// (ECONNRESET on a reused socket). Reads and access reviews are sent once more on a new connection, as Go's
// transport does; a write is not repeated (the server may have applied it). A real HTTP server resets the
// connection on its second request, which is the race made deterministic.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { KubeApi, KubeApiError } from '../../src/kube/api-client.js';
import { execInPod } from './exec-once.js';

describe('a kept-alive connection the server closed', function () {
  this.timeout(30_000);
  let server: http.Server;
  let api: KubeApi;
  const seen: string[] = [];

  before(async () => {
    const requestsOn = new WeakMap<object, number>();
    server = http.createServer((req, res) => {
      const n = (requestsOn.get(req.socket) ?? 0) + 1;
      requestsOn.set(req.socket, n);
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => {
        if (n >= 2) {
          req.socket.resetAndDestroy();
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"kind":"Status","status":"Success"}');
      });
    });
    server.keepAliveTimeout = 60_000;
    // An exec upgrade answers with a success status at once; on a connection that carried a request before, it is reset too.
    const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => [...p][0] ?? false });
    server.on('upgrade', (req, socket, head) => {
      seen.push(`UPGRADE ${req.url?.split('?')[0]}`);
      if (requestsOn.has(socket)) {
        (socket as import('node:net').Socket).resetAndDestroy();
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => ws.once('message', () => ws.send(Buffer.concat([Buffer.from([3]), Buffer.from('{"metadata":{},"status":"Success"}')]))));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    api = await KubeApi.connect(
      { cluster: { name: 'c', cluster: { server: url } }, user: { name: 'u', user: {} }, contextName: 'ctx', namespace: 'default', source: 'test', inCluster: false },
      5000,
      () => {},
    );
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  beforeEach(() => (seen.length = 0));

  it('a GET is sent once more on a new connection and answered', async () => {
    await api.send('GET', '/api/v1/namespaces/default/secrets/a');
    await api.send('GET', '/api/v1/namespaces/default/secrets/b');
    assert.deepEqual(seen, ['GET /api/v1/namespaces/default/secrets/a', 'GET /api/v1/namespaces/default/secrets/b', 'GET /api/v1/namespaces/default/secrets/b']);
  });

  it('an access review is sent once more', async () => {
    await api.send('GET', '/api/v1/namespaces/default/secrets/a');
    await api.send('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { body: {} });
    assert.equal(seen.filter((s) => s.startsWith('POST')).length, 2);
  });

  it('an exec upgrade takes a new connection, not an idle kept-alive one', async () => {
    await api.send('GET', '/api/v1/namespaces/default/secrets/a');
    const r = await execInPod(api, { namespace: 'default', pod: 'rec-0', container: 'c' }, ['sh'], Buffer.from('x'), 5000);
    assert.equal(r.exitCode, 0);
    assert.deepEqual(
      seen.filter((x) => x.startsWith('UPGRADE')),
      ['UPGRADE /api/v1/namespaces/default/pods/rec-0/exec'],
    );
  });

  it('a PATCH is not repeated: the error says the server was unreachable', async () => {
    await api.send('GET', '/api/v1/namespaces/default/secrets/a');
    const err = await api.send('PATCH', '/api/v1/namespaces/default/secrets/a', { body: {}, contentType: 'application/merge-patch+json' }).then(
      () => assert.fail('expected an error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof KubeApiError && err.reason === 'Unreachable', String(err));
    assert.equal(seen.filter((s) => s.startsWith('PATCH')).length, 1);
  });
});
