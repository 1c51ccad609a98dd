// Property-based bad input, at the unit level where thousands of cases are cheap: the password sources
// (file and stdin, up to 1 MB), the in-pod script with a real sh and a real curl (every valid password
// and odd username arrives byte-exact, no shell injection), and the validators of REC names,
// namespaces, usernames, --to-secret and durations. Every input gives the exact value or a usage error
// (exit 2) whose message names the problem and never repeats the secret. Seeded: RECCRED_SEED replays.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { parseDuration } from '../../src/duration/duration.js';
import { ExitCode, ReccredError } from '../../src/errors/exit-codes.js';
import type { KubeApi } from '../../src/kube/api-client.js';
import { readStdinLine, suppliedPassword, validateSupplied } from '../../src/password/password-source.js';
import { curlConfig, parseCurlOutput } from '../../src/pod/curl-config.js';
import { runInPodScript } from './in-pod-runner.js';
import { validateRecName } from '../../src/rec/rec-target.js';
import type { RestClient } from '../../src/rest/rest-client.js';
import { checkNewUsername } from '../../src/procedures/user-change.js';
import { SecretKeyTarget } from '../../src/store/to-secret.js';

const SEED = Number(process.env.RECCRED_SEED) || 20251125;
const params = (numRuns: number) => ({ seed: SEED, numRuns });
/** Figures for the README (inputs tried per property), printed at the end. */
const tried: Record<string, number> = {};
const count = (k: string) => (tried[k] = (tried[k] ?? 0) + 1);

// Pieces an attacker or a careless paste would use; mixed with arbitrary unicode.
const NASTY = [
  '"',
  "'",
  '\\',
  '$(',
  ')',
  '`',
  '${IFS}',
  ';',
  '|',
  '&',
  '\n',
  '\r',
  '\0',
  '\t',
  ' ',
  '-K',
  '@/etc/passwd',
  '%s',
  '%n',
  'ü',
  '密',
  '🔑',
  '\u202e',
  '\ufeff',
  '\\n',
  '\\"',
];
const nastyString = (maxLength: number) =>
  fc.array(fc.oneof(fc.constantFrom(...NASTY), fc.string({ unit: 'grapheme', maxLength: 4 }), fc.string({ maxLength: 6 })), { maxLength }).map((a) => a.join(''));
/** What validateSupplied accepts: 1..256 UTF-16 units, no CR, LF or NUL. */
const validPassword = nastyString(40)
  .map((s) => s.replace(/[\r\n\0]/g, ''))
  .map((s) => (s.length > 256 ? s.slice(0, 256) : s))
  .filter((s) => s.length > 0 && s.length <= 256 && !/[\uD800-\uDFFF]/.test(s.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '')));

function assertUsage(err: unknown, problem: RegExp, secret?: string): true {
  assert.ok(err instanceof ReccredError, `a usage error, not ${String(err)}`);
  assert.equal(err.exitCode, ExitCode.Usage);
  assert.match(err.message, problem, 'the message names the problem');
  if (secret && secret.length >= 4) assert.ok(!err.message.includes(secret), 'the message does not repeat the secret');
  return true;
}

