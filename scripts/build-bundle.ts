// Bundles the CLI into one CommonJS script, the only form a Node single executable application (SEA)
// runs: no file system module loading, no ESM entry. Usable alone: `tsx scripts/build-bundle.ts`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isBuiltin } from 'node:module';
import * as esbuild from 'esbuild';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const bundlePath = path.join(repoRoot, 'dist', 'kubectl-reccred.cjs');

/** Node version the bundle is compiled for: the SEA runtime (scripts/sea/runtime.ts) and the dev Node 20. */
const TARGET = 'node20';

// The source tree's entry ends in a top-level await, which CommonJS cannot express. main() handles its
// own errors and exit code, so starting it without awaiting behaves the same; any other top-level await
// fails the build rather than being silently reordered.
const ENTRY_AWAIT = /^await (main\(hideBin\(process\.argv\)\));$/m;

const topLevelAwaitPlugin: esbuild.Plugin = {
  name: 'entry-top-level-await',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]main\.ts$/ }, async (args) => {
      const source = await fs.promises.readFile(args.path, 'utf8');
      if (!ENTRY_AWAIT.test(source)) throw new Error(`${args.path}: expected one final "await main(hideBin(process.argv));"`);
      return { contents: source.replace(ENTRY_AWAIT, 'void $1;'), loader: 'ts' };
    });
  },
};

/** ws's and node-fetch's optional accelerators (native addons, or an extra charset package). */
const OPTIONAL_NATIVE = new Set(['bufferutil', 'utf-8-validate', 'encoding']);

const kubeClientFacade = path.join(repoRoot, 'scripts', 'bundle', 'kube-client-facade.ts');

const kubeClientFacadePlugin: esbuild.Plugin = {
  name: 'kube-client-facade',
  setup(build) {
    build.onResolve({ filter: /^@kubernetes\/client-node$/ }, (args) => (args.importer === kubeClientFacade ? undefined : { path: kubeClientFacade }));
  },
};

/** Names src takes from the package index, by static or destructured dynamic import. */
function kubeClientNamesUsed(): Set<string> {
  const names = new Set<string>();
  const importRe = /import\s+(type\s+)?\{([^}]*)\}\s+from\s+'@kubernetes\/client-node'/g;
  const dynamicRe = /\b(?:const|let)\s*\{([^}]*)\}\s*=\s*await\s+import\('@kubernetes\/client-node'\)/g;
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

export interface BundleResult {
  path: string;
  bytes: number;
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

export async function buildBundle(outfile = bundlePath, options: { markEvaluated?: RegExp } = {}): Promise<BundleResult> {
  checkFacadeCovers();
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const result = await esbuild.build({
    absWorkingDir: repoRoot,
    entryPoints: [path.join(repoRoot, 'src', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: TARGET,
    // Dynamic import() of a bundled module becomes a lazily run initialiser, so --help and version
    // never evaluate @kubernetes/client-node (test/distribution/startup.test.ts checks this).
    splitting: false,
    // Less source for V8 to scan at every start (about 12% off --help); names are kept so that -vv
    // stack traces stay readable.
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers: false,
    keepNames: false,
    legalComments: 'none',
    sourcemap: false,
    charset: 'utf8',
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
    plugins: [topLevelAwaitPlugin, kubeClientFacadePlugin, ...(options.markEvaluated ? [evaluationMarker(options.markEvaluated)] : [])],
    metafile: true,
  });
  // Everything must be inside: a SEA's require() reaches built-in modules only. The optional ones are
  // required inside try/catch by their users, which fall back to plain JavaScript.
  const external = Object.values(result.metafile.outputs)
    .flatMap((o) => o.imports)
    .filter((i) => i.external && !isBuiltin(i.path) && !OPTIONAL_NATIVE.has(i.path));
  if (external.length) throw new Error(`bundle left imports outside: ${[...new Set(external.map((i) => i.path))].join(', ')}`);
  return { path: outfile, bytes: fs.statSync(outfile).size, version: pkg.version };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await buildBundle();
  process.stdout.write(`${path.relative(repoRoot, r.path)} ${r.bytes} bytes (version ${r.version})\n`);
}
