// The one command the plugin ever sends over exec. It is constant: it appears in the exec request URI,
// which the API server's audit log records, so nothing secret may be in it. Requests arrive on stdin:
//   line 1: the operation (tools | hash | rest)
//   tools:  "missing NAME" for each of POD_TOOLS the image lacks, then "checked" (nothing secret is read)
//   rest:   line 2: byte length N of a curl config; line 3: "stdin" (the config carries the
//           Authorization header: credentials always come from the plugin); then N bytes of config.
// It never waits for stdin EOF: over exec protocol v4 the client cannot half-close stdin.
// Secrets reach curl through a pipe into `curl -q -K -`, never as arguments. -q, which curl honours
// only as the first argument, keeps it from reading ~/.curlrc: a `verbose`, `trace`, `proxy` or
// `location-trusted` line there would print or send the Authorization header elsewhere.
export const CURL_ARGS = ['-q', '-K', '-'] as const;

/**
 * Every command the script runs that is not a shell builtin. The `.minimal` image "installs fewer operating
 * system packages" and does not say which (content/operate/kubernetes/security/minimal-base-image, published
 * page), so the preflight asks each pod for all of them (the tools operation uses builtins only).
 */
export const POD_TOOLS = ['curl', 'sha256sum', 'head'] as const;

export const IN_POD_SCRIPT = `set -u
c=/opt/redislabs/credentials
IFS= read -r op || exit 64
case "$op" in
tools)
  for t in ${POD_TOOLS.join(' ')}; do command -v "$t" >/dev/null 2>&1 || printf 'missing %s\\n' "$t"; done
  echo checked
  ;;
hash)
  for k in username password; do
    if [ -r "$c/$k" ]; then h=$(sha256sum < "$c/$k") || exit 65; printf '%s %s\\n' "$k" "\${h%% *}"; else printf '%s missing\\n' "$k"; fi
  done
  ;;
rest)
  IFS= read -r len || exit 64
  IFS= read -r auth || exit 64
  [ "$auth" = stdin ] || exit 64
  command -v curl >/dev/null 2>&1 || { echo "reccred: curl not found in the container" >&2; exit 127; }
  head -c "$len" | curl ${CURL_ARGS.join(' ')}
  ;;
*) exit 64 ;;
esac
`;

/** Exit codes the script itself uses (curl's own codes pass through). */
export const ScriptExit = {
  BadRequest: 64,
  HashFailed: 65,
  CurlMissing: 127,
} as const;

export const IN_POD_COMMAND = ['sh', '-c', IN_POD_SCRIPT];
