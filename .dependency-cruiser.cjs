// @ts-check
/**
 * Layering rules for src/, enforced by `npm run lint:deps` (part of `npm run check`).
 *
 * Layers, top to bottom. A module may import from its own layer or from a layer below it, never from above:
 *
 *   L7 command line  src/main.ts, src/commands/**        yargs: flags -> typed request -> one call; prints the outcome
 *   L6 fleet         src/fleet/**                        runs any one-REC operation over many RECs
 *   L5 operations    src/operations/**                   one-REC operations; return an outcome, never print
 *   L4 procedures    src/procedures/**                   state machines and their steps
 *   L3 rec           src/rec/**                          the REC target
 *   L2 cluster-facing src/{kube,pod,rest,journal,store,vault,password}/**
 *   L1 ground        src/{output,errors,duration}/**, src/version.ts
 *
 * Every module under src/ must belong to exactly one layer (rule "every-module-in-a-layer"); to add a folder, add it to
 * the right layer below. Dependencies on node_modules and node: built-ins are not layered, except yargs.
 */

/** @param {string[]} paths regex fragments relative to src/ */
const under = (paths) => `^src/(?:${paths.join('|')})`;

const L7 = under(['main\\.ts$', 'commands/']);
const L6 = under(['fleet/']);
const L5 = under(['operations/']);
const L4 = under(['procedures/']);
const L3 = under(['rec/']);
const L2 = under(['kube/', 'pod/', 'rest/', 'journal/', 'store/', 'vault/', 'password/']);
const L1 = under(['output/', 'errors/', 'duration/', 'version\\.ts$']);

/** The layers, bottom (index 0 = L1) to top (index 6 = L7). */
const layers = [
  { id: 'L1', name: 'ground', path: L1 },
  { id: 'L2', name: 'cluster-facing', path: L2 },
  { id: 'L3', name: 'rec', path: L3 },
  { id: 'L4', name: 'procedures', path: L4 },
  { id: 'L5', name: 'operations', path: L5 },
  { id: 'L6', name: 'fleet', path: L6 },
  { id: 'L7', name: 'command-line', path: L7 },
];
const anyLayer = layers.map((l) => `(?:${l.path})`);

/** The command-line layer, plus src/cli/ (its pre-refactor home), so the rules below also bite on the old layout. */
const COMMAND_LINE = under(['main\\.ts$', 'commands/', 'cli/']);
/** The parts that talk to the cluster (the issue's list; src/password/ is L2 too but does not talk to the cluster). */
const CLUSTER_FACING = under(['kube/', 'pod/', 'rest/', 'journal/', 'store/', 'vault/']);
/** yargs itself and its types (type-only imports resolve to @types/yargs). */
const YARGS = '^node_modules/(?:@types/)?yargs(?:/|$)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    // One rule per layer: no module imports from any layer above its own. (L7 is the top: nothing is above it.)
    ...layers.slice(0, -1).map((layer, i) => ({
      name: `no-lower-layer-imports-higher:${layer.id}-${layer.name}`,
      comment:
        `A module in ${layer.id} (${layer.name}) imports from a higher layer (` +
        layers
          .slice(i + 1)
          .map((l) => `${l.id} ${l.name}`)
          .join(', ') +
        '). Layers import only from their own layer or below; move the shared code down, or pass a typed value down instead.',
      severity: /** @type {const} */ ('error'),
      from: { path: layer.path },
      to: { path: layers.slice(i + 1).map((l) => l.path) },
    })),
    {
      name: 'every-module-in-a-layer',
      comment:
        'This module (or the module it imports) is under src/ but in none of the layers listed in .dependency-cruiser.cjs. ' +
        'Move it into a layer folder, or add its folder to the right layer.',
      severity: 'error',
      from: { path: '^src/', pathNot: anyLayer },
      to: {},
    },
    {
      // The rule above misses an unlayered module that imports nothing; this catches it where a layered module imports it.
      name: 'every-module-in-a-layer:imported',
      comment:
        'This imports a module under src/ that is in none of the layers listed in .dependency-cruiser.cjs. ' + 'Move it into a layer folder, or add its folder to the right layer.',
      severity: 'error',
      from: { path: anyLayer },
      to: { path: '^src/', pathNot: anyLayer },
    },
    {
      name: 'only-commands-import-yargs',
      comment:
        'Only src/main.ts and src/commands/** may import yargs. Lower layers take typed requests, never yargs or a flags object: ' +
        'parse flags (durations, password sources, Vault settings) at the top and pass the typed values down.',
      severity: 'error',
      from: { path: '^src/', pathNot: L7 },
      to: { path: YARGS },
    },
    {
      name: 'fleet-not-from-commands',
      comment:
        'src/fleet/ runs one-REC operations over many RECs; it must not reach up into the command line (src/main.ts, ' +
        'src/commands/, src/cli/). Move the one-REC operation to src/operations/ and import it from there.',
      severity: 'error',
      from: { path: L6 },
      to: { path: COMMAND_LINE },
    },
    {
      name: 'cluster-facing-not-from-command-line',
      comment:
        'kube, pod, rest, journal, store and vault must not import from the command line (src/main.ts, src/commands/, ' +
        'src/cli/): errors and exit codes belong in src/errors/, durations in src/duration/, and a Session or flags object ' +
        'must not travel down.',
      severity: 'error',
      from: { path: CLUSTER_FACING },
      to: { path: COMMAND_LINE },
    },
    {
      name: 'no-circular',
      comment: 'This dependency is part of an import cycle. Break it by moving the shared part into a lower module.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-orphans',
      comment: 'Nothing imports this module and it imports nothing: it is dead code. Use it or remove it.',
      severity: 'error',
      from: { orphan: true, path: '^src/', pathNot: '\\.d\\.ts$' },
      to: {},
    },
    {
      name: 'not-to-unresolvable',
      comment: 'This import cannot be resolved to a file: a typo, a moved file, or a package missing from package.json.',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
    {
      name: 'src-not-from-test',
      comment: 'Production code must not import test code (it would end up in the shipped executable).',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    // Layers are about src/; packages are only looked at to tell who imports yargs.
    doNotFollow: { path: ['node_modules'] },
    // Count `import type` too: a type-only import from a higher layer is still an arrow that must not exist.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
    reporterOptions: {
      archi: { collapsePattern: '^src/(?:commands|[^/]+)/|node_modules/(?:@[^/]+/[^/]+|[^/]+)' },
    },
  },
};
