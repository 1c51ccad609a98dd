// Property-based bad input, at the unit level where thousands of cases are cheap: the password sources
// (file and stdin, up to 1 MB), the in-pod script with a real sh and a real curl, and the validators of
// REC names, namespaces, usernames, --to-secret and durations. Every property has two sides: valid inputs,
// built from parts so the test knows what they mean, must give exactly that value (a validator that
// refuses everything fails); any input, valid or not, must agree with an oracle written from the contract
// (bad-input.oracle.ts) or from the Kubernetes source (kubernetes-names.oracle.ts), never from src/ (a
// validator that accepts everything fails). Refusals are usage errors (exit 2) naming the problem, never
// repeating the secret. The distinct inputs run per property and side are printed as a [figures] line.
// Seeded: RECCRED_SEED replays.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
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
import { IN_POD_SCRIPT } from '../../src/pod/in-pod-script.js';
import { checkNewUsername } from '../../src/procedures/user-change.js';
import { loadRecTarget } from '../../src/rec/rec-target.js';
import type { Session } from '../../src/rec/session.js';
import type { RestClient } from '../../src/rest/rest-client.js';
import { SecretKeyTarget } from '../../src/store/to-secret.js';
import { durationOracle, inPodOracle, isEmailLikeLogin, passwordFileOracle, passwordStdinOracle, PASSWORD_MAX, toSecretOracle, USERNAME_MAX } from './bad-input.oracle.js';
import { answersOf, NONCE, restRequest, runOne } from './in-pod-runner.js';
import { isDns1123Label, isDns1123Subdomain, isSecretDataKey } from './kubernetes-names.oracle.js';
import { holds, params } from './property-holds.js';

// ---- counting the distinct inputs that ran ----------------------------------------------------------------
const ran: Record<string, { valid: Set<string>; invalid: Set<string> }> = {};

/** Records inputs of one property for one test; `atLeast` fails the test when a side was barely reached. */
function tally(property: string) {
  const all = (ran[property] ??= { valid: new Set(), invalid: new Set() });
  const here = { valid: new Set<string>(), invalid: new Set<string>() };
  return {
    add(valid: boolean, input: string): void {
      (valid ? all.valid : all.invalid).add(input);
      (valid ? here.valid : here.invalid).add(input);
    },
    atLeast(valid: number, invalid: number): void {
      assert.ok(here.valid.size >= valid, `${property}: only ${here.valid.size} distinct valid inputs ran (want ${valid})`);
      assert.ok(here.invalid.size >= invalid, `${property}: only ${here.invalid.size} distinct invalid inputs ran (want ${invalid})`);
    },
  };
}

/** Proves a property ran both sides of a length limit: a valid input of exactly `max`, and one of `max + 1` made only of allowed characters. */
function lengthEdge(property: string, allowed: RegExp, max: number) {
  let atMax = false;
  let pastMax = false;
  return {
    see(input: string, valid: boolean): void {
      if (valid && input.length === max) atMax = true;
      if (!valid && input.length === max + 1 && allowed.test(input)) pastMax = true;
    },
    check(): void {
      assert.ok(atMax, `${property}: no valid input of exactly ${max} characters ran`);
      assert.ok(pastMax, `${property}: no input of ${max + 1} allowed characters ran`);
    },
  };
}

function figures(): string {
  const out: Record<string, unknown> = {};
  let total = 0;
  for (const [k, v] of Object.entries(ran)) {
    out[k] = { valid: v.valid.size, invalid: v.invalid.size };
    total += v.valid.size + v.invalid.size;
  }
  return JSON.stringify({ ...out, total });
}

// ---- generators -----------------------------------------------------------------------------------------
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
const hasLoneSurrogate = (s: string) => /[\uD800-\uDFFF]/.test(s.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''));
/** What a password is allowed to be: 1..256 UTF-16 units, no CR, LF or NUL, well-formed text; lengths 250..256 included. */
const shortPassword = nastyString(40)
  .map((s) => s.replace(/[\r\n\0]/g, ''))
  .filter((s) => s.length > 0 && s.length <= PASSWORD_MAX && !hasLoneSurrogate(s));
const validPassword = fc.oneof(
  { weight: 4, arbitrary: shortPassword },
  { weight: 1, arbitrary: fc.tuple(shortPassword, fc.integer({ min: 250, max: PASSWORD_MAX })).map(([p, n]) => (p.length < n ? 'x'.repeat(n - p.length) + p : p)) },
);
const show = (s: string) => `${JSON.stringify(s.slice(0, 70))}${s.length > 70 ? `… (${s.length} units)` : ''}`;

const LOWER_ALNUM = [...'abcdefghijklmnopqrstuvwxyz0123456789'];
const alnum = fc.constantFrom(...LOWER_ALNUM);
const chars = (c: fc.Arbitrary<string>, n: number) => fc.array(c, { minLength: n, maxLength: n }).map((a) => a.join(''));
/** Lengths spread over 1..max with the edges (1, 2, max-1, max) drawn often. */
const lengthUpTo = (max: number) => fc.oneof(fc.integer({ min: 1, max }), fc.constantFrom(1, 2, max - 1, max));
/** An RFC 1123 label of length n, '-' inside as often as letters. */
const labelOf = (n: number) => (n === 1 ? alnum : fc.tuple(alnum, chars(fc.oneof(alnum, fc.constant('-')), n - 2), alnum).map(([a, b, c]) => a + b + c));
const validLabel = lengthUpTo(63).chain(labelOf);
/** An RFC 1123 subdomain of length n: alphanumerics with '.' and '-' put where they are allowed. */
const subdomainOf = (n: number) =>
  fc.tuple(chars(alnum, n), fc.array(fc.tuple(fc.nat(), fc.constantFrom('.', '-')), { maxLength: 12 })).map(([s, seps]) => {
    const a = [...s];
    for (const [p, sep] of seps) {
      const i = p % n;
      if (i === 0 || i === n - 1) continue;
      const near = [a[i - 1], a[i + 1]];
      if (sep === '.' && near.some((c) => c === '.' || c === '-')) continue;
      if (sep === '-' && near.includes('.')) continue;
      a[i] = sep;
    }
    return a.join('');
  });
