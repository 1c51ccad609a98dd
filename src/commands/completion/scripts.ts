// Shell glue for the `kubectl-reccred` command name (direct use, or `kubectl reccred` through kubectl's
// own completion). Each asks `kubectl-reccred __complete -- <words>` and reads cobra's answer: one
// candidate a line (`value<TAB>description`), then `:<directive>`.
import type { Shell } from './shells.js';

const bash = `# bash completion for kubectl-reccred; load with: source <(kubectl-reccred completion bash)
_kubectl_reccred() {
  local out directive line
  local -a candidates=()
  out=$(kubectl-reccred __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return
  directive=\${out##*:}
  while IFS= read -r line; do
    [[ $line == :* ]] && continue
    [[ -n $line ]] && candidates+=("\${line%%$'\\t'*}")
  done <<< "$out"
  COMPREPLY=($(compgen -W "\${candidates[*]}" -- "\${COMP_WORDS[COMP_CWORD]}"))
  if (( \${#COMPREPLY[@]} == 0 )) && (( (directive & 4) == 0 )); then
    COMPREPLY=($(compgen -f -- "\${COMP_WORDS[COMP_CWORD]}"))
  fi
}
complete -F _kubectl_reccred kubectl-reccred
`;

const zsh = `#compdef kubectl-reccred
# zsh completion for kubectl-reccred; load with: source <(kubectl-reccred completion zsh)
_kubectl_reccred() {
  local out directive line
  local -a candidates
  out=$(kubectl-reccred __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null) || return
  directive=\${\${(f)out}[-1]#:}
  for line in "\${(@f)out}"; do
    [[ $line == :* || -z $line ]] && continue
    candidates+=("\${line/$'\\t'/:}")
  done
  if (( \${#candidates} )); then
    _describe 'kubectl-reccred' candidates
  elif (( (directive & 4) == 0 )); then
    _files
  fi
}
compdef _kubectl_reccred kubectl-reccred
`;

const fish = `# fish completion for kubectl-reccred; load with: kubectl-reccred completion fish | source
function __kubectl_reccred_complete
  set -l words (commandline -opc)[2..-1] (commandline -ct)
  kubectl-reccred __complete -- $words 2>/dev/null | string match -v -r '^:'
end
complete -c kubectl-reccred -f -a '(__kubectl_reccred_complete)'
`;

export function completionScript(shell: Shell): string {
  return { bash, zsh, fish }[shell];
}
