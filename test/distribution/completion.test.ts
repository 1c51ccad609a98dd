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

  it('offers every user command and, for every command and user command, every long flag its --help lists', async function () {
    this.timeout(120_000);
    const help = (args: string[]) => execFileSync(path.join(repoRoot, 'bin', 'kubectl-reccred'), [...args, '--help'], { encoding: 'utf8' });
    const offered = async (words: string[]) =>
      (await complete(words))
        .trim()
        .split('\n')
        .slice(0, -1)
        .map((l) => l.split('\t')[0]!);
    const userCommands = [...help(['user']).matchAll(/^\s+kubectl reccred user ([\w-]+)/gm)].map((m) => m[1]!);
    assert.deepEqual([...userCommands].sort(), ['abort', 'finish', 'reset', 'rotate']);
    assert.deepEqual((await offered(['user', ''])).sort(), [...userCommands].sort());
    const commands = [...COMPLETABLE_COMMANDS.map((c) => [String(c.command).split(' ')[0]!]).filter(([c]) => c !== 'user'), ...userCommands.map((c) => ['user', c])];
    for (const words of commands) {
      const listed = new Set([...help(words).matchAll(/^\s+(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]!).filter((f) => f !== '--help' && f !== '--version'));
      const flags = new Set(await offered([...words, '--']));
      const missing = [...listed].filter((f) => !flags.has(f));
      assert.deepEqual(missing, [], `${words.join(' ')}: flags --help lists but completion does not offer`);
    }
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
