// The exec session against a real WebSocket server over TLS (issue 11, defect 7): the protocols it
// offers, and the status frames that say nothing usable about the command (a plain-text error, an empty
// ExitCode cause, none at all), which must end as "outcome unknown", never as success or a crash.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { KubeApi } from '../../src/kube/api-client.js';
import { ExecOutcomeUnknownError, ExecRefusedError } from '../../src/pod/exec-session.js';
import { execInPod } from './exec-once.js';
import { makeSelfSignedCert } from '../sim/kube/tls.js';

const V5 = 'v5.channel.k8s.io';
const V4 = 'v4.channel.k8s.io';
const TARGET = { namespace: 'default', pod: 'rec-0', container: 'redis-enterprise-node' };
const frame = (channel: number, data: string | Buffer) => Buffer.concat([Buffer.from([channel]), Buffer.from(data)]);
const success = JSON.stringify({ metadata: {}, status: 'Success' });
const nonZero = (message: string) =>
  JSON.stringify({
    metadata: {},
    status: 'Failure',
    reason: 'NonZeroExitCode',
    message: 'command terminated with non-zero exit code',
    details: { causes: [{ reason: 'ExitCode', message }] },
  });

/** What the server does once the session is open: gets the socket and the first stdin frame. */
type Behaviour = (ws: WebSocket, stdin: Buffer) => void;

describe('exec session (real WebSocket over TLS)', function () {
  this.timeout(30_000);
  let dir: string;
  let server: https.Server;
  let api: KubeApi;
  let accept: string[] = [V5, V4];
  let offered: string[][] = [];
  let refuseWith: { status: number; body: string } | undefined;
  let behaviour: Behaviour = () => {};

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-exec-'));
    const certs = await makeSelfSignedCert(dir);
    server = https.createServer({ key: fs.readFileSync(certs.keyFile), cert: fs.readFileSync(certs.certFile) });
    const wss = new WebSocketServer({
      noServer: true,
      handleProtocols: (protocols) => [...protocols].find((p) => accept.includes(p)) ?? false,
    });
    server.on('upgrade', (req, socket, head) => {
      offered.push(
        String(req.headers['sec-websocket-protocol'] ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      );
      if (refuseWith) {
        socket.end(
          `HTTP/1.1 ${refuseWith.status} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(refuseWith.body)}\r\nConnection: close\r\n\r\n${refuseWith.body}`,
        );
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.once('message', (data) => behaviour(ws, Buffer.from(data as Buffer)));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    api = await KubeApi.connect(
      {
        cluster: { name: 'c', cluster: { server: `https://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } },
        user: { name: 'u', user: { token: 'test-token' } },
        contextName: 'ctx',
        namespace: 'default',
        source: 'test',
        inCluster: false,
      },
      5000,
      () => {},
    );
  });
  after(() => {
    server.closeAllConnections();
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    accept = [V5, V4];
    offered = [];
    refuseWith = undefined;
    behaviour = () => {};
  });

  const exec = (timeoutMs = 3000) => execInPod(api, TARGET, ['sh', '-c', 'true'], Buffer.from('hash\n'), timeoutMs);

  it('offers exactly v5.channel.k8s.io and v4.channel.k8s.io, and reads a Success status with its output', async () => {
    let got: Buffer | undefined;
    behaviour = (ws, stdin) => {
      got = stdin;
      ws.send(frame(1, 'out'));
      ws.send(frame(2, 'err'));
      ws.send(frame(3, success), () => ws.close(1000));
    };
    const res = await exec();
    assert.deepEqual(offered, [[V5, V4]]);
    assert.deepEqual(got, frame(0, 'hash\n'), 'stdin arrives on channel 0, and is never ended');
    assert.equal(res.exitCode, 0);
    assert.equal(res.stdout.toString(), 'out');
    assert.equal(res.stderr.toString(), 'err');
  });

  it('works with a server that has only v4', async () => {
    accept = [V4];
    behaviour = (ws) => ws.send(frame(3, nonZero('7')), () => ws.close(1000));
    const res = await exec();
    assert.equal(res.exitCode, 7);
  });

  it('a plain-text error on channel 3: outcome unknown, no crash', async () => {
    behaviour = (ws) => {
      ws.send(frame(1, 'partial'));
      ws.send(frame(3, 'error: an error occurred while running the command'), () => ws.close(1000));
    };
    await assert.rejects(exec(), (e: unknown) => e instanceof ExecOutcomeUnknownError && /may or may not have run/.test(e.message) && /text/.test(e.message));
  });

  for (const cause of ['', ' 1', '0', '256', '-1', 'abc']) {
    it(`a NonZeroExitCode status whose ExitCode cause is ${JSON.stringify(cause)}: outcome unknown, never success`, async () => {
      behaviour = (ws) => ws.send(frame(3, nonZero(cause)), () => ws.close(1000));
      await assert.rejects(exec(), ExecOutcomeUnknownError);
    });
  }

  it('the socket closes without a status: outcome unknown', async () => {
    behaviour = (ws) => {
      ws.send(frame(1, 'out'));
      ws.close(1000);
    };
    await assert.rejects(exec(), ExecOutcomeUnknownError);
  });

  it('no status within the timeout: outcome unknown', async () => {
    behaviour = () => {};
    await assert.rejects(exec(300), (e: unknown) => e instanceof ExecOutcomeUnknownError && /no exit status/.test(e.message));
  });

  it('frames on other channels (resize, close signal, unknown) do not crash the session', async () => {
    behaviour = (ws) => {
      ws.send(frame(4, '{}'));
      ws.send(Buffer.from([255, 1]));
      ws.send(frame(9, 'what'));
      ws.send('a text frame');
      ws.send(frame(3, success), () => ws.close(1000));
    };
    const res = await exec();
    assert.equal(res.exitCode, 0);
  });

  it('a refused upgrade is ExecRefusedError with the HTTP status', async () => {
    refuseWith = {
      status: 403,
      body: JSON.stringify({ kind: 'Status', status: 'Failure', message: 'pods "rec-0" is forbidden: no exec for you', reason: 'Forbidden', code: 403 }),
    };
    await assert.rejects(exec(), (e: unknown) => e instanceof ExecRefusedError && e.httpStatus === 403);
  });
});
