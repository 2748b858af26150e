#!/usr/bin/env bash
# Builds the container images the labs run, as archives containerd imports
# (`ctr -n k8s.io images import`, the container_runtime role's preload),
# without any container registry: from their Go modules or Debian packages, on
# a minimal root file system, tagged with exactly the names the lab manifests
# reference.
#
#   scripts/build-lab-images.sh            build the missing archives, check the new ones
#   scripts/build-lab-images.sh --rebuild  build them all again
#   scripts/build-lab-images.sh --check    also load each cached archive and check it
#   scripts/build-lab-images.sh --list     print "<image><TAB><archive>" per image and exit
#   scripts/build-lab-images.sh --preload-vars   print container_runtime_preload_images
#                                          items (YAML, with sha256) for the cached archives
#   scripts/build-lab-images.sh --dir      print the archive directory and exit
#
# Lab "autoscaling" (roles/lab_autoscaling, lab_autoscaling_images), versions
# pinned in tools/lab-images/versions.env:
#
# - ghcr.io/stefanprodan/podinfo: ./podinfo and ./ui in /home/app as upstream's
#   Dockerfile lays them out (the manifests run `./podinfo --port=9898`), from
#   github.com/stefanprodan/podinfo (a pseudo-version: see versions.env);
# - registry.k8s.io/metrics-server/metrics-server: /metrics-server from
#   sigs.k8s.io/metrics-server/cmd/metrics-server, version set as upstream's
#   Makefile sets it;
# - quay.io/prometheus/prometheus: /bin/prometheus from
#   github.com/prometheus/prometheus/cmd/prometheus. Built without the
#   `builtinassets` tag: the web UI's assets are made by npm, which is not
#   available here, so the UI pages answer with an error while the HTTP API
#   (/api/v1/..., what the adapter and the verify step use), scraping and
#   /metrics work. Upstream's image has the UI;
# - registry.k8s.io/prometheus-adapter/prometheus-adapter: /adapter from
#   sigs.k8s.io/prometheus-adapter/cmd/adapter.
#
# Lab "scheduling" (roles/lab_scheduling, lab_scheduling_images): stand-ins
# for two stock Docker Hub images, from Debian bookworm's packages (the
# files of the packages and of their dependencies, copied from a debootstrapped
# root file system cached once; no package manager, shell or docs inside):
#
# - docker.io/library/python: python3 (bookworm's 3.11) and its standard
#   library, what the heat-scheduler's extender needs; upstream's image has
#   CPython built from source in /usr/local, this one Debian's in /usr;
# - docker.io/library/perl: perl (bookworm's 5.36) with its core modules
#   (bignum, for the slides' podpi; like upstream's 5.36, its bpi() stops at
#   1000 digits, see roles/lab_scheduling/README.md).
#
# Each later lab keeps its images' recipes in scripts/lab-images/<lab>.sh and
# their pins in tools/lab-images/<lab>.env (see below, where they are read).
#
# Archives: $ATELIER_CACHE/lab-images/<name>-<tag>.tar (`podman save --format
# docker-archive`) with <file>.sha256 beside it; one that is there and matches
# is not built again. Ends with a table: per image, cold or cached, seconds,
# size. Each new image is run once with podman (no network) to print its
# version, then removed from podman's storage. The Debian root file system is
# cached as $ATELIER_CACHE/images/lab-debian-<hash>.tar.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/images.sh
. "$(dirname "$0")/lib/images.sh"

