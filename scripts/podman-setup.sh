#!/usr/bin/env bash
# Makes this machine able to run the test nodes: rootful podman with runc and
# netavark, a containers.conf that this kind of VM needs, and the node base image.
#
# Why the containers.conf: on these VMs the process lacks CAP_SYS_RESOURCE, so
# podman's default ulimits fail with setrlimit EPERM; and the cgroup v1/v2 hybrid
# layout is refused by crun, so runc is used.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"

is_root || die "podman nodes need rootful podman (privileged containers with systemd): run as root"
apt_install podman runc netavark aardvark-dns debootstrap iptables uidmap slirp4netns

conf=/etc/containers/containers.conf
marker="# written by kube-atelier scripts/podman-setup.sh"
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
  new=$(cat <<CONF
$marker
[containers]
default_ulimits = [
  "nofile=$nofile:$nofile",
  "nproc=$nproc:$nproc",
]

[network]
network_backend = "netavark"

[engine]
runtime = "runc"
CONF
)
  if [ "$(cat "$conf" 2>/dev/null)" != "$new" ]; then
    printf '%s\n' "$new" > "$conf"
    log "wrote $conf"
  fi
fi
podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.NetworkBackend}}' >/dev/null \
  || die "podman does not work here: see 'podman info'"
exec "$ATELIER_ROOT/scripts/build-node-image.sh"
