// Bad input end to end, through the real kubectl (the heavy property runs are in
// test/unit/bad-input.property.test.ts): REC names, namespaces, usernames, --user, flags and passwords
// drawn from fast-check (seeded) plus hand-picked attacks. Each gives exit 2 with a message naming the
// problem and nothing changed, or the correct result: a valid password round-trips exactly (the store
// holds it, every pod mounts it, the cluster accepts exactly it). A canary file proves no injected
// command ran on the machine or in a pod; the guard checks pod argv, lockouts and leaks.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import type { SimCluster } from '../sim/cluster.js';
import { startSimCluster } from '../sim/cluster.js';
import { journalExists, validPasswords, guardOperatorLogins } from '../e2e/harness.js';
import { Guard, SEED, printTally } from './guard.js';

const NS = 'default';
const REC = 'rec';
const FAST = ['--settle', '1s', '--propagation-timeout', '30s'];
const CANARY = path.join(os.tmpdir(), `reccred-e2e-canary-${process.pid}`);
const INJECT = [`$(touch ${CANARY})`, `\`touch ${CANARY}\``, `;touch ${CANARY}`];

describe('reliability: bad input end to end', function () {
  this.timeout(600_000);
  let sim: SimCluster;
  guardOperatorLogins(() => sim);
  let g: Guard;
  const t0 = Date.now();
  let inputs = 0;

  const creds = () => sim.credentials(REC)!;
  const snapshot = () => ({ creds: creds(), valid: validPasswords(sim, REC, creds().username), journal: journalExists(sim, NS, REC) });
  /** exit 2, a message naming the problem, no stack trace (the guard), nothing changed. */
  const assertRefused = (r: { code: number | null; stderr: string }, problem: RegExp, before: ReturnType<typeof snapshot>) => {
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^error: /m);
    assert.match(r.stderr, problem);
    assert.deepEqual(snapshot(), before, 'nothing changed');
    assert.equal(fs.existsSync(CANARY), false, 'no injected command ran');
    inputs++;
  };
  const assertSettled = (password?: string) => {
    assert.equal(journalExists(sim, NS, REC), false);
    assert.deepEqual(validPasswords(sim, REC, creds().username), [creds().password], 'the cluster accepts exactly the stored password');
    if (password !== undefined) {
      assert.equal(creds().password, password, 'the store holds the password exactly');
      for (const pod of sim.recs[0]!.pods) assert.equal(sim.podCredentials(NS, pod)?.password, password, `${pod} mounts it exactly`);
    }
    assert.equal(fs.existsSync(CANARY), false, 'no injected command ran');
  };

  before(async () => {
    sim = await startSimCluster({ recs: [{ name: REC, namespace: NS }], pods: 2, syncDelayMs: 400, operatorIntervalMs: 250 });
    g = new Guard(sim);
    process.stdout.write(`      [seed] RECCRED_SEED=${SEED}\n`);
  });
  after(async () => {
    g?.dispose();
    fs.rmSync(CANARY, { force: true });
    await sim?.stop();
  });

  // No NUL (argv cannot hold it) and no leading "-" (that is a flag, tested below).
  const argText = fc.oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
    fc.constantFrom(...INJECT, 'REC', 'rec.x', 'a'.repeat(64), '../../etc', 'rec\n', 'ünï', ' rec'),
  );
  const samples = (n: number, seedOffset: number) =>
    fc.sample(
      argText.filter((s) => !s.includes('\0') && !s.startsWith('-') && s !== REC),
      { seed: SEED + seedOffset, numRuns: n },
    );

  it('REC names: exit 2 naming the problem (invalid or not found)', async () => {
    const before = snapshot();
    for (const name of [...samples(8, 1), ...INJECT]) {
      const r = await g.run(['get', name]);
      assertRefused(r, /is not a valid REC name|not found in namespace/, before);
    }
  });

  it('namespaces: exit 2 naming the problem', async () => {
    const before = snapshot();
    for (const ns of [...samples(6, 2), INJECT[0]!]) {
      const r = await g.run(['get', REC, '-n', ns]);
      assertRefused(r, /is not a valid namespace name|namespace ".*" does not exist/, before);
    }
  });

  it('change-user --username: invalid ones exit 2 before anything changes', async () => {
    const before = snapshot();
    const bad = [
      ...samples(4, 3).filter((s) => !/^[^\s@"\\]+@[^\s@"\\]+$/.test(s)),
      'no-at-sign',
      'two@@example.com',
      'sp ace@example.com',
      'quo"te@example.com',
      `${'a'.repeat(250)}@example.com`,
    ];
    for (const name of bad) {
      const r = await g.run(['change-user', REC, '--username', name, ...FAST]);
      assertRefused(r, /is not a valid username/, before);
    }
  });

  it('change-user --username with shell metacharacters that are valid in a login: the exact name everywhere, nothing executed', async () => {
    // No whitespace (refused, rightly): ${IFS} stands in for the space an injected command needs.
    for (const name of [`o'brien+$(touch\${IFS}${CANARY})@example.com`, `ünï\`touch\${IFS}${CANARY}\`;|&@exämple.com`]) {
      const r = await g.run(['change-user', REC, '--username', name, ...FAST]);
      assert.equal(r.code, 0, r.stderr);
      assertSettled();
      assert.equal(creds().username, name, 'the store holds the username exactly');
      assert.equal((sim.store.get('redisenterpriseclusters', NS, REC)!.spec as { username: string }).username, name, 'spec.username exactly');
      assert.equal(sim.redis(REC).findUser(name)?.role, 'admin', 'the cluster user has exactly that email');
      for (const pod of sim.recs[0]!.pods) assert.equal(sim.podCredentials(NS, pod)?.username, name);
      inputs++;
    }
  });

  it('user --user that is no user of the cluster: exit 2 naming it', async () => {
    const before = snapshot();
    for (const user of [...samples(3, 4), INJECT[1]!]) {
      const r = await g.run(['user', 'rotate', REC, '--user', user, '--current-password-stdin'], { stdin: 'Whatever-Pa55!\n' });
      assertRefused(r, /has no user|default user/, before);
    }
  });

  it('flags: bad durations, lengths and a --password flag exit 2 naming the flag', async () => {
    const before = snapshot();
    const cases: Array<[string[], RegExp]> = [
      [['--settle', 'soon'], /--settle/],
      [['--settle', '1000000h'], /--settle.*longer than 24 days/],
      [['--request-timeout', '9999999999'], /--request-timeout.*longer than 24 days/],
      [['--propagation-timeout', '1e9'], /--propagation-timeout/],
      [['--length', '5'], /--length/],
      [['--length', '100000'], /--length/],
      [['--password', 'Inline-Pa55word!'], /Unknown argument|password/],
      [['--password-stdin', '--password-file', '/dev/null'], /cannot be used together/],
    ];
    for (const [flags, problem] of cases) {
      const r = await g.run(['rotate', REC, ...flags]);
      assertRefused(r, problem, before);
    }
  });

  describe('passwords', () => {
    // The test's own password files live in the sim's folder, outside what the hygiene scan reads.
    const file = (content: string | Buffer) => {
      const p = path.join(sim.dir, `pw-${inputs}-${Date.now()}`);
      fs.writeFileSync(p, content, { mode: 0o600 });
      return p;
    };

    it('invalid passwords on stdin and in files (multi-line, NUL, empty, 257 chars, 1 MB): exit 2, nothing changed, never echoed', async () => {
      const before = snapshot();
      const cases: Array<{ stdin?: string; file?: string | Buffer; problem: RegExp }> = [
        { stdin: 'Line-One-Pa55!\nLine-Two-Pa55!\n', problem: /one line, got several/ },
        { stdin: 'Nul-\0-Inside-Pa55!\n', problem: /NUL/ },
        { stdin: '\n', problem: /empty/ },
        { stdin: '', problem: /empty/ },
        { stdin: `${'Ab1!'.repeat(64)}x\n`, problem: /longer than 256/ },
        { stdin: `${'Ab1!'.repeat(256 * 1024)}\n`, problem: /more than 64 KiB/ },
        { file: `${'Ab1!'.repeat(256 * 1024)}\n`, problem: /longer than 256/ },
        { file: 'Cr-\r-Inside-Pa55!\n', problem: /line break/ },
        { file: Buffer.from([0x41, 0x62, 0x31, 0x21, 0x00, 0x41, 0x62, 0x31, 0x21]), problem: /NUL/ },
        { file: '', problem: /empty/ },
      ];
      for (const c of cases) {
        if (c.stdin !== undefined) {
          const secret = c.stdin.split('\n')[0]!;
          if (secret.length >= 8 && secret.length < 1000) g.addPassword(secret);
          const r = await g.run(['rotate', REC, ...FAST, '--password-stdin'], { stdin: c.stdin });
          assertRefused(r, c.problem, before);
        } else {
          const r = await g.run(['rotate', REC, ...FAST, '--password-file', file(c.file!)]);
          assertRefused(r, c.problem, before);
        }
      }
      const missing = await g.run(['rotate', REC, '--password-file', path.join(g.tmp, 'no-such-file')]);
      assertRefused(missing, /cannot read --password-file .*ENOENT/, before);
    });

    // fast-check draws (seeded) plus the attacks: each must round-trip exactly.
    const validNasty = fc
      .tuple(fc.string({ unit: 'grapheme', minLength: 4, maxLength: 30 }), fc.constantFrom(...INJECT, `"'\\`, '${IFS}', '%s%n', '\\n'))
      .map(([a, b]) => `${a}${b}Aa1!`.replace(/[\r\n\0]/g, ''))
      .filter((p) => p.length <= 256);
    const drawn = fc.sample(validNasty, { seed: SEED + 5, numRuns: 2 });
    const chosen = [`q"uo'te\\back$(touch ${CANARY})\`touch ${CANARY}\`;|&-Aa1!`, `ünïcødé-密码-🔑-\u202e-Aa1!`, `${'Zz9#'.repeat(63)}Aa1!`, ...drawn];
    for (const [i, pw] of chosen.entries()) {
      const via = i % 2 === 0 ? 'stdin' : 'file';
      it(`valid password #${i + 1} (${pw.length} chars, via --password-${via}) round-trips exactly`, async () => {
        g.addPassword(pw);
        const r =
          via === 'stdin'
            ? await g.run(['rotate', REC, ...FAST, '--password-stdin'], { stdin: `${pw}\n` })
            : await g.run(['rotate', REC, ...FAST, '--password-file', file(`${pw}\n`)]);
        assert.equal(r.code, 0, r.stderr);
        assertSettled(pw);
        inputs++;
      });
    }
  });

  describe('secret hygiene over the bad-input runs', () => {
    it('no password leaked; no unexpected command ran in a pod; no canary', () => {
      assert.equal(fs.existsSync(CANARY), false);
      const { passwords, texts } = g.assertClean(t0);
      printTally('bad-input (e2e)', { inputsTried: inputs, passwordsTracked: passwords, textsScanned: texts });
    });
  });
});
