// Bundles the CLI into CommonJS scripts, the only form a Node single executable application (SEA) runs:
// no file system module loading, no ESM entry. The entry, which answers help, version and the completion
// scripts alone, and the scripts it loads for the rest (assets in the SEA, scripts/bundle/script-loader.ts).
// Usable alone: `tsx scripts/build-bundle.ts`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isBuiltin } from 'node:module';
import * as esbuild from 'esbuild';
import { getFlagTable } from './bundle/flag-table.js';
import { renderHelpTexts } from './bundle/help-texts.js';
import { SCRIPTS, type ScriptName } from './bundle/script-loader.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const bundlePath = path.join(repoRoot, 'dist', 'kubectl-reccred.cjs');

/** Node version the bundle is compiled for: the SEA runtime (scripts/sea/runtime.ts) and the dev Node 20. */
const TARGET = 'node20';

// The source tree's entry ends in a top-level await, which CommonJS cannot express. main() handles its
// own errors and exit code, so starting it without awaiting behaves the same; any other top-level await
// fails the build rather than being silently reordered.
const ENTRY_AWAIT = /^await (main\(process\.argv\.slice\(2\)\));$/m;

const topLevelAwaitPlugin: esbuild.Plugin = {
  name: 'entry-top-level-await',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]main\.ts$/ }, async (args) => {
      const source = await fs.promises.readFile(args.path, 'utf8');
      if (!ENTRY_AWAIT.test(source)) throw new Error(`${args.path}: expected one final "await main(process.argv.slice(2));"`);
      return { contents: source.replace(ENTRY_AWAIT, 'void $1;'), loader: 'ts' };
    });
  },
};

/** ws's and node-fetch's optional accelerators (native addons, or an extra charset package). */
const OPTIONAL_NATIVE = new Set(['bufferutil', 'utf-8-validate', 'encoding']);

const kubeClientFacade = path.join(repoRoot, 'scripts', 'bundle', 'kube-client-facade.ts');

/** Names src takes from the package (its index or a module of it), by static or destructured dynamic import. */
function kubeClientNamesUsed(): Set<string> {
  const names = new Set<string>();
  const importRe = /import\s+(type\s+)?\{([^}]*)\}\s+from\s+'@kubernetes\/client-node[^']*'/g;
  const dynamicRe = /\b(?:const|let)\s*\{([^}]*)\}\s*=\s*await\s+import\('@kubernetes\/client-node[^']*'\)/g;
  for (const file of fs.readdirSync(path.join(repoRoot, 'src'), { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts')) continue;
    const text = fs.readFileSync(path.join(repoRoot, 'src', file), 'utf8');
    for (const m of text.matchAll(importRe)) if (!m[1]) m[2]!.split(',').forEach((n) => addName(names, n));
    for (const m of text.matchAll(dynamicRe)) m[1]!.split(',').forEach((n) => addName(names, n));
  }
  return names;
}

function addName(names: Set<string>, spec: string): void {
  const name = spec
    .trim()
    .replace(/^type\s+/, '')
    .split(/\s*(?::|\bas\b)\s*/)[0];
  if (name && !spec.trim().startsWith('type ')) names.add(name);
}

function checkFacadeCovers(): void {
  const exported = new Set([...fs.readFileSync(kubeClientFacade, 'utf8').matchAll(/export \{([^}]*)\}/g)].flatMap((m) => m[1]!.split(',').map((n) => n.trim())));
  const missing = [...kubeClientNamesUsed()].filter((n) => !exported.has(n));
  if (missing.length) throw new Error(`${path.relative(repoRoot, kubeClientFacade)} lacks ${missing.join(', ')} (imported by src)`);
}

/**
 * yargs lays out help with string-width (three copies: its own, cliui's, wrap-ansi's), whose start alone
 * (an Intl.Segmenter, Unicode-property regular expressions) costs more than the layout: every `string-width`
 * import gets a stand-in that answers printable ASCII, one column a character in every version of it, and
 * loads the real module only for any other text. Bundle only: the development entry uses string-width as is.
 */
