// Answers `__complete` in cobra's format, which kubectl (1.26+) expects from kubectl_complete-<plugin>:
// candidates one a line (`value<TAB>description`), the last line `:<directive>`. Commands and flags come
// from the command modules themselves; REC names, namespaces and contexts from the cluster and the
// kubeconfig, quietly and with a short timeout (a slow API must not freeze the user's shell).
import fs from 'node:fs';
import yaml from 'js-yaml';
import yargs, { type Argv } from 'yargs';
import { withGlobalFlags } from '../global-flags.js';
import { COMMANDS, SUBCOMMANDS } from '../registry.js';
import { SHELLS } from '../completion/shells.js';

/** The commands offered; test/distribution/completion.test.ts checks this against `--help`. */
export const COMPLETABLE_COMMANDS = COMMANDS;

/** cobra's ShellCompDirective bits. */
export const Directive = { Default: 0, Error: 1, NoSpace: 2, NoFileComp: 4 } as const;

const LOOKUP_TIMEOUT_MS = 2000;
/** Flags whose value is a file: let the shell complete paths. */
const FILE_FLAGS = new Set(['kubeconfig', 'password-file', 'vault-cacert', 'certificate-authority', 'client-certificate', 'client-key', 'cache-dir']);

/** The words after `__complete` (and its `--`), from the raw argv so that no flag parsing touches them. */
export function wordsAfter(argv: string[]): string[] {
  const at = argv.indexOf('__complete');
  const rest = at < 0 ? [] : argv.slice(at + 1);
  return rest[0] === '--' ? rest.slice(1) : rest;
}

interface FlagSpec {
  /** The flag's own name first, then its aliases. */
  names: [string, ...string[]];
  takesValue: boolean;
  choices?: string[];
}

function flagsOf<T>(y: Argv<T>): Map<string, FlagSpec> {
  // getOptions() is public in yargs but missing from @types/yargs.
  const o = (y as unknown as { getOptions(): unknown }).getOptions() as {
    key: Record<string, boolean>;
    alias: Record<string, string[]>;
    boolean: string[];
    count: string[];
    choices: Record<string, string[]>;
    hiddenOptions: string[];
  };
  const specs = new Map<string, FlagSpec>();
  const aliasOf = new Set(Object.values(o.alias).flat());
  for (const key of Object.keys(o.key)) {
    if (aliasOf.has(key) || key === 'version' || o.hiddenOptions.includes(key)) continue;
    const names: FlagSpec['names'] = [key, ...(o.alias[key] ?? [])];
    const takesValue = !o.boolean.includes(key) && !o.count.includes(key);
    const spec: FlagSpec = { names, takesValue, ...(o.choices[key] ? { choices: o.choices[key] } : {}) };
    for (const n of names) specs.set(n, spec);
    if (o.boolean.includes(key)) specs.set(`no-${key}`, { names: [`no-${key}`], takesValue: false });
  }
  return specs;
}

/** A command module of the registry (typed there by its own flags, so any one of them). */
type Command = (typeof COMPLETABLE_COMMANDS)[number];

/** The text before the first `sep`, or all of it: what `text.split(sep)[0]` gives. */
function before(text: string, sep: string): string {
  const at = text.indexOf(sep);
  return at < 0 ? text : text.slice(0, at);
}

const commandName = (c: Command) => before(String(c.command), ' ');
const positionals = (c: Command) => [...String(c.command).matchAll(/[<[]([\w-]+)(?:\.\.)?[>\]]/g)].flatMap((m) => (m[1] === undefined ? [] : [m[1]]));

function commandFlags(c: Command): Map<string, FlagSpec> {
  const y = withGlobalFlags(yargs([]));
  if (typeof c.builder === 'function') c.builder(y as never);
  else if (c.builder) y.options(c.builder as never);
  const flags = flagsOf(y);
  for (const p of positionals(c)) flags.delete(p); // yargs records positionals as options too
  return flags;
}

const dash = (n: string) => (n.length === 1 ? `-${n}` : `--${n}`);

function answer(candidates: string[], directive: number): string {
  return `${candidates.map((c) => `${c}\n`).join('')}:${directive}\n`;
}