const validSubdomain = fc.oneof(fc.integer({ min: 1, max: 40 }), lengthUpTo(253)).chain(subdomainOf);
const KEY_CHARS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.'];
const validKey = lengthUpTo(253)
  .chain((n) => chars(fc.constantFrom(...KEY_CHARS), n))
  .map((k) => (k.startsWith('..') || k === '.' ? `k${k.slice(1)}` : k));

/** Near misses: a valid name with one thing wrong (or, by chance, still right: the oracle decides). */
const ODD_UNICODE = ['é', 'ı', '\u212a' /* Kelvin sign, lower-cases to k */, 'ａ', 'ß', '\u0301', '🔑', '\u200b', 'ǅ', '٣'];
const FORBIDDEN_ASCII = ['_', ' ', ':', '/', '@', '\0', '\n', '%', '*', '.', '-', 'A', 'Z'];
const nearMiss = (valid: fc.Arbitrary<string>) =>
  fc
    .tuple(
      valid,
      fc.nat(),
      fc.constantFrom('upper', 'dash-start', 'dash-end', 'dot-start', 'dot-end', 'dot-inside', 'dots-inside', 'dot-dash', 'unicode', 'ascii', 'longer', 'pad'),
      fc.constantFrom(...ODD_UNICODE),
      fc.constantFrom(...FORBIDDEN_ASCII),
      fc.constantFrom(62, 63, 64, 65, 252, 253, 254, 255),
    )
    .map(([s, p, how, u, x, n]) => {
      const i = s.length === 0 ? 0 : p % s.length;
      const at = (piece: string) => s.slice(0, i) + piece + s.slice(i);
      switch (how) {
        case 'upper':
          return s.slice(0, i) + (s[i] ?? 'a').toUpperCase() + s.slice(i + 1);
        case 'dash-start':
          return `-${s}`;
        case 'dash-end':
          return `${s}-`;
        case 'dot-start':
          return `.${s}`;
        case 'dot-end':
          return `${s}.`;
        case 'dot-inside':
          return at('.');
        case 'dots-inside':
          return at('..');
        case 'dot-dash':
          return at(p % 2 ? '.-' : '-.');
        case 'unicode':
          return at(u);
        case 'ascii':
          return at(x);
        case 'longer':
          return `${s}a`;
        case 'pad':
          return s.length >= n ? s.slice(0, n) : s + 'a'.repeat(n - s.length);
      }
    });
/** Anything a name could be given as: valid, nearly valid, lengths at every edge, odd alphabets, binary. */
const anyName = (valid: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 3, arbitrary: valid },
    { weight: 4, arbitrary: nearMiss(valid) },
    { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom('a', 'b', '9', '-', '.', 'A', '_', ' ', 'é'), maxLength: 70 }) },
    { weight: 1, arbitrary: fc.constantFrom('', '.', '..', '-', 'a', '0', 'a-', '-a', 'a..b', 'a.-b', 'a-.b', '..a', '.a', 'a.', 'default', 'kube-system') },
    { weight: 1, arbitrary: nastyString(20) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 100 }) },
  );

function caught(run: () => unknown): unknown {
  try {
    run();
    return undefined;
  } catch (err) {
    return err;
  }
}

