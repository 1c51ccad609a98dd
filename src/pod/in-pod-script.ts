// The one command the plugin ever sends over exec. It is constant: it appears in the exec request URI,
// which the API server's audit log records, so nothing secret may be in it. One session carries several
// requests (protocol 4), all on stdin:
//   line 1:  "reccred NONCE" (hex, chosen by the plugin per session; a reply from the REST API cannot hold it)
//   then requests, each answered before the next is read:
//     tools    "missing NAME" for each of POD_TOOLS the image lacks, then "checked" (nothing secret is read)
//     hash     "username HASH|missing", "password HASH|missing": sha256 of the mounted files, by one
//              sha256sum given the paths of those there are (never their contents) and answering
//              "HASH  PATH" ("*PATH" in binary mode) for each; a line left over or missing exits 65
//     rest N   then N lines of curl config (one option per line; curlQuote escapes newlines), which carries
//              the Authorization header: credentials always come from the plugin
//     stop     exit 0
//   after each answer: "\nNONCE RC\n" on stdout and "\nNONCE\n" on stderr, RC the request's exit code.
// Anything else, or stdin ending without "stop", exits 64. It never waits for stdin EOF: over exec protocol
// v4 the client cannot half-close stdin.
// Only shell builtins read the requests: `read` takes a pipe a byte at a time, so no request is read ahead
// (head -c may not: busybox's reads its input through stdio buffers). The config reaches curl through a pipe
// from the printf builtin into `curl -q -K -`, never as arguments. -q, which curl honours only as the first
// argument, keeps it from reading ~/.curlrc: a `verbose`, `trace`, `proxy` or `location-trusted` line there
// would print or send the Authorization header elsewhere.
export const CURL_ARGS = ['-q', '-K', '-'] as const;

/**
 * Every command the script runs that is not a shell builtin. The `.minimal` image "installs fewer operating
 * system packages" and does not say which (content/operate/kubernetes/security/minimal-base-image, published
 * page), so the preflight asks each pod for all of them (the tools operation uses builtins only).
 */
export const POD_TOOLS = ['curl', 'sha256sum'] as const;

/** Lines of curl config one request may carry (curlConfig writes about a dozen). */
export const MAX_CONFIG_LINES = 999;

/** Where kubelet mounts the REC's credential Secret in each pod (its files `username` and `password`). */
export const MOUNTED_CREDENTIALS = '/opt/redislabs/credentials';

export const IN_POD_SCRIPT = `set -u
c=${MOUNTED_CREDENTIALS}
IFS= read -r hello || exit 64
case "$hello" in "reccred "*) ;; *) exit 64 ;; esac
n=\${hello#reccred }
case "$n" in ''|*[!0-9a-f]*) exit 64 ;; esac
while IFS= read -r op; do
  case "$op" in
  tools)
    for t in ${POD_TOOLS.join(' ')}; do command -v "$t" >/dev/null 2>&1 || printf 'missing %s\\n' "$t"; done
    echo checked
    rc=0
    ;;
  hash)
    rc=0 u=missing p=missing h=
    set --
    if [ -r "$c/username" ]; then set -- "$c/username"; fi
    if [ -r "$c/password" ]; then set -- "$@" "$c/password"; fi
    m=$#
    if [ "$m" -gt 0 ]; then h=$(sha256sum "$@") || rc=65; fi
    set -f; set -- $h; set +f
    while [ $# -ge 2 ]; do
      case "$2" in "$c/username"|"*$c/username") u=$1 ;; "$c/password"|"*$c/password") p=$1 ;; *) rc=65 ;; esac
      m=$((m - 1)); shift 2
    done
    if [ $# -ne 0 ] || [ "$m" -ne 0 ]; then rc=65; fi
    if [ "$rc" -eq 0 ]; then printf 'username %s\\npassword %s\\n' "$u" "$p"; fi
    h=
    ;;
  "rest "*)
    # printf must be the shell's own: a printf found on PATH would get the config as an argument.
    case $(command -v printf) in */*) exit 64 ;; esac
    m=\${op#rest }
    case "$m" in ''|*[!0-9]*|0?*|????*) exit 64 ;; esac
    cfg=
    while [ "$m" -gt 0 ]; do IFS= read -r l || exit 64; cfg="$cfg$l
"; m=$((m - 1)); done
    if command -v curl >/dev/null 2>&1; then printf '%s' "$cfg" | curl ${CURL_ARGS.join(' ')}; rc=$?; else echo "reccred: curl not found in the container" >&2; rc=127; fi
    cfg= l=
    ;;
  stop) exit 0 ;;
  *) exit 64 ;;
  esac
  printf '\\n%s %s\\n' "$n" "$rc"
  printf '\\n%s\\n' "$n" >&2
done
exit 64
`;

/** Exit codes the script itself uses, as the session's or one request's (curl's own codes pass through). */
export const ScriptExit = {
  BadRequest: 64,
  HashFailed: 65,
  CurlMissing: 127,
} as const;

export const IN_POD_COMMAND = ['sh', '-c', IN_POD_SCRIPT];
