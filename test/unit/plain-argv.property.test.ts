// `get` read without yargs (src/commands/plain-argv.ts, with the table scripts/bundle/flag-table.ts takes from
// the flag declarations) must give what yargs gives: for every argument list it answers, the yargs command line
// (commands/cli.ts, get's handler swapped for a recorder) accepts the same list and hands get the same value
// for every flag and the REC's name. Lists it does not answer go to yargs, so they need no check here; the
// common forms must be answered, or the fast path would be dead code.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Argv, CommandModule } from 'yargs';
import { getFlagTable, recordFlagTable } from '../../scripts/bundle/flag-table.js';
import { cliParser } from '../../src/commands/cli.js';
import { getCommand } from '../../src/commands/get/cmd.js';
import { COMMANDS } from '../../src/commands/registry.js';
import { parsePlainArgv } from '../../src/commands/plain-argv.js';
import { holds, params } from './property-holds.js';

const table = getFlagTable();
const camelCase = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const KEYS = [table.positional, ...Object.keys(table.flags).map(camelCase)];
const project = (parsed: Record<string, unknown>) => Object.fromEntries(KEYS.map((k) => [k, parsed[k]]));

/** What yargs hands get's handler for `argv`, or the failure it reports. */
async function viaYargs(argv: string[]): Promise<{ flags: Record<string, unknown> } | { failed: string }> {
  let flags: Record<string, unknown> | undefined;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const recorder: CommandModule<any, any> = { ...getCommand, handler: (a: Record<string, unknown>) => void (flags = a) };
  const commands = COMMANDS.map((c) => (c === getCommand ? recorder : c));
  const parser = cliParser(argv, 100, commands)
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new Error(msg);
    });
  try {
    await parser.parseAsync();
  } catch (err) {
    return { failed: (err as Error).message };
  }
  return flags ? { flags } : { failed: 'the handler did not run' };
}

const FLAG_NAMES = Object.keys(table.flags);
const STRING_FLAGS = FLAG_NAMES.filter((n) => table.flags[n]?.type === 'string' && !table.flags[n]?.array);
const BOOLEAN_FLAGS = FLAG_NAMES.filter((n) => table.flags[n]?.type === 'boolean');
const weighted = <T>(...pairs: [number, fc.Arbitrary<T>][]) => fc.oneof(...pairs.map(([weight, arbitrary]) => ({ weight, arbitrary })));
// Mostly values a user gives; also numbers, dashes, spaces, empty, and any characters at all.
const value = weighted(
  [4, fc.constantFrom('redis', 'ns-1', 'ctx', 'kind-a', '30s', '0', '10', '/tmp/kc', 'https://10.0.0.1:6443')],
  [2, fc.constantFrom('text', 'json', 'yaml', 'true', 'false', 'a=b', 'x y', '1e3', '0x1f', '-1', '--x', '', ' ', '__proto__')],
  [1, fc.string({ maxLength: 6, unit: 'binary' })],
);
// yargs takes a pair of quotes off a value after '=' only.
const quoted = fc.tuple(fc.constantFrom('"', "'"), value).map(([q, v]) => `${q}${v}${q}`);
const flagToken = weighted(
  [6, fc.tuple(fc.constantFrom(...STRING_FLAGS), value).map(([n, v]) => [`--${n}`, v])],
  [4, fc.tuple(fc.constantFrom(...STRING_FLAGS), value).map(([n, v]) => [`--${n}=${v}`])],
  [3, fc.constantFrom(...BOOLEAN_FLAGS).map((n) => [`--${n}`])],
  [3, fc.tuple(fc.constantFrom('n', 's', 'o'), value).map(([a, v]) => [`-${a}`, v])],
  [2, fc.tuple(fc.constantFrom('-o', '--output', '--output='), fc.constantFrom('text', 'json', 'yaml', 'JSON', 'wide')).map(([f, v]) => (f.endsWith('=') ? [`${f}${v}`] : [f, v]))],
  [1, fc.tuple(fc.constantFrom(...FLAG_NAMES), value).map(([n, v]) => [`--${n}`, v])],
  [1, fc.tuple(fc.constantFrom(...FLAG_NAMES), quoted).map(([n, v]) => [`--${n}=${v}`])],
  [1, fc.tuple(fc.constantFrom(...FLAG_NAMES), quoted).map(([n, v]) => [`--${n}`, v])],
  // A flag given twice: yargs keeps the last value of most (their coerce), but makes a list of --tls-server-name's.
  [1, fc.tuple(fc.constantFrom('tls-server-name', 'namespace', 'output', 'reveal'), value, value).map(([n, a, b]) => [`--${n}`, a, `--${n}=${b}`])],
  [
    1,
    fc.constantFrom<string[]>(
      ['-q'],
      ['-y'],
      ['-v'],
      ['-vv'],
      ['--no-color'],
      ['--help'],
      ['-h'],
      ['--'],
      ['--unknown', 'x'],
      ['--requestTimeout', '5s'],
      ['-n=x'],
      ['-nredis'],
      ['--as-group', 'g'],
    ),
  ],
);
// Positionals yargs may read otherwise: help's names, numbers, the names of commands and of Object's own keys.
const positional = weighted(
  [4, fc.constantFrom('rec', 'rec-2', 'redis-enterprise')],
  [2, fc.constantFrom('12', 'x', 'help', 'h', 'version', 'get', 'completion', 'true', '1e3', '0x1f', '__proto__', 'constructor')],
  [1, value],
);
const argvArb = fc
  .tuple(
    fc.constantFrom('get', 'get', 'get', 'get', 'get', 'status'),
    fc.array(flagToken, { maxLength: 3 }),
    positional,
    fc.array(weighted([5, flagToken], [1, positional.map((p) => [p])]), { maxLength: 4 }),
  )
  .map(([command, before, rec, after]) => [command, ...before.flat(), rec, ...after.flat()]);