async function caughtAsync(run: () => Promise<unknown>): Promise<{ value?: unknown; err?: unknown }> {
  try {
    return { value: await run() };
  } catch (err) {
    return { err };
  }
}

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
  let failed = false;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-prop-'))));
  afterEach(function () {
    if (this.currentTest?.state !== 'passed') failed = true;
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    // Figures only from a run whose every property held: a failing property stops early and shrinks.
    if (!failed) process.stdout.write(`      [figures] property inputs: ${figures()}\n`);
  });

  describe('--password-file', () => {
    let i = 0;
    const readFile = (bytes: Buffer) => {
      const file = path.join(dir, `pw-${i++}`);
      fs.writeFileSync(file, bytes);
      return suppliedPassword({ stdin: false, file });
    };

    it('a valid password, with or without a trailing LF or CRLF, is read exactly', async () => {
      const t = tally('password-file');
      await holds(
        fc.asyncProperty(validPassword, fc.constantFrom('', '\n', '\r\n'), async (pw, end) => {
          t.add(true, pw + end);
          // A refusal breaks the contract as much as a wrong value: both fail as assertions.
          const read = await readFile(Buffer.from(pw + end, 'utf8')).catch((err: unknown) => assert.fail(`a valid password was refused: ${String(err)}`));
          assert.equal(read, pw);
        }),
        params(300, 'password-file valid'),
      );
      t.atLeast(200, 0);
    });

    it('any file content: exactly the password the contract reads from it, or a usage error naming its problem', async () => {
      const t = tally('password-file');
      const edge = lengthEdge('password-file', /^[^\r\n\0]+$/, PASSWORD_MAX);
      const content = fc.oneof(
        nastyString(60).map((s) => Buffer.from(s, 'utf8')),
        fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
        fc.tuple(validPassword, fc.constantFrom('\n\n', '\r', '\n\r\n', '\0', '\nsecond line', 'x'.repeat(PASSWORD_MAX), '\r\r\n', '')).map(([p, e]) => Buffer.from(p + e)),
        fc.tuple(validPassword, fc.uint8Array({ minLength: 1, maxLength: 3 })).map(([p, junk]) => Buffer.concat([Buffer.from(p), Buffer.from(junk)])),
        fc.constantFrom('', '\n', '\r\n', 'x'.repeat(257), `${'é'.repeat(256)}\n`, `${'🔑'.repeat(128)}\n`, `${'🔑'.repeat(129)}\n`).map((s) => Buffer.from(s)),
      );
      await holds(
        fc.asyncProperty(content, async (bytes) => {
          const want = passwordFileOracle(bytes);
          t.add(want.ok, bytes.toString('base64'));
          edge.see(bytes.toString('utf8'), want.ok);
          const got = await caughtAsync(() => readFile(bytes));
          if (want.ok) assert.equal(got.value, want.password, `${show(want.password)}: ${String(got.err)}`);
          else {
            assert.ok(got.err, `accepted ${show(bytes.toString('utf8'))}`);
            assertUsage(got.err, new RegExp(want.problems.map((r) => r.source).join('|')), bytes.toString('utf8').split('\n')[0]);
          }
        }),
        params(500, 'password-file any'),
      );
      t.atLeast(50, 100);
      edge.check();
    });

    it('1 MB file, a folder, a missing file: usage errors that say so', async () => {
      const t = tally('password-file');
      const big = path.join(dir, 'big');
      fs.writeFileSync(big, `${'Ab1!'.repeat(256 * 1024)}\n`);
      await assert.rejects(suppliedPassword({ stdin: false, file: big }), (e) => assertUsage(e, /longer than 256/));
      await assert.rejects(suppliedPassword({ stdin: false, file: dir }), (e) => assertUsage(e, /cannot read --password-file .*EISDIR/));
      await assert.rejects(suppliedPassword({ stdin: false, file: path.join(dir, 'none') }), (e) => assertUsage(e, /cannot read --password-file .*ENOENT/));
      for (const input of ['1 MB', 'a folder', 'a missing file']) t.add(false, input);
    });
  });

  describe('--password-stdin', () => {
    it('a valid password however the pipe chunks it arrives exactly', async () => {
      const t = tally('password-stdin');
      await holds(
        fc.asyncProperty(validPassword, fc.array(fc.nat(300), { maxLength: 5 }), fc.constantFrom('\n', '\r\n', '\n\n', '\n \n'), async (pw, cuts, end) => {
          const bytes = Buffer.from(`${pw}${end}`, 'utf8');
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          t.add(true, JSON.stringify([pw, end, points]));
          const chunks: Buffer[] = [];
          let at = 0;
          for (const p of [...points, bytes.length]) {
            if (p > at) chunks.push(bytes.subarray(at, p));
            at = Math.max(at, p);
          }
          assert.equal(validateSupplied(await readStdinLine(Readable.from(chunks)), 'stdin'), pw);
        }),
        params(300, 'password-stdin valid'),
      );
      t.atLeast(200, 0);
    });

    it('any stdin: exactly the password the contract reads from it, or a usage error naming its problem', async () => {
      const t = tally('password-stdin');
      const input = fc.oneof(
        nastyString(60).map((s) => Buffer.from(s, 'utf8')),
        fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
        fc.tuple(validPassword, fc.constantFrom('\n', '\r\n', '\n\n', '\n \t\n', '\nsecond', '\r', '\0\n', '')).map(([p, e]) => Buffer.from(p + e)),
        fc.tuple(validPassword, fc.uint8Array({ minLength: 1, maxLength: 3 })).map(([p, junk]) => Buffer.concat([Buffer.from(p), Buffer.from(junk), Buffer.from('\n')])),
        fc.constantFrom('', '\n', '\n\n', 'x'.repeat(257), `${'x'.repeat(256)}\n`).map((s) => Buffer.from(s)),
      );
      await holds(
        fc.asyncProperty(input, async (bytes) => {
          const want = passwordStdinOracle(bytes);
          t.add(want.ok, bytes.toString('base64'));
          const got = await caughtAsync(async () => validateSupplied(await readStdinLine(Readable.from([bytes])), 'stdin'));
          if (want.ok) assert.equal(got.value, want.password, `${show(want.password)}: ${String(got.err)}`);
          else {
            assert.ok(got.err, `accepted ${show(bytes.toString('utf8'))}`);
            assertUsage(got.err, new RegExp(want.problems.map((r) => r.source).join('|')), bytes.toString('utf8').split('\n')[0]);
          }
        }),
        params(500, 'password-stdin any'),
      );
      t.atLeast(50, 100);
    });

    it('1 MB on stdin is refused after 64 KiB, without reading it all', async () => {
      tally('password-stdin').add(false, '1 MB');
      const mb = Buffer.alloc(1024 * 1024, 'A');
      await assert.rejects(readStdinLine(Readable.from([mb.subarray(0, 65536), mb.subarray(65536)])), (e) => assertUsage(e, /more than 64 KiB/));
    });
  });

  describe('the in-pod script with a real sh and a real curl', () => {
    let server: http.Server;
    let base: string;
    let last: { auth: string; body: string } | undefined;
    const canary = path.join(os.tmpdir(), `reccred-canary-${process.pid}`);
    // Each injection, and a shell context that would run it: the control test proves the canary fires.
    const INJECTIONS: { text: string; firesIn: string }[] = [
      { text: `$(touch ${canary})`, firesIn: 'eval "x=$1"' },
      { text: `\`touch ${canary}\``, firesIn: 'eval "x=$1"' },
      { text: `;touch ${canary};`, firesIn: 'eval "x=$1"' },
      { text: `"; touch ${canary}; "`, firesIn: 'eval "x=\\"$1\\""' },
      { text: `'; touch ${canary}; '`, firesIn: `eval "x='$1'"` },
      { text: `|touch ${canary}`, firesIn: 'eval "echo $1"' },
      { text: `&&touch ${canary}`, firesIn: 'eval "true $1"' },
      { text: `\${IFS}touch\${IFS}${canary}`, firesIn: 'eval "x=1 $1"' },
      { text: `x\ntouch ${canary}`, firesIn: 'eval "echo $1"' },
    ];
    const injection = fc.constantFrom(...INJECTIONS.map((i) => i.text));

    before(async () => {
      server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          last = { auth: req.headers.authorization ?? '', body: Buffer.concat(chunks).toString('utf8') };
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end('{"ok":true}');
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => {
      server.close();
      fs.rmSync(canary, { force: true });
    });

    it('control: every injection used below does create the canary file when a shell evaluates it', async () => {
      for (const { text, firesIn } of INJECTIONS) {
        fs.rmSync(canary, { force: true });
        await new Promise<void>((resolve) => spawn('sh', ['-c', firesIn, 'sh', text], { stdio: 'ignore' }).on('close', () => resolve()));
        assert.ok(fs.existsSync(canary), `${JSON.stringify(text)} fired in ${firesIn}`);
      }
      fs.rmSync(canary, { force: true });
    });

    const withCanary = fc.tuple(validPassword, fc.option(injection, { freq: 2 })).map(([p, c]) => (p + (c ?? '')).slice(0, PASSWORD_MAX));
    const oddUser = fc
      .tuple(nastyString(10), nastyString(10), fc.option(injection, { freq: 4 }))
      .map(([a, b, c]) => `${a}@${b}${c ?? ''}`.replace(/[\r\n\0]/g, ''))
      .filter((u) => u.length > 1);

    it('every valid password and odd username reaches the REST API byte-exact, and nothing is executed', async () => {
      const t = tally('in-pod script');
      let injected = 0;
      await holds(
        fc.asyncProperty(withCanary, withCanary, oddUser, async (oldPw, newPw, user) => {
          t.add(true, JSON.stringify([oldPw, newPw, user]));
          if ([oldPw, newPw, user].some((s) => s.includes(canary))) injected++;
          fs.rmSync(canary, { force: true }); // so that a failure names the input that created it
          last = undefined;
          const body = { username: user, old_password: oldPw, new_password: newPw };
          const config = Buffer.from(curlConfig({ method: 'POST', url: `${base}/v1/users/password`, body, basicAuth: { username: user, password: oldPw }, maxTimeSeconds: 5 }));
          const res = await runOne(restRequest(config));
          assert.equal(res.code, 0, res.stderr);
          const seen = last as { auth: string; body: string } | undefined; // set by the server's handler
          assert.ok(seen, 'the request arrived');
          const arrived: unknown = (() => {
            try {
              return JSON.parse(seen.body);
            } catch {
              return assert.fail(`the body arrived as no JSON: ${seen.body}`);
            }
          })();
          assert.deepEqual(arrived, body, 'the body round-trips exactly');
          assert.equal(seen.auth, `Basic ${Buffer.from(`${user}:${oldPw}`).toString('base64')}`, 'the credentials round-trip exactly');
          assert.equal(parseCurlOutput(res.stdout)?.status, 200);
          assert.equal(fs.existsSync(canary), false, 'no injected command ran');
        }),
        params(120, 'in-pod valid'),
      );
      t.atLeast(100, 0);
      assert.ok(injected >= 30, `only ${injected} requests carried an injection`);
    });

    /** Runs the script on a conversation; `patienceMs` is how long it may run before it counts as waiting for more. */
    function runConversation(stdin: Buffer, patienceMs: number, chunks: number[]): Promise<{ code: number | null; stdout: string; stderr: string; waited: boolean }> {
      return new Promise((resolve) => {
        const child = spawn('sh', ['-c', IN_POD_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
        let stdout = '';
        let stderr = '';
        let waited = false;
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
        const timer = setTimeout(() => {
          waited = true;
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL'); // sh and the curl it started
        }, patienceMs);
        child.on('exit', () => child.stdin.destroy());
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code: waited ? null : code, stdout, stderr, waited });
        });
        child.stdin.on('error', () => undefined);
        // In pieces, as WebSocket frames may cut it anywhere; never ended: the script must not need EOF.
        void (async () => {
          let at = 0;
          for (const size of [...chunks, stdin.length]) {
            if (at >= stdin.length || child.stdin.destroyed) break;
            child.stdin.write(stdin.subarray(at, (at = Math.min(stdin.length, at + size))));
            await new Promise((r) => setTimeout(r, 2));
          }
        })();
      });
    }

    it('a garbage conversation never runs anything: it is refused, answers the requests it names, fails in curl, or waits', async () => {
      const t = tally('in-pod script');
      const seenInjection = { hello: 0, op: 0, line: 0 };
      const field = fc.oneof(
        { weight: 3, arbitrary: nastyString(12) },
        { weight: 3, arbitrary: injection },
        { weight: 1, arbitrary: fc.tuple(nastyString(4), injection, nastyString(4)).map((a) => a.join('')) },
        { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
      );
      const count = fc.oneof(fc.nat(4).map(String), fc.constantFrom('-5', '5k', '0x10', '', '1e3', '00', '01', '1000', ' 1', '1 '), field);
      const request = fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom('tools\n', 'hash\n', 'stop\n') },
        { weight: 1, arbitrary: fc.constantFrom('rest\n', 'tools\r\n', 'REST 1\n', ' rest 1\n', 'to\0ols\n', '\n') },
        { weight: 4, arbitrary: fc.tuple(count, fc.array(field, { maxLength: 4 })).map(([n, ls]) => `rest ${n}\n${ls.map((l) => `${l}\n`).join('')}`) },
        { weight: 2, arbitrary: field.map((f) => `${f}\n`) },
      );
      const conversation = fc
        .record({
          hello: fc.oneof(
            { weight: 6, arbitrary: fc.constant(`reccred ${NONCE}\n`) },
            { weight: 1, arbitrary: field.filter((f) => !/^[0-9a-f]+$/.test(f)).map((f) => `reccred ${f}\n`) },
            { weight: 1, arbitrary: field.map((f) => `${f}\n`) },
          ),
          requests: fc.array(request, { minLength: 1, maxLength: 4 }),
          cut: fc.boolean(),
          chunks: fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 8 }),
        })
        // Sometimes the last request stops short (a frame still to come).
        .map((r) => {
          const whole = r.hello + r.requests.join('');
          return { ...r, text: r.cut && whole.length > 2 ? whole.slice(0, whole.length - 1 - (whole.length % 5)) : whole };
        });
      await holds(
        fc.asyncProperty(conversation, async (r) => {
          const want = inPodOracle(r.text);
          t.add(want.end.kind === 'exit' && want.end.code === 0, r.text);
          if (r.hello.includes(canary)) seenInjection.hello++;
          if (r.requests.some((q) => q.split('\n')[0]!.includes(canary))) seenInjection.op++;
          if (
            r.requests.some(
              (q) =>
                q.startsWith('rest ') &&
                q
                  .split('\n')
                  .slice(1)
                  .some((l) => l.includes(canary)),
            )
          )
            seenInjection.line++;
          const expectWait = want.end.kind !== 'exit';
          fs.rmSync(canary, { force: true }); // so that a failure names the input that created it
          const res = await runConversation(Buffer.from(r.text, 'utf8'), expectWait ? 400 : 20_000, r.chunks);
          assert.equal(fs.existsSync(canary), false, `an injected command ran: ${show(r.text)}`);
          const answers = answersOf(res.stdout, res.stderr);
          const predicted = want.end.kind === 'curl or waits' ? want.answers.length - 1 : want.answers.length;
          // Every answer predicted before anything undecidable is there, of the kind predicted.
          assert.ok(answers.length >= predicted, `${answers.length} answers, ${predicted} predicted: ${show(r.text)}`);
          want.answers.slice(0, predicted).forEach((kind, i) => {
            const a = answers[i]!;
            if (kind === 'tools') assert.ok(a.code === 0 && a.stdout.endsWith('checked\n'), `answer ${i} (tools): ${show(r.text)}`);
            else if (kind === 'hash')
              assert.ok(a.code === 0 && /^username (missing|[0-9a-f]{64})\npassword (missing|[0-9a-f]{64})\n$/.test(a.stdout), `answer ${i} (hash): ${show(r.text)}`);
            else assert.notEqual(a.code, 0, `answer ${i} (curl on a config with no URL): ${show(r.text)}`);
          });
          switch (want.end.kind) {
            case 'waits':
              assert.ok(res.waited, `expected it to wait for more input, got exit ${res.code}: ${show(r.text)}`);
              assert.equal(answers.length, want.answers.length, `exactly the predicted answers, then waiting: ${show(r.text)}`);
              break;
            case 'curl or waits':
              break;
            case 'exit':
              assert.equal(res.code, want.end.code, `exit code for ${show(r.text)}`);
              assert.equal(answers.length, want.answers.length, `exactly the predicted answers: ${show(r.text)}`);
          }
        }),
        params(150, 'in-pod garbage'),
      );
      // The canary is worth something only if the generator puts it in every line the script reads.
      for (const [k, n] of Object.entries(seenInjection)) assert.ok(n >= 5, `an injection reached the ${k} line only ${n} times`);
      t.atLeast(10, 80);
    });
  });

  describe('names', () => {
    /** A session whose cluster records the REC name loadRecTarget asks for, then stops it. */
    const STOP = new Error('stop after the name checks');
    function session(namespace: string, asked: string[]): Session {
      const cluster = {
        getRec: (name: string) => {
          asked.push(name);
          return Promise.reject(STOP);
        },
      };
      return { namespace, cluster } as unknown as Session;
    }
    /** Undefined when loadRecTarget passed its name checks and asked the cluster for exactly `rec`. */
    async function nameCheck(namespace: string, rec: string): Promise<unknown> {
      const asked: string[] = [];
      const { err } = await caughtAsync(() => loadRecTarget(session(namespace, asked), rec));
      if (err !== STOP) return err;
      assert.deepEqual(asked, [rec], 'the cluster is asked for exactly that REC');
      return undefined;
    }

    it('REC names: every RFC 1123 label (lengths 1 to 63) is accepted and looked up as given', async () => {
      const t = tally('REC name');
      await holds(
        fc.asyncProperty(validLabel, async (name) => {
          assert.ok(isDns1123Label(name), `generator: ${name}`);
          t.add(true, name);
          assert.equal(await nameCheck('default', name), undefined, `refused ${show(name)}`);
        }),
        params(500, 'REC name valid'),
      );
      t.atLeast(300, 0);
    });

    it('REC names: any string is accepted exactly when Kubernetes takes it as a label, else refused naming it', async () => {
      const t = tally('REC name');
      const edge = lengthEdge('REC name', /^[a-z0-9-]+$/, 63);
      await holds(
        fc.asyncProperty(anyName(validLabel), async (name) => {
          const valid = isDns1123Label(name);
          t.add(valid, name);
          edge.see(name, valid);
          const err = await nameCheck('default', name);
          if (valid) assert.equal(err, undefined, `refused the label ${show(name)}: ${String(err)}`);
          else {
            assert.ok(err, `accepted ${show(name)}, which is not an RFC 1123 label`);
            assertUsage(err, /is not a valid REC name/);
            assert.ok((err as Error).message.length < 200, 'quotes at most 80 characters');
          }
        }),
        params(1500, 'REC name any'),
      );
      t.atLeast(300, 600);
      edge.check();
    });

    it('namespaces: every RFC 1123 label (lengths 1 to 63) is accepted', async () => {
      const t = tally('namespace');
      await holds(
        fc.asyncProperty(validLabel, async (ns) => {
          t.add(true, ns);
          assert.equal(await nameCheck(ns, 'rec'), undefined, `refused ${show(ns)}`);
        }),
        params(500, 'namespace valid'),
      );
      t.atLeast(300, 0);
    });

    it('namespaces: any string is accepted exactly when Kubernetes takes it as a namespace name, else refused naming it', async () => {
      const t = tally('namespace');
      const edge = lengthEdge('namespace', /^[a-z0-9-]+$/, 63);
      await holds(
        fc.asyncProperty(anyName(validLabel), async (ns) => {
          const valid = isDns1123Label(ns);
          t.add(valid, ns);
          edge.see(ns, valid);
          const err = await nameCheck(ns, 'rec');
          if (valid) assert.equal(err, undefined, `refused the namespace ${show(ns)}: ${String(err)}`);
          else {
            assert.ok(err, `accepted the namespace ${show(ns)}`);
            assertUsage(err, /is not a valid namespace name/);
          }
        }),
        params(1500, 'namespace any'),
      );
      t.atLeast(300, 600);
      edge.check();
    });

    describe('--to-secret NAMESPACE/NAME[:KEY]', () => {
      const api = {} as KubeApi;
      const DEFAULT_NS = 'the-default';
      const parse = (spec: string) => SecretKeyTarget.parse(api, spec, DEFAULT_NS);
      /** Compares the parser with the oracle on one spec; returns whether it was valid. */
      function agrees(spec: string): boolean {
        const want = toSecretOracle(spec, DEFAULT_NS);
        const err = caught(() => {
          const got = parse(spec);
          assert.ok(want.ok, `accepted ${show(spec)} (namespace ${show(got.namespace)}, name ${show(got.name)}, key ${show(got.key)}), which the API server would refuse`);
          assert.deepEqual({ namespace: got.namespace, name: got.name, key: got.key }, { namespace: want.namespace, name: want.name, key: want.key });
        });
        if (err instanceof assert.AssertionError) throw err;
        if (want.ok) assert.equal(err, undefined, `refused ${show(spec)}: ${String(err)}`);
        else assertUsage(err, /is not NAMESPACE\/NAME\[:KEY\]/);
        return want.ok;
      }
      const spec = (ns: string | null, name: string, key: string | null) => `${ns === null ? '' : `${ns}/`}${name}${key === null ? '' : `:${key}`}`;

      it('every valid spec is accepted with exactly its parts (namespace default: the command\'s; key default: "password")', () => {
        const t = tally('--to-secret');
        holds(
          fc.property(fc.option(validLabel), validSubdomain, fc.option(validKey), (ns, name, key) => {
            assert.ok(isDns1123Subdomain(name) && isSecretDataKey(key ?? 'password'), `generator: ${name} ${key}`);
            const s = spec(ns, name, key);
            t.add(true, s);
            const got = parse(s);
            assert.deepEqual({ namespace: got.namespace, name: got.name, key: got.key }, { namespace: ns ?? DEFAULT_NS, name, key: key ?? 'password' });
          }),
          params(600, '--to-secret valid'),
        );
        t.atLeast(500, 0);
      });

      it('the namespace part: accepted exactly when it is an RFC 1123 label', () => {
        const t = tally('--to-secret');
        const edge = lengthEdge('--to-secret namespace', /^[a-z0-9-]+$/, 63);
        holds(
          fc.property(anyName(validLabel), (ns) => {
            const s = spec(ns, 'cache', 'password');
            const valid = agrees(s);
            t.add(valid, s);
            edge.see(ns, valid);
          }),
          params(800, '--to-secret namespace'),
        );
        t.atLeast(150, 300);
        edge.check();
      });

      it('the name part: accepted exactly when it is an RFC 1123 subdomain (a Secret name)', () => {
        const t = tally('--to-secret');
        const edge = lengthEdge('--to-secret name', /^[a-z0-9.-]+$/, 253);
        holds(
          fc.property(anyName(validSubdomain), (name) => {
            const s = spec('apps', name, 'password');
            const valid = agrees(s);
            t.add(valid, s);
            edge.see(name, valid);
          }),
          params(1000, '--to-secret name'),
        );
        t.atLeast(200, 400);
        edge.check();
      });

      it('the key part: accepted exactly when it is a Secret data key', () => {
        const t = tally('--to-secret');
        const edge = lengthEdge('--to-secret key', /^[-._a-zA-Z0-9]+$/, 253);
        const anyKey = fc.oneof(
          validKey,
          nearMiss(validKey),
          fc.constantFrom('.', '..', '..a', '.a', 'a..', 'a.b', '_', '-', 'A-Z_0.9', ''),
          fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', '_', '.', ':', '/', ' ', 'é'), maxLength: 20 }),
        );
        holds(
          fc.property(anyKey, (key) => {
            const s = spec('apps', 'cache', key);
            const valid = agrees(s);
            t.add(valid, s);
            edge.see(key, valid);
          }),
          params(800, '--to-secret key'),
        );
        t.atLeast(150, 200);
        edge.check();
      });

      it('any spec: accepted with exactly the parts Kubernetes would take, else refused naming the syntax', () => {
        const t = tally('--to-secret');
        const piece = fc.oneof(validLabel, fc.constantFrom('', '/', ':', '//', '::', 'a/b', 'a:b', '.'), nastyString(6));
        const any = fc.oneof(
          fc.tuple(piece, piece, piece, fc.constantFrom('/', ':', '', '/:', ':/')).map(([a, b, c, seps]) => `${a}${seps[0] ?? ''}${b}${seps[1] ?? ''}${c}`),
          fc.stringMatching(/^([a-z0-9-]{1,8}\/)?[a-z0-9.-]{1,10}(:[-._a-zA-Z0-9]{1,6})?$/),
          fc.string({ maxLength: 60 }),
          nastyString(15),
        );
        holds(
          fc.property(any, (s) => {
            t.add(agrees(s), s);
          }),
          params(800, '--to-secret any'),
        );
        t.atLeast(40, 300);
      });
    });

    describe('change-user --username', () => {
      const ADMIN = 'admin@redis.com';
      const rest = (others: string[]) =>
        ({ users: () => Promise.resolve([{ uid: 7, email: ADMIN }, ...others.map((email, i) => ({ uid: 100 + i, email }))]) }) as unknown as RestClient;
      const check = (name: string, others: string[] = []) => caughtAsync(() => checkNewUsername(rest(others), { username: ADMIN, password: 'x' }, name));
      const LOCAL = [..."abcXYZ019.+-_!#$%&*/=?^`{|}~'();<>,[]:", 'é', '密', '🔑', '\u202e'];
      const side = fc.array(fc.constantFrom(...LOCAL), { minLength: 1, maxLength: 30 }).map((a) => a.join(''));
      const validUsername = fc.oneof(
        fc.emailAddress(),
        fc.tuple(side, side).map(([l, d]) => `${l}@${d}`),
        fc.tuple(side, side, fc.integer({ min: USERNAME_MAX - 3, max: USERNAME_MAX })).map(([l, d, n]) => {
          const u = `${l}@${d}`;
          return u.length >= n ? u : `${'a'.repeat(n - u.length)}${u}`;
        }),
      );

      it('every email-like login up to 254 characters is accepted, and compared exactly with the users the cluster has', async () => {
        const t = tally('username');
        await holds(
          fc.asyncProperty(
            validUsername.filter((u) => u !== ADMIN),
            async (name) => {
              assert.ok(isEmailLikeLogin(name), `generator: ${name}`);
              t.add(true, name);
              const fresh = await check(name);
              assert.equal(fresh.value, 7, `refused ${show(name)}: ${String(fresh.err)}`);
              // The exact name is what is compared: a user that already has it makes the command refuse.
              const taken = await check(name, [name]);
              assert.ok(taken.err, `accepted ${show(name)} although the cluster already has a user with exactly that email`);
              assertUsage(taken.err, /already exists/);
            },
          ),
          params(400, 'username valid'),
        );
        t.atLeast(300, 0);
      });

      it('any username: accepted exactly when it is an email-like login, else refused naming it', async () => {
        const t = tally('username');
        const edge = lengthEdge('username', /^[^\s"\\@]+@[^\s"\\@]+$/, USERNAME_MAX);
        const nearMissUser = fc
          .tuple(validUsername, fc.nat(), fc.constantFrom(' ', '\t', '"', '\\', '@', '\u00a0', '\u3000', '\ufeff', '\u2028', '\n', 'x'.repeat(USERNAME_MAX)))
          .map(([u, p, x]) => u.slice(0, p % (u.length + 1)) + x + u.slice(p % (u.length + 1)));
        const anyUser = fc.oneof(
          validUsername,
          nearMissUser,
          nastyString(20),
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.constantFrom(ADMIN, '', '@', 'a@', '@a', 'a@b@c', `${'a'.repeat(USERNAME_MAX - 2)}@b`, `${'a'.repeat(USERNAME_MAX - 1)}@b`),
        );
        await holds(
          fc.asyncProperty(anyUser, async (name) => {
            const valid = isEmailLikeLogin(name);
            t.add(valid, name);
            edge.see(name, valid);
            const got = await check(name);
            if (name === ADMIN) assertUsage(got.err, /already the admin username/);
            else if (valid) assert.equal(got.value, 7, `refused ${show(name)}: ${String(got.err)}`);
            else {
              assert.ok(got.err, `accepted ${show(name)}`);
              assertUsage(got.err, /is not a valid username/);
            }
          }),
          params(800, 'username any'),
        );
        t.atLeast(150, 300);
        edge.check();
      });
    });

    describe('durations (--settle, --propagation-timeout, --request-timeout)', () => {
      const FLAGS = ['--settle', '--propagation-timeout', '--request-timeout'];
      const flag = fc.constantFrom(...FLAGS);
      const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
      type Unit = keyof typeof UNIT_MS;
      /** One "12.5m" piece and the whole number of ms it means (fractions only where they stay whole ms). */
      const part = fc
        .record({ unit: fc.constantFrom<Unit>('h', 'm', 's', 'ms'), whole: fc.oneof(fc.nat(99), fc.nat(100_000)), frac: fc.option(fc.stringMatching(/^\d{1,3}$/)) })
        .map(({ unit, whole, frac }) => {
          const f = unit === 'ms' ? null : frac;
          const ms = whole * UNIT_MS[unit] + (f === null ? 0 : (Number(f) * UNIT_MS[unit]) / 10 ** f.length);
          return { text: `${whole}${f === null ? '' : `.${f}`}${unit}`, ms };
        });
      const bareSeconds = fc
        .tuple(fc.oneof(fc.nat(99), fc.nat(2_000_000)), fc.option(fc.stringMatching(/^\d{1,3}$/)))
        .map(([whole, f]) => ({ text: `${whole}${f === null ? '' : `.${f}`}`, ms: whole * 1000 + (f === null ? 0 : (Number(f) * 1000) / 10 ** f.length) }));
      const meant = fc
        .tuple(
          fc.oneof(
            {
              weight: 6,
              arbitrary: fc.array(part, { minLength: 1, maxLength: 4 }).map((ps) => ({ text: ps.map((p) => p.text).join(''), ms: ps.reduce((sum, p) => sum + p.ms, 0) })),
            },
            { weight: 3, arbitrary: bareSeconds },
            {
              weight: 1,
              arbitrary: fc.constantFrom({ text: '2147483647ms', ms: 2 ** 31 - 1 }, { text: '596h31m23s647ms', ms: 2 ** 31 - 1 }, { text: '0', ms: 0 }, { text: '0s', ms: 0 }),
            },
          ),
          fc.constantFrom('', ' ', '\t', '\n'),
        )
        .map(([d, blank]) => ({ text: blank + d.text + blank, ms: d.ms }));

      it('every duration that fits a timer gives exactly the milliseconds it means', () => {
        const t = tally('duration');
        holds(
          fc.property(
            meant.filter((d) => d.ms <= 2 ** 31 - 1),
            flag,
            (d, f) => {
              t.add(true, d.text);
              assert.equal(parseDuration(d.text, f), d.ms, `${show(d.text)} means ${d.ms} ms`);
            },
          ),
          params(600, 'duration valid'),
        );
        t.atLeast(500, 0);
      });

      it('any text: the milliseconds the contract reads from it, or a usage error naming the flag (and "longer than 24 days" past a timer)', () => {
        const t = tally('duration');
        const junk = fc.constantFrom(
          '',
          ' ',
          '5x',
          '5S',
          '5 s',
          '-5s',
          '+5s',
          '1.5.5s',
          '.5s',
          '5.s',
          '1e3',
          '1e3s',
          '5sec',
          '5min',
          '1d',
          '1h30',
          'h',
          'ms',
          '٣s',
          '５s',
          '5µs',
          '5us',
          '5ns',
          '0x10s',
          'Infinity',
          'NaN',
          '5s5',
          '1m 30s',
          '2147483648ms',
          '596h31m23s648ms',
          '2147483.6475s',
          '9999999999999999999999h',
        );
        const insert = fc.tuple(meant, fc.nat(), fc.constantFrom(...NASTY, 'x', '.', '-', 'd', 'S', '5')).map(([d, p, x]) => {
          const i = p % (d.text.length + 1);
          return d.text.slice(0, i) + x + d.text.slice(i);
        });
        const any = fc.oneof(
          meant.map((d) => d.text),
          insert,
          junk,
          nastyString(8),
          fc.stringMatching(/^\d{1,14}(\.\d{1,3})?(ms|s|m|h)?$/),
          fc.stringMatching(/^(\d{1,4}(\.\d{1,2})?(ms|s|m|h)){1,3}$/),
        );
        holds(
          fc.property(any, flag, (text, f) => {
            const want = durationOracle(text);
            t.add(want.ok, text);
            let got: number | undefined;
            const err = caught(() => (got = parseDuration(text, f)));
            if (want.nearLimit) return; // within a ms of 2^31-1 after rounding: either answer is right
            if (want.ok) {
              assert.equal(err, undefined, `refused ${show(text)}: ${String(err)}`);
              if (want.exact) assert.equal(got, want.ms, `${show(text)}`);
              else assert.ok(got === want.floor || got === want.floor + 1, `${show(text)} -> ${got}, not ${want.floor} or ${want.floor + 1}`);
            } else {
              assert.ok(err, `accepted ${show(text)} as ${got} ms`);
              assertUsage(err, new RegExp(`invalid duration for ${f}: "`));
              if (want.why === 'too long') assert.match((err as Error).message, /is longer than 24 days/);
              else assert.doesNotMatch((err as Error).message, /longer than/, 'a syntax error is not called too long');
            }
          }),
          params(1200, 'duration any'),
        );
        t.atLeast(300, 300);
      });
    });
  });
});
