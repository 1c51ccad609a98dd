// `get`'s flag table, taken at bundle time from the declarations yargs is given (scripts/bundle/flag-table.ts)
// and replaced by esbuild's define; the development entry has none and leaves every `get` to yargs.
import type { FlagTable } from '../plain-argv.js';

declare const __RECCRED_GET_FLAGS__: FlagTable | undefined;
export const BUILT_GET_FLAGS = typeof __RECCRED_GET_FLAGS__ === 'object' ? __RECCRED_GET_FLAGS__ : undefined;
