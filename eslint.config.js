// @ts-check
// Lint for `npm run lint` (part of `npm run check`). Formatting is Prettier's job (`npm run format:check`):
// eslint-config-prettier, last below, switches off every rule that would fight it.
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier/flat';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** The Node globals plain-JavaScript files here use (the `globals` package would be one more dependency for five names). */
const nodeGlobals = /** @type {const} */ ({ process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' });

export default defineConfig(
  {
    ignores: ['dist/**', 'node_modules/**', '.sim/**', '.cache/**'],
  },

  // src/: the shipped code gets typescript-eslint's strictest type-checked sets.
  {
    files: ['src/**/*.ts'],
    extends: [eslint.configs.recommended, tseslint.configs.strictTypeChecked, tseslint.configs.stylisticTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
    rules: {
      // Relaxed: numbers print unambiguously in messages ("waited 30s", "3 of 5 RECs"); objects, null and undefined stay forbidden.
      // (All options spelled out: a partial object would fall back to the rule's lax defaults, not strictTypeChecked's.)
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowAny: false, allowBoolean: false, allowNever: false, allowNullish: false, allowRegExp: false },
      ],
      // Relaxed: `(x) => print(x)` callbacks are idiomatic; other void returns (`return log(x);`) are still reported.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // Relaxed: a leading underscore marks a parameter a callback signature requires but this implementation does not use.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'all' }],
    },
  },

  // test/ and scripts/: the lighter, syntax-only recommended set, no type information. Type-aware lint of the
  // 13k lines of tests and build scripts would double lint time on CI, and test doubles (sinon stubs, fake API
  // replies) need the loose typing the strict sets forbid; tsc -p . still type-checks them.
  {
    files: ['test/**/*.ts', 'scripts/**/*.ts', 'test/**/*.mjs'],
    extends: [eslint.configs.recommended, tseslint.configs.recommended],
    languageOptions: {
      // For the plain-JavaScript helpers (test/sim/pods/*.mjs); .ts files get their globals from @types/node via tsc.
      globals: nodeGlobals,
    },
    rules: {
      // Relaxed: same convention as src/ for deliberately unused parameters.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'all' }],
    },
  },

  // Config files at the root (this file, .dependency-cruiser.cjs) run in Node.
  {
    files: ['*.js', '*.cjs'],
    extends: [eslint.configs.recommended],
    languageOptions: {
      globals: { ...nodeGlobals, module: 'readonly', require: 'readonly' },
    },
  },

  prettier,
);
