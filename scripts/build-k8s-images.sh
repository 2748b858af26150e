#!/usr/bin/env bash
# Builds the container images a kubeadm cluster of the pinned release pulls,
# as archives containerd imports (`ctr -n k8s.io images import`), without any
# container registry: from the binaries of scripts/build-k8s-artifacts.sh, Go
# modules (CoreDNS, Flannel) and Debian packages.
#
#   scripts/build-k8s-images.sh            build the missing archives, check the new ones
#   scripts/build-k8s-images.sh --rebuild  build them all again
#   scripts/build-k8s-images.sh --check    also load each cached archive and check it
#   scripts/build-k8s-images.sh --list     print "<image><TAB><archive>" per image and exit
#   scripts/build-k8s-images.sh --dir      print the archive directory and exit
#
# The images are exactly the ones `kubeadm config images list` of the pinned
# release prints (registry.k8s.io/kube-apiserver:vX.Y.Z, ..., etcd, CoreDNS,
# pause: their versions come from that list), plus Flannel's two images named
# as roles/cni/defaults/main.yml names them (tools/k8s-images/versions.env):
#
# - kube-apiserver, kube-controller-manager, kube-scheduler, etcd: the static
#   binary in /usr/local/bin (kubeadm's manifests call them by name) on a
#   minimal root file system (passwd, group, nsswitch.conf, /tmp, CA bundle);
# - kube-proxy: /usr/local/bin/kube-proxy on a Debian root file system with
#   iptables (Debian's default nft backend, like the nodes), iproute2, conntrack;
# - coredns/coredns: /coredns built from github.com/coredns/coredns at the tag
#   kubeadm names; it runs as root (upstream's runs as 65532 with a file
#   capability, which allowPrivilegeEscalation: false makes useless here);
# - pause: upstream's build/pause/linux/pause.c of the k8s.io/kubernetes module,
#   compiled statically with gcc as build/pause/Makefile does, user 65535;
# - flannel: /opt/bin/flanneld and /opt/bin/install-conf from
#   github.com/flannel-io/flannel (as its images/Dockerfile builds them, from
#   tools/k8s-images/flannel/: one SDK module its go.mod pins is not served by
#   the Go module proxy) on the Debian root file system;
# - flannel-cni-plugin: /flannel and a static busybox for `cp`. Its module,
#   github.com/flannel-io/cni-plugin, is not served by the Go module proxy: the
#   code it was forked from (containernetworking/plugins v0.9.1,
#   plugins/meta/flannel) is built instead, see tools/k8s-images/flannel-cni/.
#
# Archives: $ATELIER_CACHE/k8s/v<version>/images/<name>-<tag>.tar
# (`podman save --format docker-archive`) with <file>.sha256 beside it; one
# that is there and matches is not built again. The Debian root file system is
# cached as $ATELIER_CACHE/images/k8s-netbase-<hash>.tar. Ends with a table:
# per image, cold or cached, seconds, size. Each new image is run once with
# podman to print its version, then removed from podman's storage.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/images.sh
. "$(dirname "$0")/lib/images.sh"

BUILD_MODULE=$ATELIER_ROOT/tools/k8s-build
IMAGES_MODULE=$ATELIER_ROOT/tools/k8s-images
# shellcheck source=../tools/k8s-build/versions.env
. "$BUILD_MODULE/versions.env"
# shellcheck source=../tools/k8s-images/versions.env
. "$IMAGES_MODULE/versions.env"
K8S_TAG=v$KUBERNETES_VERSION
OUT=$ATELIER_CACHE/k8s/$K8S_TAG/images
BUILT_BY=scripts/build-k8s-images.sh
NETBASE_PACKAGES=iptables,iproute2,conntrack,ca-certificates,busybox-static

parse_image_options "$@"

# The Flannel images must be the ones the cni role's manifest names.
cni_defaults=$ATELIER_ROOT/roles/cni/defaults/main.yml
grep -q "^cni_flannel_version: \"$FLANNEL_VERSION\"" "$cni_defaults" \
  || die "roles/cni/defaults/main.yml does not pin cni_flannel_version \"$FLANNEL_VERSION\" (tools/k8s-images/versions.env)"