export async function complete(words: string[]): Promise<string> {
  const toComplete = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  let flags = flagsOf(withGlobalFlags(yargs([])));
  let command: Command | undefined;
  let sub: Command | undefined;
  const given: string[] = [];
  const values: Record<string, string> = {};
  let pendingFlag: FlagSpec | undefined;
  for (const w of before) {
    if (pendingFlag) {
      values[pendingFlag.names[0]] = w;
      pendingFlag = undefined;
    } else if (w.startsWith('-') && w !== '-') {
      // `--name=value` or `--name`: the value is everything after the first `=`.
      const flag = w.replace(/^--?/, '');
      const eq = flag.indexOf('=');
      const spec = flags.get(eq < 0 ? flag : flag.slice(0, eq));
      const inline = eq < 0 ? undefined : flag.slice(eq + 1);
      if (spec?.takesValue && inline === undefined) pendingFlag = spec;
      else if (spec && inline !== undefined) values[spec.names[0]] = inline;
      else if (spec) values[spec.names[0]] = 'true';
    } else if (!command) {
      command = COMPLETABLE_COMMANDS.find((c) => commandName(c) === w);
      if (command) flags = commandFlags(command);
    } else if (SUBCOMMANDS[commandName(command)] && !sub) {
      sub = SUBCOMMANDS[commandName(command)]?.find((c) => commandName(c) === w);
      if (sub) flags = commandFlags(sub);
      else given.push(w);
    } else given.push(w);
  }

  // In the user commands --user names the Redis user, not the kubeconfig one.
  if (command && commandName(command) === 'user') delete values.user;
  if (pendingFlag) return await flagValues(pendingFlag, values, toComplete);
  if (toComplete.startsWith('-')) {
    const eq = toComplete.indexOf('=');
    if (eq > 0) {
      const spec = flags.get(toComplete.slice(toComplete.startsWith('--') ? 2 : 1, eq));
      if (spec?.takesValue) {
        const out = await flagValues(spec, values, toComplete.slice(eq + 1));
        const prefix = toComplete.slice(0, eq + 1);
        return out.replace(/^(?!:)(.+)$/gm, `${prefix}$1`);
      }
    }
    const names = [...new Set([...flags.values()].flatMap((s) => s.names.map(dash)))].filter((n) => n.startsWith(toComplete)).sort();
    return answer(names, Directive.NoFileComp);
  }
  if (!command) {
    const cmds = COMPLETABLE_COMMANDS.filter((c) => commandName(c).startsWith(toComplete)).map((c) => `${commandName(c)}\t${firstLine(c.describe)}`);
    return answer(cmds, Directive.NoFileComp);
  }
  const nested = SUBCOMMANDS[commandName(command)];
  if (nested && !sub) {
    return answer(
      nested.filter((c) => commandName(c).startsWith(toComplete)).map((c) => `${commandName(c)}\t${firstLine(c.describe)}`),
      Directive.NoFileComp,
    );
  }
  const names = positionals(sub ?? command);
  // A variadic last positional (`[rec..]`) takes every further word.
  const next = names[given.length] ?? (/\.\.[>\]]\s*$/.test(String((sub ?? command).command)) ? names.at(-1) : undefined);
  if (next === 'shell')
    return answer(
      SHELLS.filter((s) => s.startsWith(toComplete)),
      Directive.NoFileComp,
    );
  if (next === 'rec')
    return answer(
      (await recNames(values)).filter((n) => n.startsWith(toComplete)),
      Directive.NoFileComp,
    );
  return answer([], Directive.NoFileComp);
}

const firstLine = (d: unknown) => (typeof d === 'string' ? before(d, '\n') : '');

async function flagValues(spec: FlagSpec, values: Record<string, string>, toComplete: string): Promise<string> {
  const name = spec.names[0];
  if (FILE_FLAGS.has(name)) return answer([], Directive.Default);
  let candidates: string[] = spec.choices ?? [];
  if (name === 'namespace') candidates = await namespaceNames(values);
  if (name === 'context') candidates = contextNames(values);
  return answer(
    candidates.filter((c) => c.startsWith(toComplete)),
    Directive.NoFileComp,
  );
}

/** Lists from the cluster, or nothing: completion never prints an error into the user's command line. */
async function listNames(values: Record<string, string>, path: (namespace: string) => string): Promise<string[]> {
  try {
    const [{ resolveKubeconfig }, { KubeApi }] = await Promise.all([import('../../kube/kubeconfig.js'), import('../../kube/api-client.js')]);
    const resolved = resolveKubeconfig({
      kubeconfig: values.kubeconfig,
      context: values.context,
      cluster: values.cluster,
      // In the user commands --user is the Redis user.
      user: values.user,
      namespace: values.namespace,
      server: values.server,
      token: values.token,
      certificateAuthority: values['certificate-authority'],
      clientCertificate: values['client-certificate'],
      clientKey: values['client-key'],
      insecureSkipTlsVerify: values['insecure-skip-tls-verify'] === 'true',
      tlsServerName: values['tls-server-name'],
      as: values.as,
      asGroups: values['as-group'] === undefined ? undefined : [values['as-group']],
      asUid: values['as-uid'],
    });
    const api = await KubeApi.connect(resolved, LOOKUP_TIMEOUT_MS, () => {
      // No trace: completion writes nothing but its answer.
    });
    const list = (await api.send('GET', path(resolved.namespace))) as { items?: { metadata?: { name?: string } }[] };
    return (list.items ?? []).flatMap((i) => (i.metadata?.name ? [i.metadata.name] : [])).sort();
  } catch (err) {
    if (process.env.RECCRED_COMPLETE_DEBUG) process.stderr.write(`completion lookup failed: ${(err as Error).message}\n`);
    return [];
  }
}

const recNames = (values: Record<string, string>) => listNames(values, (ns) => `/apis/app.redislabs.com/v1/namespaces/${encodeURIComponent(ns)}/redisenterpriseclusters`);
const namespaceNames = (values: Record<string, string>) => listNames(values, () => '/api/v1/namespaces');

function contextNames(values: Record<string, string>): string[] {
  const files = values.kubeconfig
    ? [values.kubeconfig]
    : (process.env.KUBECONFIG ?? `${process.env.HOME ?? ''}/.kube/config`).split(process.platform === 'win32' ? ';' : ':').filter(Boolean);
  const names = new Set<string>();
  for (const f of files) {
    try {
      const doc = yaml.load(fs.readFileSync(f, 'utf8')) as { contexts?: { name?: string }[] } | undefined;
      for (const c of doc?.contexts ?? []) if (c.name) names.add(c.name);
    } catch {
      // An unreadable file offers no contexts, as kubectl's own completion does.
    }
  }
  return [...names].sort();
}
