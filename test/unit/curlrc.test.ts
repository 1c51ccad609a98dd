// The in-pod script does not let curl read the pod's ~/.curlrc (issue 11, defect 8): a real sh and a real
// curl, HOME holding a .curlrc that would print the request headers or send them through a proxy.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { curlConfig, parseCurlOutput } from '../../src/pod/curl-config.js';
import { restRequest, runOne } from './in-pod-runner.js';

const PASSWORD = 'Curlrc-Secret-7!';

const runWithHome = (home: string, request: Buffer) => runOne(request, { PATH: process.env.PATH, HOME: home });

describe("in-pod script: the pod's ~/.curlrc is not read", () => {
  let server: http.Server;
  let base: string;
  let home: string;
  /** Authorization headers another host received. */
  const elsewhere: string[] = [];
  let other: http.Server;
  before(async () => {
    other = http.createServer((req, res) => {
      elsewhere.push(req.headers.authorization ?? '');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"via":"elsewhere"}');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}/v1/cluster`;
    server = http.createServer((req, res) => {
      // A node that is not the master answers 307 (SPEC 5); the plugin, not curl, decides where to go.
      if (req.url === '/redirect') res.writeHead(307, { Location: otherUrl });
      else res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"ok":true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-home-'));
  });
  after(() => {
    server.close();
    other.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  const request = (p = '/v1/cluster') => {
    const config = Buffer.from(curlConfig({ method: 'GET', url: `${base}${p}`, basicAuth: { username: 'ops@example.com', password: PASSWORD }, maxTimeSeconds: 5 }));
    return restRequest(config);
  };

  for (const [label, curlrc] of [
    ['verbose', () => 'verbose\n'],
    ['trace-ascii', () => `trace-ascii = "${path.join(home, 'trace.txt')}"\n`],
  ] as const) {
    it(`${label} in ~/.curlrc: nothing on stderr, no trace file, the call still works`, async () => {
      fs.writeFileSync(path.join(home, '.curlrc'), curlrc());
      const res = await runWithHome(home, request());
      assert.equal(res.code, 0, res.stderr);
      assert.doesNotMatch(res.stderr, /Authorization/i);
      assert.equal(res.stderr, '');
      assert.deepEqual(fs.readdirSync(home), ['.curlrc'], 'no trace file');
      assert.deepEqual(JSON.parse(parseCurlOutput(res.stdout)!.body), { ok: true });
    });
  }

  it('location-trusted in ~/.curlrc: a redirect is not followed, the credentials go nowhere else', async () => {
    fs.writeFileSync(path.join(home, '.curlrc'), 'location\nlocation-trusted\n');
    const res = await runWithHome(home, request('/redirect'));
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(elsewhere, [], 'the other host received nothing');
    assert.equal(parseCurlOutput(res.stdout)!.status, 307);
  });
});
