// The in-pod script and its curl config, run for real: a real sh, a real curl, a local HTTP server.
// stdin is never closed, as over exec protocol v4.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { curlConfig, curlQuote, parseCurlOutput } from '../../src/pod/curl-config.js';
import { IN_POD_SCRIPT, MOUNTED_CREDENTIALS, POD_TOOLS } from '../../src/pod/in-pod-script.js';
import { converse, hello, restRequest, runInPodScript, runOne } from './in-pod-runner.js';

interface Seen {
  method: string;
  url: string;
  auth: string;
  body: string;
}

const NASTY = ['pl41n-Passw0rd!', `q"uo'te\\back$(touch /tmp/pwned)\`id\`;|&`, 'ünïcødé-密码-🔑-A1!', 'tab\there-A1!', '-K - --config @/etc/passwd', 'x'.repeat(200) + 'A1!'];

describe('in-pod script and curl config (real sh and curl)', () => {
  let server: http.Server;
  let base: string;
  const seen: Seen[] = [];
  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization ?? '', body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(req.url === '/redirect' ? 307 : 200, { 'Content-Type': 'application/json', Location: 'https://10.244.0.9:9443/v1/cluster' });
        res.end(JSON.stringify({ ok: true }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());
  beforeEach(() => (seen.length = 0));

  for (const password of NASTY) {
    it(`carries ${JSON.stringify(password).slice(0, 40)} exactly, in body and header`, async () => {
      const body = { username: 'demo@redis.com', old_password: password, new_password: `${password}-new` };
      const config = Buffer.from(curlConfig({ method: 'POST', url: `${base}/v1/users/password`, body, basicAuth: { username: 'demo@redis.com', password }, maxTimeSeconds: 5 }));
      const res = await runOne(restRequest(config));
      assert.equal(res.code, 0, res.stderr);
      assert.equal(seen.length, 1);
      assert.deepEqual(JSON.parse(seen[0]!.body), body);
      assert.equal(seen[0]!.auth, `Basic ${Buffer.from(`demo@redis.com:${password}`).toString('base64')}`);
      const parsed = parseCurlOutput(res.stdout);
      assert.equal(parsed?.status, 200);
      assert.deepEqual(JSON.parse(parsed!.body), { ok: true });
    });
  }

  it('reports a redirect and its location', async () => {
    const config = Buffer.from(curlConfig({ method: 'GET', url: `${base}/redirect`, maxTimeSeconds: 5 }));
    const res = await runOne(restRequest(config));
    const parsed = parseCurlOutput(res.stdout);
    assert.equal(parsed?.status, 307);
    assert.equal(parsed?.redirect, 'https://10.244.0.9:9443/v1/cluster');
  });

  it('passes curl exit codes through (connection refused is 7)', async () => {
    const config = Buffer.from(curlConfig({ method: 'GET', url: 'http://127.0.0.1:1/v1/cluster', maxTimeSeconds: 5 }));
    const res = await runOne(restRequest(config));
    assert.equal(res.code, 7);
  });

  it('rejects an unknown operation, and a conversation that does not open with its nonce', async () => {
    assert.equal((await runInPodScript(Buffer.concat([hello(), Buffer.from('rm -rf /\n')]))).code, 64);
    assert.equal((await runInPodScript(Buffer.from('tools\n'))).code, 64);
    assert.equal((await runInPodScript(Buffer.from('reccred XYZ\ntools\n'))).code, 64);
  });

  it('answers several requests in one session, each ended by its marker, and stops when told', async () => {
    const get = curlConfig({ method: 'GET', url: `${base}/v1/cluster`, maxTimeSeconds: 5 });
    const refused = curlConfig({ method: 'GET', url: 'http://127.0.0.1:1/v1/cluster', maxTimeSeconds: 5 });
    const res = await converse([Buffer.from('tools\n'), restRequest(get), Buffer.from('hash\n'), restRequest(refused), restRequest(get)]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(
      res.answers.map((a) => a.code),
      [0, 0, 0, 7, 0],
    );
    assert.match(res.answers[0]!.stdout, /checked\n$/);
    assert.equal(parseCurlOutput(res.answers[1]!.stdout)?.status, 200);
    assert.match(res.answers[2]!.stdout, /^username (missing|[0-9a-f]{64})\npassword (missing|[0-9a-f]{64})\n$/);
    assert.match(res.answers[3]!.stderr, /curl: \(7\)/);
    assert.equal(res.answers[4]!.stderr, '');
    assert.equal(seen.length, 2);
  });

  describe('the commands it runs (a .minimal image may lack any)', () => {
    const dirs: string[] = [];
    /** A PATH holding only sh and the given commands, as an image that has nothing else. */
    const pathWith = (tools: readonly string[]) => {
      const dir = mkdtempSync(join(tmpdir(), 'reccred-path-'));
      dirs.push(dir);
      for (const t of ['sh', ...tools]) symlinkSync(execFileSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).trim(), join(dir, t));
      return { PATH: dir };
    };
    after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

    it('"tools" names exactly the commands the image lacks, then "checked"', async () => {
      for (const missing of POD_TOOLS) {
        const res = await runOne(Buffer.from('tools\n'), pathWith(POD_TOOLS.filter((t) => t !== missing)));
        assert.equal(res.code, 0, res.stderr);
        assert.equal(res.stdout, `missing ${missing}\nchecked\n`);
      }
      const none = await runOne(Buffer.from('tools\n'), pathWith([]));
      assert.equal(none.stdout, `${POD_TOOLS.map((t) => `missing ${t}\n`).join('')}checked\n`, 'the check itself needs no command');
    });

    it('needs nothing beyond POD_TOOLS: hash and a REST call run with only those on PATH', async () => {
      const env = pathWith(POD_TOOLS);
      const hash = await runOne(Buffer.from('hash\n'), env);
      assert.equal(hash.code, 0, hash.stderr);
      const config = Buffer.from(curlConfig({ method: 'GET', url: `${base}/v1/cluster`, basicAuth: { username: 'u', password: 'p' }, maxTimeSeconds: 5 }));
      const res = await runOne(restRequest(config), env);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(parseCurlOutput(res.stdout)?.status, 200);
    });
  });

  describe('hash: one sha256sum for the files there are', () => {
    // The script itself with only the credentials folder moved to a temporary one.
    const dir = mkdtempSync(join(tmpdir(), 'reccred-hash-'));
    const cred = join(dir, 'cred');
    const bin = join(dir, 'bin');
    const script = IN_POD_SCRIPT.replace(`c=${MOUNTED_CREDENTIALS}\n`, `c=${cred}\n`);
    const hash = Buffer.from('hash\n');
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    /** A sha256sum of the test's own first on PATH: `body` is its sh script. */
    const fake = (body: string) => {
      writeFileSync(join(bin, 'sha256sum'), `#!/bin/sh\n${body}\n`);
      chmodSync(join(bin, 'sha256sum'), 0o755);
      return { PATH: `${bin}:${process.env.PATH ?? ''}` };
    };
    const files = (username?: string, password?: string) => {
      rmSync(cred, { recursive: true, force: true });
      mkdirSync(cred, { recursive: true });
      if (username !== undefined) writeFileSync(join(cred, 'username'), username);
      if (password !== undefined) writeFileSync(join(cred, 'password'), password);
    };
    before(() => mkdirSync(bin, { recursive: true }));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('answers both files, either, or neither, each on its own line', async () => {
      assert.notEqual(script, IN_POD_SCRIPT, 'the folder was moved');
      const [u, p] = ['admin@example.com', 'pa ss*w\nord-A1!'];
      for (const [given, want] of [
        [[u, p], `username ${sha(u)}\npassword ${sha(p)}\n`],
        [[u, undefined], `username ${sha(u)}\npassword missing\n`],
        [[undefined, p], `username missing\npassword ${sha(p)}\n`],
        [[undefined, undefined], 'username missing\npassword missing\n'],
      ] as const) {
        files(...given);
        const a = await runOne(hash, undefined, script);
        assert.deepEqual([a.code, a.stdout], [0, want], `files ${JSON.stringify(given)}: ${a.stderr}`);
      }
    });

    it('sha256sum gets the paths of the files, never their contents, and its binary-mode marker is read', async () => {
      files('u', 'p');
      const argv = join(dir, 'argv');
      const zeros = '0'.repeat(64);
      const a = await runOne(hash, fake(`printf '%s\\n' "$@" > '${argv}'; for f; do echo "${zeros} *$f"; done`), script);
      assert.deepEqual([a.code, a.stdout], [0, `username ${zeros}\npassword ${zeros}\n`], a.stderr);
      assert.deepEqual(readFileSync(argv, 'utf8').split('\n'), [join(cred, 'username'), join(cred, 'password'), '']);
    });

    it('an answer sha256sum did not give whole is exit 65, never "missing"', async () => {
      files('u', 'p');
      const line = (f: string) => `echo "${'1'.repeat(64)}  ${f}"`;
      for (const [what, body] of [
        ['one line short', line('$1')],
        ['a line left over', `for f; do ${line('$f')}; done; echo extra`],
        ['a file twice', `for f; do ${line('$f')}; done; ${line('$1')}`],
        ['a path it was not given', `${line('$1')}; ${line('/etc/shadow')}`],
        ['an error', `${line('$1')}; exit 1`],
      ] as const) {
        const a = await runOne(hash, fake(body), script);
        assert.deepEqual([a.code, a.stdout], [65, ''], `${what}: ${a.stderr}`);
      }
    });
  });

  it('quotes for curl config syntax', () => {
    assert.equal(curlQuote('a"b\\c\nd'), '"a\\"b\\\\c\\nd"');
  });
});