# The pins: tools/lab-images/versions.env (autoscaling, scheduling) and one
# <lab>.env per later lab.
for pins in "$ATELIER_ROOT"/tools/lab-images/*.env; do
  # shellcheck source=../tools/lab-images/versions.env
  . "$pins"
done
OUT=${ATELIER_LAB_IMAGE_DIR:-$ATELIER_CACHE/lab-images}
BUILT_BY=scripts/build-lab-images.sh

IMAGES=(
  "ghcr.io/stefanprodan/podinfo:$PODINFO_VERSION"
  "registry.k8s.io/metrics-server/metrics-server:$METRICS_SERVER_VERSION"
  "quay.io/prometheus/prometheus:$PROMETHEUS_VERSION"
  "registry.k8s.io/prometheus-adapter/prometheus-adapter:$PROMETHEUS_ADAPTER_VERSION"
  "docker.io/library/python:$PYTHON_IMAGE_TAG"
  "docker.io/library/perl:$PERL_IMAGE_TAG"
)
# The Debian packages the python and perl images are made of.
DEBIAN_PACKAGES=python3-minimal,libpython3.11-stdlib,perl

# A later lab's images: scripts/lab-images/<lab>.sh appends its references to
# IMAGES and defines, per image, build_<name> REF and version_check_<name> REF
# (<name>: the image's last path part, '-' as '_'), called by build_image and
# version_check below.
for recipes in "$ATELIER_ROOT"/scripts/lab-images/*.sh; do
  [ -e "$recipes" ] || continue
  # shellcheck source=/dev/null
  . "$recipes"
done

EXTRA_MODES=(--preload-vars)
parse_image_options "$@"

# The images must be the ones the roles' manifests name: each in the
# <role>_images of a lab role's defaults, or of cluster_storage's.
for ref in "${IMAGES[@]}"; do
  grep -qE "^  [a-z_]+: \"?$ref\"?\$" "$ATELIER_ROOT"/roles/lab_*/defaults/main.yml \
    "$ATELIER_ROOT"/roles/cluster_storage/defaults/main.yml \
    || die "no role's defaults (roles/lab_*/ or roles/cluster_storage/defaults/main.yml, <role>_images) name $ref (tools/lab-images/*.env)"
done

case $mode in
  list)
    print_image_list
    exit 0
    ;;
  preload-vars)
    echo "# scripts/build-lab-images.sh --preload-vars: container_runtime_preload_images items"
    for ref in "${IMAGES[@]}"; do
      archive=$(archive_of "$ref")
      cached "$archive" || die "$archive is missing or does not match its .sha256: run scripts/build-lab-images.sh"
      printf -- '- {image: "%s", src: "%s", sha256: "%s"}\n' "$ref" "$archive" "$(cut -d' ' -f1 "$archive.sha256")"
    done
    exit 0
    ;;
esac

podman_ready
apt_install tar
need_go
begin_build lab

module_dir() {
  (cd / && "$GO" mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
}

# version_check REF: the image's entrypoint prints the version it must carry.
version_check() {
  local ref=$1 name=${1%:*} tag=${1##*:} args want out recipe
  recipe=$(recipe_of version_check "$ref")
  if [ -n "$recipe" ]; then
    "$recipe" "$ref"
    return
  fi
  case ${name##*/} in
    podinfo) args=(--version) want=$tag ;;
    metrics-server) args=(--version) want=$tag ;;
    prometheus) args=(--version) want="prometheus, version ${tag#v}" ;;
    prometheus-adapter) args=(--help) want="--prometheus-url" ;;
    # What the extender imports; the slides' podpi, shorter.
    python) args=(python3 -c 'import sys, argparse, http.server, json, logging, urllib.request; print("Python", sys.version.split()[0])')
      want="Python ${tag%%-*}." ;;
    perl)
      # shellcheck disable=SC2016 # Perl's variables, not the shell's
      args=(perl -Mbignum=bpi -le 'my $p = bpi(1000); printf "perl %vd, bpi(1000) %s... (%d digits)\n", $^V, substr($p, 0, 7), length($p) - 1')
      want="bpi(1000) 3.14159... (1000 digits)"
      ;;
    *) die "no version check for $ref" ;;
  esac
  # The adapter has no --version; its --help exits 2 (pflag), the text is what counts.
  out=$(podman run --rm --network none "$ref" "${args[@]}" 2>&1) \
    || [ "${name##*/}" = prometheus-adapter ] || die "podman run $ref ${args[*]} failed: $out"
  [[ $out == *"$want"* ]] || die "$ref prints '${out:0:300}', not '$want'"
  if [ "${name##*/}" = prometheus-adapter ]; then
    printf 'adapter (--help answers)'
  else
    printf '%s' "${out%%$'\n'*}"
  fi
}

# debian_image REF PACKAGE VERSION_PREFIX CMD: REF made of PACKAGE's files
# (and its dependencies') from the cached Debian root file system, refused
# unless Debian's version of PACKAGE starts with VERSION_PREFIX (the tag's).
debian_image() {
  local ref=$1 package=$2 want=$3 cmd=$4 root tar versions
  tar=$(debootstrap_tar lab-debian "$DEBIAN_PACKAGES")
  root=$(mktemp -d "$WORK/rootfs.XXXXXX")
  versions=$(debian_packages_rootfs "$root" "$tar" "$package" "${@:5}")
  [[ " $versions" == *" $package=$want"* ]] || die "Debian $DEBIAN_SUITE has ${versions%% *}, not $package $want* ($ref)"
  static_rootfs "$root"
  versions=${versions% }
  make_image "$ref" "$root" "CMD $cmd" "LABEL io.kube-atelier.substitute=debian:$DEBIAN_SUITE,${versions// /,}"
  rm -rf "$root"
}

