// The completion engine's command list must follow the CLI's: a command added to main.ts but not to
// COMPLETABLE_COMMANDS would silently not complete.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../../scripts/build-bundle.js';
import { complete, COMPLETABLE_COMMANDS, wordsAfter } from '../../src/commands/complete/complete.js';
import { completionScript } from '../../src/commands/completion/scripts.js';

describe('completion', () => {
  it('offers every command that --help lists', async function () {
    this.timeout(60_000);
    const help = execFileSync(path.join(repoRoot, 'bin', 'kubectl-reccred'), ['--help'], { encoding: 'utf8' });
    const listed = [...help.matchAll(/^\s+kubectl reccred ([\w-]+)/gm)].map((m) => m[1]!);
    const offered = (await complete(['']))
      .trim()
      .split('\n')
      .slice(0, -1)
      .map((l) => l.split('\t')[0]);
    assert.ok(listed.length >= 6, help);
    assert.deepEqual([...new Set(listed)].sort(), [...offered].sort());
    assert.equal(offered.length, COMPLETABLE_COMMANDS.length);
  });

  it('takes the words after __complete and its --, untouched', () => {
    assert.deepEqual(wordsAfter(['node', 'main.ts', '__complete', '--', 'get', '--help', '']), ['get', '--help', '']);
  });

  it('lets the shell complete file names for --kubeconfig', async () => {
    assert.equal(await complete(['get', '--kubeconfig', '']), ':0\n');
  });

  it('writes a script for each shell that calls __complete', () => {
    for (const shell of ['bash', 'zsh', 'fish'] as const) assert.match(completionScript(shell), /kubectl-reccred __complete -- /);
  });
});