describe('bad input, property-based (unit)', function () {
  this.timeout(300_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-prop-'))));
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    process.stdout.write(`      [figures] bad-input (unit): ${JSON.stringify(tried)}\n`);
  });

  describe('--password-file', () => {
    it('any file content: the exact first line, or a usage error naming the problem', async () => {
      let i = 0;
      await fc.assert(
        fc.asyncProperty(fc.oneof(nastyString(60), fc.string({ unit: 'binary', maxLength: 300 })), async (text) => {
          count('password-file');
          const file = path.join(dir, `pw-${i++}`);
          fs.writeFileSync(file, text, 'utf8');
          const onDisk = fs.readFileSync(file, 'utf8'); // lone surrogates become U+FFFD on the way to disk
          const line = onDisk.replace(/\r?\n$/, '');
          const valid = line.length > 0 && !/[\r\n\0]/.test(line) && line.length <= 256;
          try {
            const got = await suppliedPassword({ stdin: false, file: file });
            assert.ok(valid, `accepted an invalid password ${JSON.stringify(line).slice(0, 60)}`);
            assert.equal(got, line, 'exactly the first line');
          } catch (err) {
            assert.ok(!valid, `refused a valid password: ${String(err)}`);
            assertUsage(err, /empty|line break|NUL|longer than 256/, line);
          }
        }),
        params(400),
      );
    });

    it('1 MB file, a folder, a missing file: usage errors that say so', async () => {
      const big = path.join(dir, 'big');
      fs.writeFileSync(big, `${'Ab1!'.repeat(256 * 1024)}\n`);
      await assert.rejects(suppliedPassword({ stdin: false, file: big }), (e) => assertUsage(e, /longer than 256/));
      await assert.rejects(suppliedPassword({ stdin: false, file: dir }), (e) => assertUsage(e, /cannot read --password-file .*EISDIR/));
      await assert.rejects(suppliedPassword({ stdin: false, file: path.join(dir, 'none') }), (e) => assertUsage(e, /cannot read --password-file .*ENOENT/));
      count('password-file');
      count('password-file');
      count('password-file');
    });
  });

  describe('--password-stdin', () => {
    it('a valid password however the pipe chunks it arrives exactly', async () => {
      await fc.assert(
        fc.asyncProperty(validPassword, fc.array(fc.nat(300), { maxLength: 5 }), fc.boolean(), async (pw, cuts, crlf) => {
          count('password-stdin');
          const bytes = Buffer.from(`${pw}${crlf ? '\r\n' : '\n'}`, 'utf8');
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks: Buffer[] = [];
          let at = 0;
          for (const p of [...points, bytes.length]) {
            if (p > at) chunks.push(bytes.subarray(at, p));
            at = Math.max(at, p);
          }
          const got = validateSupplied(await readStdinLine(Readable.from(chunks)), 'stdin');
          assert.equal(got, pw);
        }),
        params(300),
      );
    });

    it('any stdin: a valid first line, or a usage error', async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(nastyString(60), fc.string({ unit: 'binary', maxLength: 200 })), async (text) => {
          count('password-stdin');
          try {
            const got = validateSupplied(await readStdinLine(Readable.from([Buffer.from(text, 'utf8')])), 'stdin');
            assert.ok(got.length > 0 && got.length <= 256 && !/[\r\n\0]/.test(got));
            assert.ok(Buffer.from(text, 'utf8').toString('utf8').startsWith(got), 'a prefix of the input');
          } catch (err) {
            assertUsage(err, /empty|line break|NUL|longer than 256|several|64 KiB/);
          }
        }),
        params(300),
      );
    });

    it('1 MB on stdin is refused after 64 KiB, without reading it all', async () => {
      count('password-stdin');
      const mb = Buffer.alloc(1024 * 1024, 'A');
      await assert.rejects(readStdinLine(Readable.from([mb.subarray(0, 65536), mb.subarray(65536)])), (e) => assertUsage(e, /more than 64 KiB/));
    });
  });

  describe('the in-pod script with a real sh and a real curl', () => {
    let server: http.Server;
    let base: string;
    let last: { auth: string; body: string } | undefined;
    const canary = path.join(os.tmpdir(), `reccred-canary-${process.pid}`);
    before(async () => {
      server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
          last = { auth: req.headers.authorization ?? '', body: Buffer.concat(chunks).toString('utf8') };
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end('{"ok":true}');
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => server.close());

    // Injection attempts carry a canary command; a shell that evaluated any of them would create the file.
    const withCanary = fc
      .tuple(validPassword, fc.constantFrom(`$(touch ${canary})`, `\`touch ${canary}\``, `;touch ${canary};`, `"; touch ${canary}; "`, ''))
      .map(([p, c]) => (p + c).slice(0, 256));
    const oddUser = fc
      .tuple(nastyString(10), nastyString(10))
      .map(([a, b]) => `${a}@${b}`.replace(/[\r\n\0]/g, ''))
      .filter((u) => u.length > 1);

    it('every valid password and odd username reaches the REST API byte-exact, and nothing is executed', async () => {
      await fc.assert(
        fc.asyncProperty(withCanary, withCanary, oddUser, async (oldPw, newPw, user) => {
          count('in-pod script');
          last = undefined;
          const body = { username: user, old_password: oldPw, new_password: newPw };
          const config = Buffer.from(curlConfig({ method: 'POST', url: `${base}/v1/users/password`, body, basicAuth: { username: user, password: oldPw }, maxTimeSeconds: 5 }));
          const res = await runInPodScript(Buffer.concat([Buffer.from(`rest\n${config.length}\nstdin\n`), config]));
          assert.equal(res.code, 0, res.stderr);
          const seen = last as { auth: string; body: string } | undefined; // set by the server's handler
          assert.ok(seen, 'the request arrived');
          assert.deepEqual(JSON.parse(seen.body), body, 'the body round-trips exactly');
          assert.equal(seen.auth, `Basic ${Buffer.from(`${user}:${oldPw}`).toString('base64')}`, 'the credentials round-trip exactly');
          assert.equal(parseCurlOutput(res.stdout)?.status, 200);
          assert.equal(fs.existsSync(canary), false, 'no injected command ran');
        }),
        params(120),
      );
    });

    it('a garbage request (any bytes) never runs anything: a clean refusal or a failed curl', async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(nastyString(30), fc.string({ unit: 'binary', maxLength: 80 })), async (junk) => {
          count('in-pod script');
          const res = await Promise.race([
            runInPodScript(Buffer.from(`${junk}\n`)),
            new Promise<{ code: number | null; stdout: string; stderr: string }>((r) => setTimeout(() => r({ code: -1, stdout: '', stderr: 'waiting for more input' }), 2000)),
          ]);
          // A first line that is not an operation exits 64; "rest" with a bad length waits for more (the
          // real session times out), never executes the junk.
          assert.ok(res.code === 64 || res.code === -1 || res.code === 0, `exit ${res.code}`);
          assert.equal(fs.existsSync(canary), false, 'no injected command ran');
        }),
        params(60),
      );
    });
  });

  describe('names', () => {
    const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
    it('REC names and namespaces: a DNS label, or a usage error that quotes at most 80 characters', () => {
      fc.assert(
        fc.property(fc.oneof(nastyString(20), fc.stringMatching(/^[a-z0-9-]{1,70}$/), fc.string({ unit: 'binary', maxLength: 100 })), (name) => {
          count('REC name');
          try {
            validateRecName(name);
            assert.match(name, DNS_LABEL);
          } catch (err) {
            assert.doesNotMatch(name, DNS_LABEL);
            assertUsage(err, /is not a valid REC name/);
            assert.ok((err as Error).message.length < 200);
          }
        }),
        params(1000),
      );
    });

    it('change-user --username: an accepted one is an email-like login with nothing to escape', async () => {
      const fake = { users: async () => [{ uid: 7, email: 'admin@redis.com' }] } as unknown as RestClient;
      await fc.assert(
        fc.asyncProperty(fc.oneof(nastyString(20), fc.emailAddress(), fc.string({ unit: 'binary', maxLength: 300 })), async (name) => {
          count('username');
          try {
            assert.equal(await checkNewUsername(fake, { username: 'admin@redis.com', password: 'x' }, name), 7);
            assert.ok(name.length <= 254 && name.includes('@') && !/[\s"\\]/.test(name), `accepted ${JSON.stringify(name)}`);
          } catch (err) {
            assertUsage(err, /is not a valid username|already the admin/);
          }
        }),
        params(500),
      );
    });

    it('--to-secret: NAMESPACE/NAME[:KEY] with valid names, or a usage error', () => {
      const api = {} as KubeApi;
      fc.assert(
        fc.property(fc.oneof(nastyString(15), fc.stringMatching(/^([a-z0-9-]{1,8}\/)?[a-z0-9.-]{1,10}(:[-._a-zA-Z0-9]{1,6})?$/), fc.string({ maxLength: 60 })), (spec) => {
          count('--to-secret');
          try {
            const t = SecretKeyTarget.parse(api, spec, 'default');
            assert.match(t.namespace, DNS_LABEL);
            assert.match(t.key, /^[-._a-zA-Z0-9]{1,253}$/);
            assert.ok(!/[/:]/.test(t.name));
          } catch (err) {
            assertUsage(err, /is not NAMESPACE\/NAME\[:KEY\]/);
          }
        }),
        params(1000),
      );
    });

    it('durations (--settle, --propagation-timeout, --request-timeout): a value a timer can hold, or a usage error', () => {
      fc.assert(
        fc.property(fc.oneof(nastyString(8), fc.stringMatching(/^\d{1,14}(\.\d{1,3})?(ms|s|m|h)?$/), fc.stringMatching(/^(\d{1,4}(ms|s|m|h)){1,3}$/)), (text) => {
          count('duration');
          try {
            const ms = parseDuration(text, '--settle');
            assert.ok(Number.isFinite(ms) && ms >= 0, `${text} -> ${ms}`);
            // Node's timers hold 2^31-1 ms; a longer one fires at once (a "1000000h" timeout would expire immediately).
            assert.ok(ms <= 2 ** 31 - 1, `${text} -> ${ms} ms does not fit a timer`);
          } catch (err) {
            if (err instanceof assert.AssertionError) throw err;
            assertUsage(err, /duration for --settle/);
          }
        }),
        params(1000),
      );
    });
  });
});