const asciiStringWidthPlugin: esbuild.Plugin = {
  name: 'ascii-string-width',
  setup(build) {
    build.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.pluginData === 'real') return undefined;
      const real = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'real' });
      if (real.errors.length) return { errors: real.errors };
      return { path: real.path, namespace: 'ascii-string-width' };
    });
    build.onLoad({ filter: /.*/, namespace: 'ascii-string-width' }, (args) => ({
      contents: [
        'let real;',
        'export default function stringWidth(text, options) {',
        '  if (typeof text === "string" && /^[\\x20-\\x7e]*$/.test(text)) return text.length;',
        `  real ??= require(${JSON.stringify(args.path)}).default;`,
        '  return real(text, options);',
        '}',
      ].join('\n'),
      loader: 'js',
      resolveDir: path.dirname(args.path),
    }));
  },
};

/**
 * yargs guesses a version at construction (the YargsInstance constructor calls version()) from the
 * package.json it finds walking up from its own folder, which in a bundle is the working directory: every
 * entry of the user's working directory and of each parent is read, for a version the parser never shows
 * (version(false)). Its shim's findUp, used for nothing else (yargs build/lib/yargs-factory.js kPkgUp), finds
 * nothing here.
 */
const yargsWithoutPackageSearchPlugin: esbuild.Plugin = {
  name: 'yargs-without-package-search',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/ }, async (args) => {
      const source = await fs.promises.readFile(args.path, 'utf8');
      const shimmed = source.replace(/^import escalade from 'escalade\/sync'$/m, '').replace(/^(\s*)findUp: escalade,$/m, '$1findUp: () => undefined,');
      if (shimmed.includes('escalade')) throw new Error(`${args.path}: yargs' shim changed; update yargsWithoutPackageSearchPlugin`);
      return { contents: shimmed, loader: 'js', resolveDir: path.dirname(args.path) };
    });
  },
};

/**
 * zod's namespace re-exports its 47 message translations (`z.locales`, 300 KB, an eighth of the bundle);
 * the plugin sets none, so zod keeps the English one it imports on its own. The build fails if src starts
 * using them.
 */
const zodWithoutLocalesPlugin: esbuild.Plugin = {
  name: 'zod-without-locales',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'zod-without-locales' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-without-locales' }, () => ({ contents: 'export {};', loader: 'js' }));
    build.onStart(() => {
      const users = fs
        .readdirSync(path.join(repoRoot, 'src'), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts') && /\blocales\b/.test(fs.readFileSync(path.join(repoRoot, 'src', f), 'utf8')));
      if (users.length) return { errors: [{ text: `the bundle leaves zod's locales out, but ${users.join(', ')} mentions them` }] };
      return undefined;
    });
  },
};

export interface BundleResult {
  /** The entry script. */
  path: string;
  bytes: number;
  /** The other scripts, each at scriptPath(entry, name). */
  scripts: Record<ScriptName, { path: string; bytes: number }>;
  version: string;
}

/**
 * For tests: every module whose path matches gets a first line recording that it was evaluated, in
 * globalThis.__reccredEvaluated, so a test can tell what a command really loaded.
 */
function evaluationMarker(match: RegExp): esbuild.Plugin {
  return {
    name: 'evaluation-marker',
    setup(build) {
      build.onLoad({ filter: /\.[cm]?js$/ }, async (args) => {
        if (!match.test(args.path)) return undefined;
        const source = await fs.promises.readFile(args.path, 'utf8');
        const mark = `(globalThis.__reccredEvaluated ??= []).push(${JSON.stringify(path.relative(repoRoot, args.path))});\n`;
        return { contents: mark + source, loader: 'js', resolveDir: path.dirname(args.path) };
      });
    },
  };
}

export interface BundleOptions {
  markEvaluated?: RegExp;
  /** For tests: false leaves the help texts out, so that every help comes from yargs as it runs. */
  helpTexts?: boolean;
}

/** A script of the bundle, beside the entry (`dist/kubectl-reccred-cli.cjs`). */
export const scriptPath = (entry: string, name: ScriptName) => `${entry.replace(/\.cjs$/, '')}-${name}.cjs`;

const mainSource = path.join(repoRoot, 'src', 'main.ts');
const scriptLoader = path.join(repoRoot, 'scripts', 'bundle', 'script-loader.ts');

/**
 * Imports that load another script of the bundle (scripts/bundle/script-loader.ts) instead of bundling
 * their module: an import matching `filter` from `importer` (any importer when undefined) becomes script
 * `name`'s exports.
 */
