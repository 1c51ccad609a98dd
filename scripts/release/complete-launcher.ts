// The `kubectl_complete-reccred` file shipped in each archive. kubectl 1.26+ runs it (found on PATH) for
// `kubectl reccred <TAB>`; it hands the words to the plugin's own `__complete`. A shell script is enough on
// linux/darwin; Windows runs it as a .cmd (kubectl's PATH lookup honours PATHEXT). `--` keeps the words
// away from the plugin's own flag parsing (a word may be --help).
import type { Target } from '../sea/runtime.js';

export const COMPLETE_EXE = 'kubectl_complete-reccred';

export function completionLauncher(t: Target): { name: string; data: Buffer } {
  if (t.os === 'windows') {
    return { name: `${COMPLETE_EXE}.cmd`, data: Buffer.from('@echo off\r\nkubectl-reccred.exe __complete -- %*\r\n') };
  }
  return { name: COMPLETE_EXE, data: Buffer.from('#!/bin/sh\n# kubectl 1.26+ runs this for `kubectl reccred <TAB>`.\nexec kubectl-reccred __complete -- "$@"\n') };
}