describe('get without yargs (commands/plain-argv.ts)', () => {
  it('answers only what yargs answers, with the same flags', async () => {
    let answered = 0;
    await holds(
      fc.asyncProperty(argvArb, async (argv) => {
        const plain = parsePlainArgv(argv, table);
        if (!plain) return;
        answered++;
        const yargs = await viaYargs(argv);
        assert.ok('flags' in yargs, `${JSON.stringify(argv)}: read without yargs, but yargs says: ${'failed' in yargs ? yargs.failed : ''}`);
        assert.deepEqual(project(plain), project(yargs.flags), JSON.stringify(argv));
      }),
      params(1000, 'plain-argv'),
    );
    assert.ok(answered > 150, `only ${answered} of 1000 lists were read without yargs: the property says little`);
  });

  it('answers the common forms', async () => {
    for (const argv of [
      ['get', 'rec'],
      ['get', 'rec', '-n', 'redis'],
      ['get', '-n', 'redis', 'rec', '--reveal', '-o', 'json'],
      ['get', 'rec', '--context=kind-a', '--kubeconfig', '/tmp/kc', '--request-timeout', '5s'],
      ['get', 'rec', '--as', 'admin', '--insecure-skip-tls-verify', '-q'],
    ]) {
      const plain = parsePlainArgv(argv, table);
      assert.ok(plain, `${argv.join(' ')}: read without yargs`);
      const yargs = await viaYargs(argv);
      assert.ok('flags' in yargs, argv.join(' '));
      assert.deepEqual(project(plain), project(yargs.flags), argv.join(' '));
    }
  });

  it('leaves to yargs what it cannot carry: repeats, counts, arrays, --no-X, unknown flags, help', () => {
    for (const argv of [
      ['get', 'rec', '-n', 'a', '-n', 'b'],
      ['get', 'rec', '-vv'],
      ['get', 'rec', '--as-group', 'g'],
      ['get', 'rec', '--no-color'],
      ['get', 'rec', '--reveal', 'false'],
      ['get', 'rec', '--unknown'],
      ['get', 'rec', '--help'],
      ['get', 'help'],
      ['get', '-q', 'h'],
      ['get', 'rec', '--namespace="redis"'],
      ['get', 'rec', 'other'],
      ['get'],
      ['status', 'rec'],
    ])
      assert.equal(parsePlainArgv(argv, table), undefined, argv.join(' '));
  });

  it('the table refuses a builder whose checks or settings it could not carry', () => {
    const withBuilder = (builder: (y: Argv) => Argv): CommandModule => ({ command: 'get <rec>', describe: 'get', builder, handler: () => undefined });
    const rec = (y: Argv) => y.positional('rec', { type: 'string' });
    assert.throws(() => recordFlagTable(withBuilder((y) => rec(y).check(() => true))), /\.check\(\)/);
    assert.throws(() => recordFlagTable(withBuilder((y) => rec(y).option('x', { type: 'string', coerce: (v: string) => v.trim() }))), /coerce of its own/);
    assert.throws(() => recordFlagTable(withBuilder((y) => rec(y).option('x', { type: 'string', requiresArg: true }))), /sets requiresArg/);
    assert.throws(() => recordFlagTable(withBuilder((y) => rec(y).option('x', { type: 'number' }))), /of type number/);
    assert.throws(() => recordFlagTable(withBuilder((y) => y.positional('rec', { type: 'number' }))), /not a plain string/);
    assert.throws(() => recordFlagTable(withBuilder((y) => rec(y).parserConfiguration({ 'camel-case-expansion': false }))), /parser configuration/);
  });
});
