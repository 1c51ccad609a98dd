// Replaced at bundle time by esbuild's define; the fallback is for the development entry.
declare const __RECCRED_VERSION__: string | undefined;
export const VERSION = typeof __RECCRED_VERSION__ === 'string' ? __RECCRED_VERSION__ : '0.1.0-dev';
