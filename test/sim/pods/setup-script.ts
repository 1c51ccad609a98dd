// The shell script a pod sandbox runs right after `unshare`: it builds the pod's private view of the
// machine, then execs the forwarder (so the forwarder's pid is the namespace holder nsenter targets).
// Inputs come from the environment (SIM_*), never from argv.

/** The real binaries the sandbox wraps to record argv. /bin/sh is a symlink to dash, so dash covers sh. */
export const WRAPPED = ['curl', 'dash', 'bash'] as const;

export const SETUP_SCRIPT = String.raw`set -eu
ip link set lo up
# A tmpfs over /opt first: nothing below ever touches the host's /opt.
mount -t tmpfs -o mode=755 simpod /opt
mkdir -p /opt/redislabs/credentials /opt/.sim
# The credentials FOLDER, not its files: kubelet's ..data swap must stay visible (a file bind pins the inode).
mount --bind "$SIM_CREDENTIALS" /opt/redislabs/credentials
# The exec user's HOME (where curl looks for .curlrc), kept in a host folder so tests can put files there.
mkdir -p "$SIM_POD_HOME"
mount --bind "$SIM_HOME" "$SIM_POD_HOME"
hostname "$SIM_HOSTNAME" 2>/dev/null || true

# Copy the real binaries before anything is bound over them (bind mounts follow the sh -> dash symlink).
for b in curl dash bash; do
  if [ -e "/usr/bin/$b" ]; then cp "/usr/bin/$b" "/opt/.sim/$b"; fi
done

# Light pods end in "exec cat": keep a copy, since cat may be one of the tools removed below.
cp /usr/bin/cat /opt/.sim/cat

if [ -n "$SIM_MISSING_TOOLS" ]; then
  # An overlay over /usr/bin (/bin links to it) lets tools be really absent (command -v fails, exit 127), as
  # in the .minimal image, which "installs fewer operating system packages" without saying which
  # (content/operate/kubernetes/security/minimal-base-image, published page).
  mkdir -p /opt/.sim/usrbin-upper /opt/.sim/usrbin-work
  mount -t overlay simbin -o lowerdir=/usr/bin,upperdir=/opt/.sim/usrbin-upper,workdir=/opt/.sim/usrbin-work /usr/bin
  for t in $SIM_MISSING_TOOLS; do rm -f "/usr/bin/$t"; done
fi

# Wrappers append "argc NUL argv0 NUL argv1 NUL ..." to the host-side log, then exec the real binary. Where the
# simulator traces every exec'd process (SIM_RECORD_ARGV=0) they are not needed, except curl's in light pods.
q=$(printf '%s' "$SIM_ARGV_LOG" | sed "s/'/'\\\\''/g")
s=$(printf '%s' "$SIM_REST_SOCKET" | sed "s/'/'\\\\''/g")
record="printf '%s\\0' \"\$#\" \"\$0\" \"\$@\" >> '$q'"
[ "$SIM_RECORD_ARGV" = 1 ] || record=':'
for b in curl dash bash; do
  [ "$SIM_RECORD_ARGV" = 1 ] || { [ "$SIM_LIGHT" = 1 ] && [ "$b" = curl ]; } || continue
  [ -e "/usr/bin/$b" ] || continue
  [ -e "/opt/.sim/$b" ] || continue
  w="/opt/.sim/wrap-$b"
  if [ "$SIM_LIGHT" = 1 ]; then
    # Fleet mode: dash wrappers (bash costs 15 ms a start, twice per REST call); dash has no exec -a,
    # which only kept argv[0] for the real binary. Light pods have no forwarder, so curl is pointed at
    # the pod's REST socket, after its argv was logged as given.
    # The option goes after the caller's arguments: curl honours -q only as the first one.
    extra=''
    [ "$b" = curl ] && extra=" --unix-socket '$s'"
    {
      printf '%s\n' '#!/opt/.sim/dash'
      printf '%s\n' "$record"
      printf '%s\n' "exec /opt/.sim/$b \"\$@\"$extra"
    } > "$w"
  else
  {
    printf '%s\n' '#!/opt/.sim/bash'
    printf '%s\n' "$record"
    printf '%s\n' "exec -a \"\$0\" /opt/.sim/$b \"\$@\""
  } > "$w"
  fi
  chmod 755 "$w"
  mount --bind "$w" "/usr/bin/$b"
done

if [ "$SIM_LIGHT" = 1 ]; then
  # Fleet mode: a cat holds the namespaces (about 1 MB instead of a 40 MB node forwarder) and, like the
  # forwarder, leaves when the simulator's end of stdin closes. $$ is this shell, which becomes cat.
  printf 'ready %s\n' "$$"
  exec /opt/.sim/cat > /dev/null
fi
exec "$SIM_NODE" "$SIM_FORWARDER"
`;
