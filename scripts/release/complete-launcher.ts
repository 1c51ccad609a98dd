// The `kubectl_complete-reccred` file shipped in each archive. kubectl 1.26+ runs it (found on PATH) for
// `kubectl reccred <TAB>`; it hands the words to the plugin's own `__complete`. A shell script is enough on
// linux/darwin; Windows runs it as a .cmd (kubectl's PATH lookup honours PATHEXT). `--` keeps the words
// away from the plugin's own flag parsing (a word may be --help). It names no path and no version: it
// finds kubectl-reccred on PATH, so the copy the caveats put in krew's bin/ keeps calling whichever
// version krew links there after each `krew upgrade` (which deletes the old version's folder).
// A contract for every later version: that copy is never updated (caveats are shown on install only, and
// krew upgrade does not touch it), so whatever the plugin becomes, `kubectl-reccred __complete -- WORDS...`
// must keep answering completions in the format kubectl expects. A new archive may ship a different helper;
// the copies already installed still call that interface.
import type { Target } from '../sea/runtime.js';

export const COMPLETE_EXE = 'kubectl_complete-reccred';

/** The helper's file name in the archive for `os`. */
export const completionLauncherName = (os: Target['os']) => (os === 'windows' ? `${COMPLETE_EXE}.cmd` : COMPLETE_EXE);

export function completionLauncher(t: Target): { name: string; data: Buffer } {
  if (t.os === 'windows') {
    return { name: completionLauncherName(t.os), data: Buffer.from('@echo off\r\nkubectl-reccred.exe __complete -- %*\r\n') };
  }
  return {
    name: completionLauncherName(t.os),
    data: Buffer.from('#!/bin/sh\n# kubectl 1.26+ runs this for `kubectl reccred <TAB>`; it calls the kubectl-reccred on PATH.\nexec kubectl-reccred __complete -- "$@"\n'),
  };
}
