# shellcheck shell=bash
# Shared helpers for kube-atelier's scripts. Source it; it sets no options.

ATELIER_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Slow builds (base image recipe stamps, Go binaries later) are cached outside
# the checkout, keyed by version, so a fresh clone on the same machine reuses them.
ATELIER_CACHE=${ATELIER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-atelier}
export ATELIER_ROOT ATELIER_CACHE

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# apt_install PKG...: installs the missing Debian packages when root; otherwise
# says exactly what to install and stops.
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  if ! is_root; then
    die "missing system packages; run as root: apt-get install -y ${missing[*]}"
  fi
  command -v apt-get >/dev/null || die "no apt-get: install ${missing[*]} with your package manager"
  log "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # An old package list finds nothing or old versions: refresh once a day at most.
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n1)" ]; then
    apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
  fi
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# podman_ready: rootful podman with runc and netavark, and a containers.conf
# that this kind of VM needs; every script that runs podman first calls it.
# Why the containers.conf: on these VMs the process lacks CAP_SYS_RESOURCE, so
# podman's default ulimits fail with setrlimit EPERM; and the cgroup v1/v2
# hybrid layout is refused by crun, so runc is used.
podman_ready() {
  # The marker keeps the name of the script that first wrote the file, so a
  # machine set up before still counts as set up by kube-atelier.
  local conf=/etc/containers/containers.conf marker="# written by kube-atelier scripts/podman-setup.sh"
  local nofile nproc pid_max new
  is_root || die "podman nodes need rootful podman (privileged containers with systemd): run as root"
  apt_install podman runc netavark aardvark-dns debootstrap iptables uidmap slirp4netns

  if [ -f "$conf" ] && ! grep -qF "$marker" "$conf"; then
    log "keeping your own $conf (it has no kube-atelier marker)"
  else
    nofile=$(ulimit -Hn)
    nproc=$(ulimit -Hu)
    pid_max=$(cat /proc/sys/kernel/pid_max)
    # podman caps nproc at pid_max; asking for more is refused.
    if [ "$nproc" = unlimited ] || [ "$nproc" -gt "$pid_max" ]; then nproc=$pid_max; fi
    [ "$nofile" = unlimited ] && nofile=1048576
    mkdir -p /etc/containers
    new=$(printf '%s\n' "$marker" '[containers]' 'default_ulimits = [' \
      "  \"nofile=$nofile:$nofile\"," "  \"nproc=$nproc:$nproc\"," ']' '' \
      '[network]' 'network_backend = "netavark"' '' '[engine]' 'runtime = "runc"')
    if [ "$(cat "$conf" 2>/dev/null)" != "$new" ]; then
      printf '%s\n' "$new" > "$conf"
      log "wrote $conf"
    fi
  fi
  podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.NetworkBackend}}' >/dev/null \
    || die "podman does not work here: see 'podman info'"
}

# The venv lives in the cache, keyed by the Python version and the pins, so a
# fresh clone on the same machine does not spend minutes reinstalling it;
# .venv in the checkout links to it.
venv_path() {
  local pins py
  pins=$(cat "$ATELIER_ROOT/requirements.txt" "$ATELIER_ROOT/constraints.txt" | sha256sum | cut -c1-12)
  py=$("${PYTHON:-python3}" -c 'import sys; print("py%d%d" % sys.version_info[:2])')
  echo "${ATELIER_VENV:-$ATELIER_CACHE/venv/$py-$pins}"
}

activate_venv() {
  # shellcheck disable=SC1091
  . "$ATELIER_ROOT/.venv/bin/activate"
  export ANSIBLE_CONFIG="$ATELIER_ROOT/ansible.cfg"
}

# Stage timing: `stage NAME` starts a stage, `stage_report` prints them all.
STAGE_NAMES=()
STAGE_SECONDS=()
_stage_start=0
_stage_name=
stage() {
  stage_end
  _stage_name=$1
  _stage_start=$SECONDS
  log "stage: $1"
}
stage_end() {
  if [ -n "$_stage_name" ]; then
    STAGE_NAMES+=("$_stage_name")
    STAGE_SECONDS+=($((SECONDS - _stage_start)))
    _stage_name=
  fi
}
stage_report() {
  stage_end
  local i
  printf '\n%-34s %8s\n' "stage" "seconds"
  for i in "${!STAGE_NAMES[@]}"; do
    printf '%-34s %8s\n' "${STAGE_NAMES[$i]}" "${STAGE_SECONDS[$i]}"
  done
}