function scriptLinkPlugin(links: { filter: RegExp; importer?: string; name: ScriptName }[], entry: string): esbuild.Plugin {
  return {
    name: 'script-link',
    setup(build) {
      for (const link of links)
        build.onResolve({ filter: link.filter }, (args) =>
          link.importer === undefined || args.importer === link.importer ? { path: link.name, namespace: 'script-link' } : undefined,
        );
      build.onLoad({ filter: /.*/, namespace: 'script-link' }, (args) => ({
        // CommonJS, so that `import { x }` and `await import()` both read the script's exports as they are.
        contents: `module.exports = require(${JSON.stringify(scriptLoader)}).loadScript(${JSON.stringify(args.path)}, ${JSON.stringify(path.basename(scriptPath(entry, args.path as ScriptName)))});\n`,
        loader: 'js',
        resolveDir: repoRoot,
      }));
    },
  };
}

/** The help texts beside the entry (`dist/kubectl-reccred-help-texts.json`). */
export const helpTextsPath = (entry: string) => `${entry.replace(/\.cjs$/, '')}-help-texts.json`;

const builtHelpTextsSource = path.join(repoRoot, 'src', 'commands', 'built-help-texts.ts');

/**
 * src/commands/built-help-texts.ts made to read the texts written beside the entry (or the executable's
 * asset) when a help is asked for; without texts (a test's bundle), to answer none.
 */
function helpTextsPlugin(entry: string, written: boolean): esbuild.Plugin {
  return {
    name: 'help-texts',
    setup(build) {
      build.onLoad({ filter: /[\\/]src[\\/]commands[\\/]built-help-texts\.ts$/ }, (args) =>
        args.path === builtHelpTextsSource
          ? {
              contents: written
                ? `let texts;\nexport const builtHelpTexts = () => (texts ??= require(${JSON.stringify(scriptLoader)}).loadHelpTexts(${JSON.stringify(path.basename(helpTextsPath(entry)))}));\n`
                : 'export const builtHelpTexts = () => undefined;\n',
              loader: 'js',
              resolveDir: repoRoot,
            }
          : undefined,
      );
    },
  };
}

/** Every import of @kubernetes/client-node (its index, or a module of it) reads the kube-client script. */
const kubeClientLink = { filter: /^@kubernetes\/client-node(\/.*)?$/, name: 'kube-client' as const };

const scriptEntries: Record<ScriptName, string> = {
  cli: path.join(repoRoot, 'src', 'commands', 'cli.ts'),
  get: path.join(repoRoot, 'src', 'commands', 'get', 'direct.ts'),
  'kube-client': kubeClientFacade,
};

/**
 * The entry (src/main.ts), which answers help, version and the completion scripts alone, and the scripts
 * it loads (scripts/bundle/script-loader.ts): the command line (src/commands/cli.ts), `get` without yargs
 * (src/commands/get/direct.ts), and the Kubernetes client, which the other two load for an auth-provider
 * user only. Each start compiles the entry (10 KB); --help compiles nothing else, `get` only its own script.
 */
