// The redactor finds a secret in every form it travels in (issue 11, defect 6): base64 of any text that
// contains it at every alignment, URL- and form-encoded, JSON-escaped (also \uXXXX), across a cut, in a
// stack trace; and a secret is registered the moment it is read.
import assert from 'node:assert/strict';
import { Redactor, redactor } from '../../src/output/redactor.js';
import { restErrorFrom } from '../../src/rest/rest-errors.js';
import { base64Cores, leaksIn } from '../e2e/harness.js';

const PASSWORD = 'Xq7#pLm2!vR9@tZw';
const NON_ASCII = 'Pässwörd-€-密码-🔑-A1!';
const basic = (user: string, password: string) => `Authorization: Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

function fresh(...secrets: string[]): Redactor {
  const r = new Redactor();
  r.add(...secrets);
  return r;
}

describe('redactor', () => {
  it('scrubs the Basic token of ops@example.com (the password at alignment 1)', () => {
    const text = `> GET /v1/cluster HTTP/1.1\n> ${basic('ops@example.com', PASSWORD)}\n`;
    const out = fresh(PASSWORD).scrub(text);
    assert.deepEqual(leaksIn([out], [PASSWORD]), []);
    assert.match(out, /\*{8}/);
  });

  it('scrubs base64 of user:password for 15-character usernames at every alignment, and any prefix', () => {
    const r = fresh(PASSWORD);
    for (const user of ['abc@example.com', 'ab@example.com', 'abcd@example.com', 'demo@redis.com', 'x', '']) {
      for (const extra of ['', 'a', 'ab', 'abc']) {
        const token = Buffer.from(`${extra}${user}:${PASSWORD}`).toString('base64');
        const urlSafe = token.replace(/\+/g, '-').replace(/\//g, '_');
        for (const t of [token, urlSafe, `Basic ${token}\n`]) {
          const out = r.scrub(t);
          assert.deepEqual(leaksIn([out], [PASSWORD]), [], `user ${JSON.stringify(extra + user)}: ${out}`);
        }
      }
    }
  });

  it('the harness finds base64 at every alignment too (issue 15)', () => {
    for (const user of ['abc@example.com', 'ab@example.com', 'abcd@example.com']) {
      assert.notDeepEqual(leaksIn([basic(user, PASSWORD)], [PASSWORD]), [], user);
    }
    assert.equal(base64Cores(PASSWORD).length, 3);
  });

  it('scrubs URL-encoded and form-encoded forms, either hex case', () => {
    const secret = 'a b/c?d&e=f+g%h#1Ä';
    const r = fresh(secret);
    const forms = [
      encodeURIComponent(secret),
      encodeURIComponent(secret)
        .toLowerCase()
        .replace(/%[0-9a-f]{2}/g, (m) => m.toLowerCase()),
      new URLSearchParams({ p: secret }).toString().slice(2),
      encodeURI(secret),
    ];
    for (const f of forms) {
      const out = r.scrub(`before ${f} after`);
      assert.equal(out, 'before ******** after', `${f} -> ${out}`);
    }
  });

  it('scrubs JSON-escaped forms: JSON.stringify, \\u-escaped non-ASCII (either case), escaped slash', () => {
    const secret = `q"uo\\te/${NON_ASCII}\t`;
    const r = fresh(secret);
    const stringified = JSON.stringify(secret).slice(1, -1);
    // As an ASCII-only encoder (Python's json.dumps, Go's HTML-safe encoder) writes it.
    const asciiOnly = stringified.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const upper = asciiOnly.replace(/\\u([0-9a-f]{4})/g, (_m, h: string) => `\\u${h.toUpperCase()}`);
    const slash = stringified.replace(/\//g, '\\/');
    for (const f of [secret, stringified, asciiOnly, upper, slash, JSON.stringify({ message: `bad ${secret}` })]) {
      const out = r.scrub(f);
      assert.ok(!out.includes('uo'), `${f} -> ${out}`);
      assert.match(out, /\*{8}/);
    }
    // A lone surrogate, as JSON.stringify escapes it.
    const lone = 'Lone-\ud800-A1!';
    assert.equal(fresh(lone).scrub(`x ${JSON.stringify(lone)} y`), 'x "********" y');
  });

  it('scrubs hex', () => {
    const out = fresh(PASSWORD).scrub(Buffer.from(`u:${PASSWORD}`).toString('hex').toUpperCase());
    assert.ok(!out.includes(Buffer.from(PASSWORD).toString('hex').toUpperCase()));
  });

  it('a body cut after the scrub keeps no part of a secret that crosses the cut', () => {
    const r = fresh(PASSWORD);
    const body = `${'x'.repeat(290)}${PASSWORD}${'y'.repeat(100)}`;
    const cut = r.excerpt(body, 300);
    assert.ok(cut.length <= 300);
    assert.ok(!cut.includes(PASSWORD.slice(0, 6)), cut);
  });

  it('a REST error with a non-JSON body: scrubbed before it is cut', () => {
    redactor.add(PASSWORD);
    const body = `<html><body>${'x'.repeat(280)} ${PASSWORD} trailing</body></html>`;
    const err = restErrorFrom(500, body, 'GET /v1/cluster');
    assert.ok(!err.message.includes(PASSWORD.slice(0, 6)), err.message);
  });

  it('scrubs stack traces and their causes', () => {
    const r = fresh(PASSWORD);
    const inner = new Error(`inner ${encodeURIComponent(PASSWORD)}`);
    const outer = new Error(`outer ${PASSWORD}`, { cause: inner });
    const out = r.stack(outer);
    assert.match(out, /at /, 'still a stack');
    assert.match(out, /caused by/);
    assert.deepEqual(leaksIn([out], [PASSWORD]), []);
    assert.equal(r.stack('plain ' + PASSWORD), 'plain ********');
  });

  it('a longer secret that contains a shorter one is removed whole', () => {
    assert.equal(fresh('abcdefgh', 'abcdefgh-longer').scrub('[abcdefgh-longer]'), '[********]');
  });

  it('copes with huge secrets, lone surrogates and hundreds of secrets', () => {
    const huge = 'Ab1!'.repeat(64 * 1024);
    const lone = 'Lone-\udc00-A1!';
    const many = Array.from({ length: 300 }, (_, i) => `Fleet-Password-${i}-${'x'.repeat(20)}!`);
    const r = fresh(huge, lone, ...many);
    assert.equal(r.scrub(`a ${huge} b`), 'a ******** b');
    assert.equal(r.scrub(`a ${lone} b`), 'a ******** b');
    assert.equal(r.scrub(`a ${many[123]} b`), 'a ******** b');
  });

  it('finds a URL-safe base64 core that begins with - or _ (+ or / in the standard alphabet)', () => {
    // The one-pass check of every secret looks up a match's first two units: both alphabets must be there.
    for (const opening of ['+', '/']) {
      const secret = Array.from({ length: 95 }, (_, i) => `${String.fromCharCode(0x20 + i)}otated-pw`).find((s) => base64Cores(s).some((c) => c.startsWith(opening)));
      assert.ok(secret, `no candidate secret has a base64 core beginning with ${opening}`);
      for (let k = 0; k < 3; k++) {
        const urlSafe = Buffer.from('x'.repeat(k) + secret).toString('base64url');
        assert.ok(!fresh(secret).scrub(`token ${urlSafe} end`).includes(urlSafe.slice(4, -4)), `alignment ${k}: ${urlSafe}`);
      }
    }
  });

  it('a hundred secrets: each is masked in any of its forms, and a text without them is left as it is', () => {
    const many = Array.from({ length: 100 }, (_, i) => `Fleet-${i}-p%w/d+${'é'.repeat(i % 3)}`);
    const r = fresh(...many);
    for (const [i, s] of many.entries()) {
      const forms = [s, JSON.stringify(s), encodeURIComponent(s), Buffer.from(s).toString('hex').toUpperCase(), Buffer.from(`u:${s}`).toString('base64url')];
      const form = forms[i % forms.length]!;
      assert.ok(!r.scrub(`a ${form} b`).includes(form), `secret ${i} as ${form}`);
    }
    const clean = JSON.stringify({ recs: many.map((_, i) => ({ name: `rec-${i}`, phase: 'completed' })) }, null, 2);
    assert.equal(r.scrub(clean), clean);
  });

  it('leaves text without secrets alone', () => {
    const r = fresh(PASSWORD);
    const text = 'GET /v1/cluster 200 {"name":"cluster.local"} dGhpcyBpcyBmaW5l';
    assert.equal(r.scrub(text), text);
  });
});