build_image() {
  local ref=$1 name=${1%:*} tag=${1##*:} root recipe
  recipe=$(recipe_of build "$ref")
  if [ -n "$recipe" ]; then
    "$recipe" "$ref"
    return
  fi
  case ${name##*/} in
    python)
      debian_image "$ref" python3.11-minimal "${tag%%-*}." '["python3"]' python3-minimal libpython3.11-stdlib
      return
      ;;
    perl)
      debian_image "$ref" perl "${tag%%-*}." '["perl", "-de0"]'
      return
      ;;
  esac
  root=$(mktemp -d "$WORK/rootfs.XXXXXX")
  static_rootfs "$root"
  case ${name##*/} in
    podinfo)
      mkdir -p "$root/home/app"
      go_install "$root/home/app/" "-s -w -X github.com/stefanprodan/podinfo/pkg/version.REVISION=$PODINFO_MODULE" "" \
        "github.com/stefanprodan/podinfo/cmd/podinfo@$PODINFO_MODULE"
      local src version
      src=$(module_dir "github.com/stefanprodan/podinfo@$PODINFO_MODULE")
      version=$(sed -n 's/^var VERSION = "\(.*\)"$/\1/p' "$src/pkg/version/version.go")
      [ "$version" = "$tag" ] || die "github.com/stefanprodan/podinfo@$PODINFO_MODULE is podinfo $version, not $tag"
      cp -r "$src/ui" "$root/home/app/ui"
      chmod -R u+w,go-w "$root/home/app/ui"
      make_image "$ref" "$root" 'WORKDIR /home/app' 'USER 65532:65532' 'ENTRYPOINT ["./podinfo"]'
      ;;
    metrics-server)
      go_install "$root/bin/" "-s -w -X k8s.io/client-go/pkg/version.gitVersion=$tag -X k8s.io/client-go/pkg/version.gitCommit=" "" \
        "sigs.k8s.io/metrics-server/cmd/metrics-server@$tag"
      mv "$root/bin/metrics-server" "$root/metrics-server"
      make_image "$ref" "$root" 'USER 65534:65534' 'ENTRYPOINT ["/metrics-server"]'
      ;;
    prometheus)
      local v=github.com/prometheus/common/version
      go_install "$root/bin/" "-s -w -X $v.Version=${tag#v} -X $v.Revision=$PROMETHEUS_MODULE -X $v.Branch=HEAD -X $v.BuildUser=kube-atelier" \
        "netgo" "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_MODULE"
      mkdir -p "$root/prometheus" "$root/etc/prometheus"
      chown 65534:65534 "$root/prometheus"
      make_image "$ref" "$root" 'USER 65534:65534' 'WORKDIR /prometheus' 'ENTRYPOINT ["/bin/prometheus"]' \
        'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]'
      ;;
    prometheus-adapter)
      # `go install ...@v0.12.0` fails here: it reads the module's version
      # list for deprecation notices, and the proxy refuses that list (403)
      # while serving the version itself. So: build inside the downloaded
      # module, as its own main module (its go.mod and go.sum, read-only).
      local src
      src=$(module_dir "sigs.k8s.io/prometheus-adapter@$tag")
      [ -n "$src" ] || die "go mod download sigs.k8s.io/prometheus-adapter@$tag failed"
      (cd "$src" && CGO_ENABLED=0 nice -n 19 "$GO" build -trimpath -o "$root/adapter" \
        -ldflags "-s -w -X k8s.io/client-go/pkg/version.gitVersion=$tag" ./cmd/adapter) \
        || die "go build of sigs.k8s.io/prometheus-adapter@$tag/cmd/adapter failed"
      make_image "$ref" "$root" 'USER 65534:65534' 'ENTRYPOINT ["/adapter"]'
      ;;
    *) die "no recipe for $ref" ;;
  esac
  rm -rf "$root"
}

build_images