export async function buildBundle(outfile = bundlePath, options: BundleOptions = {}): Promise<BundleResult> {
  checkFacadeCovers();
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const helpTexts = options.helpTexts === false ? undefined : await renderHelpTexts();
  const markers = options.markEvaluated ? [evaluationMarker(options.markEvaluated)] : [];
  const common: esbuild.BuildOptions = {
    absWorkingDir: repoRoot,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: TARGET,
    // Dynamic import() of a bundled module becomes a lazily run initialiser, so a command evaluates only
    // what it uses: --help and version never evaluate @kubernetes/client-node (test/distribution/startup.test.ts).
    splitting: false,
    // Less source for V8 to scan at every start (about 12% off --help); names are kept so that -vv
    // stack traces stay readable.
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers: false,
    keepNames: false,
    legalComments: 'none',
    sourcemap: false,
    // Non-ASCII characters as escapes: V8 keeps an all-ASCII source in one byte a character, not two.
    charset: 'ascii',
    logLevel: 'warning',
    // Dependencies written as ESM read import.meta.url (yargs locates its locale files with it).
    define: {
      __RECCRED_VERSION__: JSON.stringify(pkg.version),
      'import.meta.url': '__reccred_import_meta_url',
    },
    banner: { js: 'var __reccred_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
    // tr46 (under client-node's node-fetch) requires Node's deprecated punycode module, which prints a
    // DeprecationWarning on Node 21+; the npm package is the same code without the warning.
    alias: { punycode: 'punycode/punycode.js' },
    metafile: true,
  };
  const commandPlugins = [scriptLinkPlugin([kubeClientLink], outfile), asciiStringWidthPlugin, zodWithoutLocalesPlugin, yargsWithoutPackageSearchPlugin, ...markers];
  const builds = {
    cli: esbuild.build({ ...common, entryPoints: [scriptEntries.cli], outfile: scriptPath(outfile, 'cli'), plugins: commandPlugins }),
    get: esbuild.build({ ...common, entryPoints: [scriptEntries.get], outfile: scriptPath(outfile, 'get'), plugins: commandPlugins }),
    'kube-client': esbuild.build({ ...common, entryPoints: [scriptEntries['kube-client']], outfile: scriptPath(outfile, 'kube-client'), plugins: markers }),
    entry: esbuild.build({
      ...common,
      entryPoints: [mainSource],
      outfile,
      define: {
        ...common.define,
        __RECCRED_GET_FLAGS__: JSON.stringify(getFlagTable()),
      },
      plugins: [
        topLevelAwaitPlugin,
        helpTextsPlugin(outfile, helpTexts !== undefined),
        scriptLinkPlugin(
          [
            { filter: /^\.\/commands\/cli\.js$/, importer: mainSource, name: 'cli' },
            { filter: /^\.\/commands\/get\/direct\.js$/, importer: mainSource, name: 'get' },
          ],
          outfile,
        ),
        ...markers,
      ],
    }),
  };
  const results = Object.fromEntries(await Promise.all(Object.entries(builds).map(async ([name, b]) => [name, await b] as const))) as Record<
    keyof typeof builds,
    esbuild.BuildResult & { metafile: esbuild.Metafile }
  >;
  const inputs = (name: keyof typeof builds) => Object.keys(results[name].metafile.inputs);
  const entryPackages = inputs('entry').filter((i) => i.includes('node_modules/'));
  if (entryPackages.length) throw new Error(`the entry script must stay small (every start compiles it), but it bundles ${entryPackages.join(', ')}`);
  const getStrays = inputs('get').filter((i) => /node_modules\/(yargs|@kubernetes\/client-node)\//.test(i));
  if (getStrays.length) throw new Error(`the get script must leave yargs and the Kubernetes client out, but it bundles ${getStrays.slice(0, 3).join(', ')}`);
  // Everything must be inside: a SEA's require() reaches built-in modules only. The optional ones are
  // required inside try/catch by their users, which fall back to plain JavaScript.
  const external = Object.values(results)
    .flatMap((r) => Object.values(r.metafile.outputs))
    .flatMap((o) => o.imports)
    .filter((i) => i.external && !isBuiltin(i.path) && !OPTIONAL_NATIVE.has(i.path));
  if (external.length) throw new Error(`bundle left imports outside: ${[...new Set(external.map((i) => i.path))].join(', ')}`);
  // esbuild's charset leaves characters inside regular expression literals as they are: one above U+00FF
  // (src/duration/duration.ts's micro sign, once) made V8 hold the whole script two bytes a character. The
  // loader also reads the scripts as latin1 (scripts/bundle/script-loader.ts).
  for (const file of [outfile, ...SCRIPTS.map((name) => scriptPath(outfile, name))]) {
    const at = fs.readFileSync(file).findIndex((byte) => byte > 0x7f);
    if (at >= 0) throw new Error(`${path.relative(repoRoot, file)} has a non-ASCII character at byte ${at}: write it as an escape in the source`);
  }
  if (helpTexts) fs.writeFileSync(helpTextsPath(outfile), JSON.stringify(helpTexts));
  else fs.rmSync(helpTextsPath(outfile), { force: true });
  const scripts = Object.fromEntries(
    SCRIPTS.map((name) => [name, { path: scriptPath(outfile, name), bytes: fs.statSync(scriptPath(outfile, name)).size }]),
  ) as BundleResult['scripts'];
  return { path: outfile, bytes: fs.statSync(outfile).size, scripts, version: pkg.version };
}

/** One line: each script and its size. */
export const describeBundle = (r: BundleResult) =>
  [`${path.relative(repoRoot, r.path)} (${r.bytes} bytes)`, ...SCRIPTS.map((name) => `${path.relative(repoRoot, r.scripts[name].path)} (${r.scripts[name].bytes} bytes)`)].join(
    ', ',
  );

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await buildBundle();
  process.stdout.write(`${describeBundle(r)}, version ${r.version}\n`);
}
