#!/usr/bin/env bash
# Builds the node base image from Debian packages only (no container registry is
# reachable here): debootstrap a Debian 12 rootfs with systemd as PID 1,
# python3 for Ansible and an SSH server (as a cloud image has: the sandbox's
# nodes are reached over SSH like a cloud's), then `podman import` it.
#
# Cache: the image is tagged with a hash of this recipe, and also saved as an
# archive under $ATELIER_CACHE/images/. It is rebuilt only when both are missing
# or the recipe changed. The moving tag $ATELIER_NODE_IMAGE names the current one.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"

# The Debian mirror: debootstrap's own default unless DEBIAN_MIRROR names one.
MIRROR=${DEBIAN_MIRROR:-}
SUITE=bookworm
PACKAGES=python3,python3-apt,sudo,systemd,systemd-sysv,dbus,iproute2,iputils-ping,procps,ca-certificates,openssh-server
IMAGE=${ATELIER_NODE_IMAGE:-localhost/kube-atelier-node:debian12}

recipe_hash=$( { cat "$0"; echo "${MIRROR:-debootstrap-default} $SUITE $PACKAGES"; } | sha256sum | cut -c1-12)
versioned="${IMAGE}-${recipe_hash}"
archive="$ATELIER_CACHE/images/$(basename "${IMAGE//:/-}")-${recipe_hash}.tar"

if podman image exists "$versioned"; then
  log "node image cached: $versioned"
elif [ -f "$archive" ]; then
  log "node image from cache archive $archive"
  podman load -q -i "$archive" >/dev/null
else
  t0=$SECONDS
  work=$(mktemp -d "${TMPDIR:-/tmp}/atelier-rootfs.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  log "debootstrap $SUITE (${MIRROR:-debootstrap default mirror}) -> $versioned"
  if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$work/rootfs" ${MIRROR:+"$MIRROR"} \
      >"$work/debootstrap.log" 2>&1; then
    tail -n 40 "$work/debootstrap.log" >&2
    die "debootstrap failed"
  fi
  root=$work/rootfs
  # The mirror debootstrap used (its sources.list), for the updates and
  # security suites beside it.
  mirror=$(awk '$1 == "deb" { print $2; exit }' "$root/etc/apt/sources.list")
  [ -n "$mirror" ] || die "debootstrap wrote no mirror in $root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list" <<SRC
deb $mirror $SUITE main
deb $mirror $SUITE-updates main
deb ${mirror%/debian}/debian-security $SUITE-security main
SRC
  chroot "$root" /bin/sh -c 'apt-get clean; rm -rf /var/lib/apt/lists/*'
  # Each container must get its own machine-id from systemd at first boot.
  : >"$root/etc/machine-id"
  rm -f "$root/var/lib/dbus/machine-id"
  # Ansible's apt cache_valid_time reads the mtime of the lists folder: make it
  # look stale so the first `update_cache` really fetches the lists.
  touch -d '2000-01-01' "$root/var/lib/apt/lists"
  tar --numeric-owner -C "$root" -c . \
    | podman import -q --change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL SIGRTMIN+3' \
      --change "LABEL io.kube-atelier.recipe=$recipe_hash" - "$versioned" >/dev/null
  mkdir -p "$(dirname "$archive")"
  podman save -q -o "$archive.tmp" "$versioned" && mv "$archive.tmp" "$archive"
  log "node image built in $((SECONDS - t0))s"
fi
podman tag "$versioned" "$IMAGE"
echo "$IMAGE"