grep -q "flannel-cni-plugin:$FLANNEL_CNI_PLUGIN_TAG\$" "$cni_defaults" \
  || die "roles/cni/defaults/main.yml does not name flannel-cni-plugin:$FLANNEL_CNI_PLUGIN_TAG (tools/k8s-images/versions.env)"

BIN=$("$ATELIER_ROOT/scripts/build-k8s-artifacts.sh" --bin-dir)
# kubeadm is needed for the list; the rest only for the images built from them.
need_bins=(kubeadm kube-apiserver kube-controller-manager kube-scheduler kube-proxy etcd)
missing_bins=()
for b in "${need_bins[@]}"; do [ -x "$BIN/$b" ] || missing_bins+=("$b"); done
if ((${#missing_bins[@]})); then
  [ "$mode" = build ] || [[ " ${missing_bins[*]} " != *" kubeadm "* ]] \
    || die "no kubeadm in $BIN: run scripts/build-k8s-artifacts.sh kubeadm"
  if [ "$mode" = build ]; then
    "$ATELIER_ROOT/scripts/build-k8s-artifacts.sh" "${missing_bins[@]}"
  fi
fi

mapfile -t KUBEADM_IMAGES < <("$BIN/kubeadm" config images list --kubernetes-version "$K8S_TAG" 2>/dev/null)
((${#KUBEADM_IMAGES[@]})) || die "kubeadm config images list --kubernetes-version $K8S_TAG printed nothing"
IMAGES=("${KUBEADM_IMAGES[@]}"
  "ghcr.io/flannel-io/flannel:v$FLANNEL_VERSION"
  "ghcr.io/flannel-io/flannel-cni-plugin:$FLANNEL_CNI_PLUGIN_TAG")

if [ "$mode" = list ]; then
  print_image_list
  exit 0
fi

podman_ready
apt_install gcc libc6-dev tar
need_go
begin_build k8s

# The Debian root file system (iptables ...), debootstrapped once and cached.
netbase_tar() { debootstrap_tar k8s-netbase "$NETBASE_PACKAGES"; }

# version_check REF: the image's entrypoint prints the version it must carry.
version_check() {
  local ref=$1 name=${1%:*} tag=${1##*:} args want out
  case ${name##*/} in
    etcd) args=(--version) want="etcd Version: ${tag%-*}" ;;
    coredns) args=(-version) want="CoreDNS-${tag#v}" ;;
    pause) args=(-v) want="pause.c v$tag" ;;
    flannel) args=(--version) want=$tag ;;
    flannel-cni-plugin) args=() want="CNI flannel plugin" ;;
    *) args=(--version) want="Kubernetes $tag" ;;
  esac
  out=$(podman run --rm --network none "$ref" "${args[@]}" 2>&1) || die "podman run $ref ${args[*]} failed: $out"
  [[ $out == *"$want"* ]] || die "$ref prints '$out', not '$want'"
  printf '%s' "${out%%$'\n'*}"
}

k8s_module_dir() {
  (cd "$BUILD_MODULE" && "$GO" list -m -f '{{.Dir}}' k8s.io/kubernetes)
}

build_image() {
  local ref=$1 name=${1%:*} tag=${1##*:} root
  root=$(mktemp -d "$WORK/rootfs.XXXXXX")
  case ${name##*/} in
    kube-apiserver|kube-controller-manager|kube-scheduler)
      static_rootfs "$root"
      install -m 0755 "$BIN/${name##*/}" "$root/usr/local/bin/"
      make_image "$ref" "$root" "ENTRYPOINT [\"/usr/local/bin/${name##*/}\"]"
      ;;
    etcd)
      [ "${tag%-*}" = "$ETCD_VERSION" ] \
        || die "kubeadm wants etcd $tag but tools/k8s-build/versions.env pins ETCD_VERSION=$ETCD_VERSION"
      static_rootfs "$root"
      install -m 0755 "$BIN/etcd" "$root/usr/local/bin/"
      mkdir -p "$root/var/lib/etcd"
      make_image "$ref" "$root" 'ENTRYPOINT ["/usr/local/bin/etcd"]'
      ;;
    kube-proxy)
      tar -C "$root" -xf "$(netbase_tar)"
      install -m 0755 "$BIN/kube-proxy" "$root/usr/local/bin/"
      make_image "$ref" "$root" 'ENTRYPOINT ["/usr/local/bin/kube-proxy"]'
      ;;
    coredns)
      static_rootfs "$root"
      go_install "$root/coredns" "-s -w -X github.com/coredns/coredns/coremain.GitCommit=" "" \
        "github.com/coredns/coredns@$tag"
      make_image "$ref" "$root" 'ENTRYPOINT ["/coredns"]'
      ;;
    pause)
      local src want_tag
      src=$(k8s_module_dir)/build/pause
      [ -f "$src/linux/pause.c" ] || die "no build/pause/linux/pause.c in the k8s.io/kubernetes module ($src): run scripts/build-k8s-artifacts.sh first"
      want_tag=$(sed -n 's/^TAG ?= *//p' "$src/Makefile")
      [ "$want_tag" = "$tag" ] || die "kubeadm wants pause $tag but the module's build/pause/Makefile builds $want_tag"
      static_rootfs "$root"
      nice -n 19 gcc -Os -Wall -Werror -static "-DVERSION=v$tag" -o "$root/pause" "$src/linux/pause.c"
      strip "$root/pause"
      make_image "$ref" "$root" 'ENTRYPOINT ["/pause"]' 'USER 65535:65535'
      ;;
    flannel)
      tar -C "$root" -xf "$(netbase_tar)"
      mkdir -p "$root/opt/bin"
      # As upstream's Makefile (dist/flanneld: cgo on amd64 for the UDP
      # backend, static) and images/Dockerfile (install-conf without cgo).
      local cgo=0
      [ "$("$GO" env GOARCH)" != amd64 ] || cgo=1
      # tools/k8s-images/flannel: flannel's own go.mod, less one module the
      # Go module proxy does not serve (see its go.mod).
      local flannel_module=$IMAGES_MODULE/flannel
      grep -Eq "^require github.com/flannel-io/flannel $tag\$" "$flannel_module/go.mod" \
        || die "tools/k8s-images/flannel/go.mod does not require github.com/flannel-io/flannel $tag"
      (cd "$flannel_module" \
        && CGO_ENABLED=$cgo nice -n 19 "$GO" build -trimpath -o "$root/opt/bin/flanneld" \
          -ldflags "-s -w -X github.com/flannel-io/flannel/pkg/version.Version=$tag -extldflags \"-static\"" \
          github.com/flannel-io/flannel \
        && CGO_ENABLED=0 nice -n 19 "$GO" build -trimpath -o "$root/opt/bin/install-conf" -ldflags "-s -w" \
          github.com/flannel-io/flannel/cmd/install_conf) \
        || die "go build of flanneld or install-conf failed (tools/k8s-images/flannel)"
      make_image "$ref" "$root" 'ENTRYPOINT ["/opt/bin/flanneld"]'
      ;;
    flannel-cni-plugin)
      local cni_module=$IMAGES_MODULE/flannel-cni plugins_version
      plugins_version=$(cd "$cni_module" && "$GO" list -m -f '{{.Version}}' github.com/containernetworking/plugins)
      (cd "$cni_module" && CGO_ENABLED=0 nice -n 19 "$GO" build -trimpath \
        -ldflags "-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=$plugins_version" \
        -o "$root/flannel" github.com/containernetworking/plugins/plugins/meta/flannel) \
        || die "go build of the flannel CNI plugin failed (tools/k8s-images/flannel-cni)"
      # `cp` for the manifest's init container (upstream's image is Alpine's).
      mkdir -p "$root/bin" "$root/tmp"
      chmod 1777 "$root/tmp"
      tar -C "$WORK" -xf "$(netbase_tar)" ./usr/bin/busybox
      install -m 0755 "$WORK/usr/bin/busybox" "$root/bin/busybox"
      ln -s busybox "$root/bin/cp"
      ln -s busybox "$root/bin/sh"
      make_image "$ref" "$root" 'ENTRYPOINT ["/flannel"]' \
        "LABEL io.kube-atelier.substitute=github.com/containernetworking/plugins@$plugins_version/plugins/meta/flannel"
      ;;
    *) die "kubeadm lists $ref, which this script does not know how to build" ;;
  esac
  rm -rf "$root"
}

build_images
