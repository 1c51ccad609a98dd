// The help texts the entry prints without yargs (src/commands/quick-answer.ts) must be what yargs prints:
// for every command path, every form answered (`--help`, `-h`, `help`) and every width rendered, the bundle
// with the texts, the bundle without them (yargs as it runs in the executable: no locale files, the
// string-width stand-in) and yargs itself in this process (real string-width) print the same bytes. The
// built executable is checked too: its answer at the width of a pipe, for every command path.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildBundle } from '../../scripts/build-bundle.js';
import { commandPaths, renderHelp } from '../../scripts/bundle/help-texts.js';
import { findTarget } from '../../scripts/sea/runtime.js';
import { HELP_WIDTHS, helpWidth, quickAnswer } from '../../src/commands/quick-answer.js';
import { freshBinaries } from './built-binaries.js';

interface Run {
  stdout: string;
  stderr: string;
  status: number | null;
}

describe('help texts rendered at build time', function () {
  this.timeout(600_000);
  let dir: string;
  let cached: string;
  let live: string;
  const columnsPreload = (width: number) => path.join(dir, `columns-${width}.cjs`);
  const report = () => path.join(dir, 'report.cjs');

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-help-'));
    cached = (await buildBundle(path.join(dir, 'cached', 'kubectl-reccred.cjs'), { markEvaluated: /node_modules[\\/]yargs[\\/]/ })).path;
    live = (await buildBundle(path.join(dir, 'live', 'kubectl-reccred.cjs'), { helpTexts: false })).path;
    // A terminal of `width` columns, as yargs and main.ts read it (stdout.columns); a pipe has none (width 100).
    for (const width of [...HELP_WIDTHS, 90]) fs.writeFileSync(columnsPreload(width), `Object.defineProperty(process.stdout, 'columns', { value: ${width} });\n`);
    fs.writeFileSync(report(), `process.on('exit', () => require('fs').writeSync(3, JSON.stringify(globalThis.__reccredEvaluated ?? [])));\n`);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function run(bundle: string, args: string[], width: number): Run & { evaluated: string[] } {
    const preloads = width === 100 ? [] : ['-r', columnsPreload(width)];
    const r = spawnSync(process.execPath, [...preloads, '-r', report(), bundle, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status, evaluated: JSON.parse(String(r.output[3] || '[]')) as string[] };
  }

  const forms = (words: string[]) => [[...words, '--help'], [...words, '-h'], ...(words.length ? [] : [['help']])];

  it('lists every command path: the root, each command, each user command', () => {
    const paths = commandPaths().map((p) => p.join(' '));
    for (const p of ['', 'get', 'rotate', 'status', 'user', 'user rotate', 'user finish', 'completion', 'version']) assert.ok(paths.includes(p), p);
  });

  for (const width of HELP_WIDTHS) {
    it(`at ${width} columns, prints what yargs prints, for every command path and form, without loading yargs`, async () => {
      for (const words of commandPaths()) {
        const expected = await renderHelp([...words, '--help'], width);
        assert.ok(expected.includes('kubectl reccred'), `${words.join(' ')}: a help text`);
        for (const args of forms(words)) {
          const what = `${args.join(' ')} at ${width}`;
          assert.equal(await renderHelp(args, width), expected, `${what}: yargs in this process`);
          const fromCache = run(cached, args, width);
          assert.deepEqual(
            { stdout: fromCache.stdout, stderr: fromCache.stderr, status: fromCache.status },
            { stdout: expected, stderr: '', status: 0 },
            `${what}: from the texts`,
          );
          assert.deepEqual(fromCache.evaluated, [], `${what}: answered without yargs`);
        }
        // yargs as the executable runs it (no locale files, the string-width stand-in): the forms are yargs' own business, checked above.
        const fromYargs = run(live, [...words, '--help'], width);
        assert.deepEqual(
          { stdout: fromYargs.stdout, stderr: fromYargs.stderr, status: fromYargs.status },
          { stdout: expected, stderr: '', status: 0 },
          `${words.join(' ')} --help at ${width}: from yargs in the bundle`,
        );
      }
    });
  }

  it('leaves a width it has no texts for, and any other form, to yargs', async () => {
    assert.equal(quickAnswer(['--help'], 90), undefined);
    assert.equal(quickAnswer(['get', 'rec', '--help'], 100), undefined);
    assert.equal(
      quickAnswer(['constructor', '--help'], 100, () => ({ '100': {} })),
      undefined,
    );
    for (const args of [['--help'], ['get', '--help'], ['user', 'rotate', '-h']]) {
      const r = run(cached, args, 90);
      assert.equal(r.stdout, await renderHelp(args, 90), `${args.join(' ')} at 90`);
      assert.ok(r.evaluated.length > 0, `${args.join(' ')} at 90: yargs answered`);
    }
    const r = run(cached, ['get', 'rec', '--help'], 100);
    assert.equal(r.stdout, await renderHelp(['get', '--help'], 100));
    assert.ok(r.evaluated.length > 0, 'get rec --help: yargs answered');
  });

  it('takes the width as yargs did: the terminal, at most 110; 100 without one', () => {
    assert.equal(helpWidth(undefined), 100);
    assert.equal(helpWidth(0), 100);
    assert.equal(helpWidth(80), 80);
    assert.equal(helpWidth(240), 110);
  });

  it('the linux-amd64 executable prints the same texts', async () => {
    const [exe] = (await freshBinaries([findTarget('linux-amd64')])).paths;
    for (const words of commandPaths()) {
      const r = spawnSync(exe!, [...words, '--help'], { encoding: 'utf8' });
      assert.deepEqual({ stdout: r.stdout, stderr: r.stderr, status: r.status }, { stdout: await renderHelp([...words, '--help'], 100), stderr: '', status: 0 }, words.join(' '));
    }
  });
});
