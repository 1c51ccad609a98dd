// The one command the plugin ever sends over exec. It is constant: it appears in the exec request URI,
// which the API server's audit log records, so nothing secret may be in it. Requests arrive on stdin:
//   line 1: the operation (hash | rest)
//   rest:   line 2: byte length N of a curl config; line 3: "file" (credentials from the mounted
//           files) or "stdin" (the config carries the Authorization header); then N bytes of config.
// It never waits for stdin EOF: over exec protocol v4 the client cannot half-close stdin.
// Secrets reach curl through a pipe into `curl -q -K -`, never as arguments. -q, which curl honours
// only as the first argument, keeps it from reading ~/.curlrc: a `verbose`, `trace`, `proxy` or
// `location-trusted` line there would print or send the Authorization header elsewhere.
export const CURL_ARGS = ['-q', '-K', '-'] as const;

export const IN_POD_SCRIPT = `set -u
c=/opt/redislabs/credentials
IFS= read -r op || exit 64
case "$op" in
hash)
  for k in username password; do
    if [ -r "$c/$k" ]; then h=$(sha256sum < "$c/$k") || exit 65; printf '%s %s\\n' "$k" "\${h%% *}"; else printf '%s missing\\n' "$k"; fi
  done
  ;;
rest)
  IFS= read -r len || exit 64
  IFS= read -r auth || exit 64
  command -v curl >/dev/null 2>&1 || { echo "reccred: curl not found in the container" >&2; exit 127; }
  if [ "$auth" = file ]; then
    [ -r "$c/username" ] && [ -r "$c/password" ] || { echo "reccred: $c is not readable" >&2; exit 66; }
  fi
  {
    head -c "$len"
    if [ "$auth" = file ]; then
      b=$(printf '%s:%s' "$(cat "$c/username")" "$(cat "$c/password")" | base64 | tr -d '\\n')
      printf 'header = "Authorization: Basic %s"\\n' "$b"
    fi
  } | curl ${CURL_ARGS.join(' ')}
  ;;
*) exit 64 ;;
esac
`;

/** Exit codes the script itself uses (curl's own codes pass through). */
export const ScriptExit = {
  BadRequest: 64,
  HashFailed: 65,
  CredentialsUnreadable: 66,
  CurlMissing: 127,
} as const;

export const IN_POD_COMMAND = ['sh', '-c', IN_POD_SCRIPT];
