#!/usr/bin/env bash
# The cluster storage's images (roles/cluster_storage, cluster_storage_images),
# pins in tools/lab-images/storage.env. Sourced by scripts/build-lab-images.sh,
# which builds them with the labs' images; run on its own
# (`scripts/lab-images/storage.sh [--rebuild|--check|--list|--dir]`), it
# builds only these, into the same cache.
#
# - docker.io/rancher/local-path-provisioner:<version>: a stand-in for
#   upstream's image (Alpine with the binary at /usr/bin/local-path-provisioner):
#   the static binary built from the Go module, on a minimal root file system,
#   labelled io.kube-atelier.substitute. What it lacks: Alpine's shell and
#   busybox (the provisioner runs none; its helper pods use the busybox image);
# - docker.io/library/busybox:<tag>: a stand-in for Docker Hub's busybox,
#   Debian's busybox-static (`apt-get download`, its files extracted with
#   dpkg-deb) as /bin/busybox with a link per applet, as upstream's image has.
#   Checked by running the provisioner's setup and teardown scripts in it.

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  # shellcheck source=../lib/lab-recipe.sh
  . "$(dirname "$0")/../lib/lab-recipe.sh"
fi

IMAGES+=(
  "docker.io/rancher/local-path-provisioner:$LOCAL_PATH_PROVISIONER_VERSION"
  "docker.io/library/busybox:$BUSYBOX_IMAGE_TAG"
)

build_local_path_provisioner() {
  local ref=$1 tag=${1##*:} root src
  root=$(mktemp -d "$WORK/rootfs.XXXXXX")
  static_rootfs "$root"
  mkdir -p "$root/usr/bin"
  src=$(cd / && "$GO" mod download -json "github.com/rancher/local-path-provisioner@$tag" \
    | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -n "$src" ] || die "go mod download github.com/rancher/local-path-provisioner@$tag failed"
  # Its vendor/ folder lacks packages it imports: build from the module cache.
  (cd "$src" && CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" nice -n 19 "$GO" build -trimpath \
    -ldflags "-s -w -X main.VERSION=$tag" -o "$root/usr/bin/local-path-provisioner" .) \
    || die "go build of github.com/rancher/local-path-provisioner@$tag failed"
  make_image "$ref" "$root" 'CMD ["local-path-provisioner"]' \
    "LABEL io.kube-atelier.substitute=go-module:github.com/rancher/local-path-provisioner@$tag"
  rm -rf "$root"
}

version_check_local_path_provisioner() {
  local ref=$1 out
  out=$(podman run --rm --network none "$ref" local-path-provisioner --version 2>&1) \
    || die "podman run $ref local-path-provisioner --version failed: $out"
  [[ $out == *"${ref##*:}"* ]] || die "$ref prints '${out:0:200}', not ${ref##*:}"
  printf '%s' "${out%%$'\n'*}"
}

build_busybox() {
  local ref=$1 tag=${1##*:} root deb version applet
  apt_install busybox-static
  root=$(mktemp -d "$WORK/rootfs.XXXXXX")
  (cd "$WORK" && apt-get download -q busybox-static >/dev/null) || die "apt-get download busybox-static failed"
  deb=$(ls "$WORK"/busybox-static_*.deb)
  version=$(dpkg-deb -f "$deb" Version)
  [[ ${version#*:} == "$tag".* ]] || die "Debian's busybox-static is $version, not $tag.* ($ref)"
  dpkg-deb -x "$deb" "$WORK/busybox"
  static_rootfs "$root"
  install -m 0755 "$WORK/busybox/bin/busybox" "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  make_image "$ref" "$root" 'CMD ["sh"]' "LABEL io.kube-atelier.substitute=debian:$DEBIAN_SUITE,busybox-static=$version"
  rm -rf "$root" "$WORK/busybox" "$deb"
}

# The provisioner's own helper scripts (its ConfigMap's setup and teardown) in it.
version_check_busybox() {
  local ref=$1 out
  # shellcheck disable=SC2016 # the container's shell expands them
  out=$(podman run --rm --network none -e VOL_DIR=/tmp/pvc-check "$ref" /bin/sh -c \
    'set -eu; mkdir -m 0777 -p "$VOL_DIR"; test -d "$VOL_DIR"; rm -rf "$VOL_DIR"; test ! -e "$VOL_DIR"; busybox | head -n1' 2>&1) \
    || die "the provisioner's setup and teardown scripts failed in $ref: $out"
  [[ $out == "BusyBox v${ref##*:}"* ]] || die "$ref prints '${out:0:200}', not BusyBox v${ref##*:}"
  printf '%s, setup/teardown ran' "${out%% (*}"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  build_image() { "$(recipe_of_storage build "$1")" "$1"; }
  version_check() { "$(recipe_of_storage version_check "$1")" "$1"; }
  recipe_of_storage() { local name=${2%:*}; name=${name##*/}; echo "${1}_${name//-/_}"; }
  parse_image_options "$@"
  if [ "$mode" = list ]; then
    print_image_list
    exit 0
  fi
  apt_install podman tar
  need_go
  begin_build lab
  build_images
fi
