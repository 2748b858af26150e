# shellcheck shell=bash
# What the scripts that build container image archives without a registry
# (scripts/build-k8s-images.sh, scripts/build-lab-images.sh) share: options,
# archive names and their cache check, static Go builds, minimal root file
# systems, podman import/save, and the build loop with its results table.
# Source it after lib/common.sh; it sets no shell options.
#
# On sourcing it sets GO (unless set: go, or /usr/local/go/bin/go when go is
# not on PATH), PATH_ENV (the images' PATH) and exports GOWORK and GOFLAGS so
# every Go build reads only the module's own go.mod and go.sum.
#
# The script sets, before calling what uses them:
#   OUT           the archive directory
#   BUILT_BY      the io.kube-atelier.built-by label of its images (its path)
#   IMAGES        the image references it builds
#   EXTRA_MODES   optional: its own --MODE options, e.g. (--preload-vars)
# and defines build_image REF (builds REF into podman's storage, usually
# through make_image) and version_check REF (prints the version the image's
# entrypoint reports, or dies).
#
# parse_image_options sets rebuild, check_cached and mode; begin_build sets
# WORK, a temporary directory removed on exit.

if [ -z "${GO:-}" ]; then
  GO=go
  command -v go >/dev/null || [ ! -x /usr/local/go/bin/go ] || GO=/usr/local/go/bin/go
fi
export GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false"
PATH_ENV=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# parse_image_options ARG...: the options every image script documents.
# --rebuild and --check set rebuild and check_cached; --list, and each of the
# script's EXTRA_MODES (--preload-vars: mode preload-vars), set mode, which
# is otherwise build; --dir and --help answer at once, before any check.
# shellcheck disable=SC2034 # mode is for the sourcing script to act on
parse_image_options() {
  rebuild=false
  check_cached=false
  mode=build
  while (($#)); do
    case $1 in
      --rebuild) rebuild=true ;;
      --check) check_cached=true ;;
      --list) mode=list ;;
      --dir) echo "$OUT"; exit 0 ;;
      -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 0 ;;
      *)
        [[ $1 == --* && " ${EXTRA_MODES[*]-} " == *" $1 "* ]] || die "unknown argument '$1' (see --help)"
        mode=${1#--}
        ;;
    esac
    shift
  done
}

# archive_of REF: registry.k8s.io/etcd:3.6.5-0 -> $OUT/etcd-3.6.5-0.tar
# recipe_of KIND REF: the function a lab recipe (scripts/lab-images/<lab>.sh)
# defines for REF, if any.
recipe_of() {
  local name=${2%:*}
  name=${name##*/}
  name=${1}_${name//-/_}
  declare -F "$name" >/dev/null && echo "$name"
  return 0
}

archive_of() { local ref=$1 name=${1%:*}; echo "$OUT/${name##*/}-${ref##*:}.tar"; }

print_image_list() {
  local ref
  for ref in "${IMAGES[@]}"; do printf '%s\t%s\n' "$ref" "$(archive_of "$ref")"; done
}

# cached ARCHIVE: it is there and matches the .sha256 beside it, which
# make_image writes last: an interrupted build leaves no match.
cached() {
  local archive=$1
  [ -f "$archive" ] && [ -f "$archive.sha256" ] \
    && (cd "$(dirname "$archive")" && sha256sum --check --status "$(basename "$archive").sha256")
}

need_go() {
  command -v "$GO" >/dev/null || die "no '$GO' on PATH: install Go (https://go.dev/dl/) or set GO=/path/to/go"
}

# begin_build NAME: creates $OUT and holds its lock until the script exits (two
# runs would write the same .partial files), and sets WORK to a new temporary
# directory atelier-NAME-images.*; both are cleaned up on exit.
begin_build() {
  mkdir -p "$OUT"
  if command -v flock >/dev/null; then
    exec 9>"$OUT/.lock"
    flock 9
  fi
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/atelier-$1-images.XXXXXX")
  trap 'rm -rf "$WORK"; rm -f "$OUT"/*.partial' EXIT
}

# go_install DEST LDFLAGS TAGS PACKAGE@VERSION: `go install` of upstream's
# module with its own go.mod and go.sum, so only for modules without replace
# directives whose every dependency the Go module proxy serves. Static
# (CGO_ENABLED=0): the root file systems have no C library. DEST is the
# binary's path, or a directory for it.
go_install() {
  local out=$1 ldflags=$2 tags=$3 pkg=$4 gobin
  gobin=$(mktemp -d "$WORK/gobin.XXXXXX")
  (cd / && GOBIN=$gobin CGO_ENABLED=0 nice -n 19 "$GO" install -trimpath ${tags:+-tags "$tags"} -ldflags "$ldflags" "$pkg") \
    || die "go install $pkg failed (the first build needs the Go module proxy: $("$GO" env GOPROXY))"
  mv "$gobin"/* "$out"
}

# static_rootfs DIR: a root file system with what static Go binaries read:
# users (nonroot 65532, nobody 65534), hosts lookup order, a CA bundle, a
# writable /tmp, and the directories the images install into.
static_rootfs() {
  local root=$1
  mkdir -p "$root"/{etc/ssl/certs,tmp,bin,usr/local/bin,var/run,root,home/nonroot}
  chmod 1777 "$root/tmp"
  cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
PASSWD
  cat >"$root/etc/group" <<'GROUP'
root:x:0:
nobody:x:65534:
nonroot:x:65532:
GROUP
  echo 'hosts: files dns' >"$root/etc/nsswitch.conf"
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  fi
}

# make_image REF ROOTFS_DIR [podman import --change ...]: import, save, sha256.
# The .sha256 comes last, so only a complete archive counts as cached.
make_image() {
  local ref=$1 root=$2 archive
  shift 2
  archive=$(archive_of "$ref")
  local changes=(--change "ENV PATH=$PATH_ENV" --change "LABEL io.kube-atelier.built-by=$BUILT_BY")
  while (($#)); do changes+=(--change "$1"); shift; done
  tar --numeric-owner --xattrs -C "$root" -c . | podman import -q "${changes[@]}" - "$ref" >/dev/null
  rm -f "$archive" "$archive.sha256"
  podman save -q --format docker-archive -o "$archive.partial" "$ref"
  mv "$archive.partial" "$archive"
  (cd "$OUT" && sha256sum "$(basename "$archive")" >"$(basename "$archive").sha256")
}

# build_images: builds each of IMAGES whose archive is missing (all with
# --rebuild) and checks its version; with --check also loads each cached one
# to check it. What it checks is removed from podman's storage again: the
# archive is the product. Ends with the table: per image, cold or cached,
# seconds, size, version.
build_images() {
  local refs=() results=() seconds=() versions=() ref archive t0 result version
  for ref in "${IMAGES[@]}"; do
    archive=$(archive_of "$ref")
    t0=$SECONDS
    version=
    if ! $rebuild && cached "$archive"; then
      result=cached
      if $check_cached; then
        podman load -q -i "$archive" >/dev/null
        version=$(version_check "$ref")
        podman rmi -f "$ref" >/dev/null
      fi
    else
      log "building $ref"
      build_image "$ref"
      # An image that fails its check is not left as a cached archive.
      if ! version=$(version_check "$ref"); then
        rm -f "$(archive_of "$ref")" "$(archive_of "$ref").sha256"
        die "$ref failed its check: its archive is removed"
      fi
      podman rmi -f "$ref" >/dev/null
      result=cold
    fi
    refs+=("$ref")
    results+=("$result")
    seconds+=($((SECONDS - t0)))
    versions+=("$version")
  done

  local width=0 i
  for ref in "${refs[@]}"; do ((${#ref} < width)) || width=$((${#ref} + 1)); done
  printf '\n%-*s %-7s %8s %6s  %s\n' "$width" image build seconds MB "version (archives in $OUT)"
  for i in "${!refs[@]}"; do
    printf '%-*s %-7s %8s %6s  %s\n' "$width" "${refs[$i]}" "${results[$i]}" "${seconds[$i]}" \
      "$(stat -c %s "$(archive_of "${refs[$i]}")" | awk '{ printf "%.1f", $1 / 1048576 }')" "${versions[$i]}"
  done
}

# debootstrap_tar NAME PACKAGES: a Debian $DEBIAN_SUITE root file system
# (variant minbase, plus PACKAGES, comma-separated) from $DEBIAN_MIRROR
# (default: debootstrap's own mirror), debootstrapped once and cached as
# $ATELIER_CACHE/images/NAME-<hash>.tar; prints that path. Needs root,
# debootstrap and $WORK (begin_build).
debootstrap_tar() {
  local name=$1 packages=$2 mirror=${DEBIAN_MIRROR:-} hash tar
  hash=$(echo "${mirror:-debootstrap-default} $DEBIAN_SUITE $packages v1" | sha256sum | cut -c1-12)
  tar=$ATELIER_CACHE/images/$name-$hash.tar
  if [ ! -f "$tar" ]; then
    local root=$WORK/$name
    log "debootstrap $DEBIAN_SUITE with $packages (once, cached in $tar)"
    if ! nice -n 19 debootstrap --variant=minbase --include="$packages" "$DEBIAN_SUITE" "$root" ${mirror:+"$mirror"} \
        >"$WORK/debootstrap.log" 2>&1; then
      tail -n 40 "$WORK/debootstrap.log" >&2
      die "debootstrap failed"
    fi
    chroot "$root" /bin/sh -c 'apt-get clean' >/dev/null
    rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* \
      "$root"/usr/share/info/* "$root"/var/cache/debconf/*-old "$root"/var/log/*.log
    : >"$root/etc/machine-id"
    mkdir -p "$(dirname "$tar")"
    tar --numeric-owner -C "$root" -cf "$tar.partial" . && mv "$tar.partial" "$tar"
    rm -rf "$root"
  fi
  echo "$tar"
}

# debian_packages_rootfs DIR TAR PACKAGE...: copies into DIR, from the root
# file system in TAR (debootstrap_tar), the files of each PACKAGE and of every
# package it depends on (Pre-Depends and Depends, recursively: the first
# installed alternative, or the installed package that provides a virtual
# one), without documentation, man pages or translations; and the loader's
# cache. Not an installation: no maintainer script runs, so DIR has no dpkg
# database and needs static_rootfs for its users. Prints "PACKAGE=version ..."
# of the PACKAGEs asked for.
debian_packages_rootfs() {
  local root=$1 tar=$2 base line pkg deps provides name alt
  shift 2
  local wanted=("$@")
  base=$(mktemp -d "$WORK/debian.XXXXXX")
  tar -C "$base" -xf "$tar"
  local -A depends=() provider=() version=() seen=()
  # shellcheck disable=SC2016 # dpkg-query's fields, not the shell's
  local fields='${Package}\t${Version}\t${Pre-Depends}, ${Depends}\t${Provides}\n'
  while IFS=$'\t' read -r pkg line deps provides; do
    depends[$pkg]=$deps
    version[$pkg]=$line
    local p
    IFS=',' read -ra p <<<"$provides"
    for name in "${p[@]}"; do
      name=${name%%(*}
      name=${name//[[:space:]]/}
      [ -z "$name" ] || provider[$name]=$pkg
    done
  done < <(chroot "$base" dpkg-query -W -f "$fields")
  local queue=("$@") closure=()
  while ((${#queue[@]})); do
    pkg=${queue[0]}
    queue=("${queue[@]:1}")
    [ -z "${seen[$pkg]:-}" ] || continue
    [ -n "${depends[$pkg]+set}" ] || die "$pkg is not in $tar"
    seen[$pkg]=1
    closure+=("$pkg")
    local alts names
    IFS=',' read -ra alts <<<"${depends[$pkg]}"
    for alt in "${alts[@]}"; do
      IFS='|' read -ra names <<<"$alt"
      for name in "${names[@]}"; do
        name=${name%%(*}
        name=${name//[[:space:]]/}
        name=${name%:any}
        [ -n "$name" ] || continue
        if [ -n "${depends[$name]+set}" ]; then queue+=("$name"); break; fi
        if [ -n "${provider[$name]+set}" ]; then queue+=("${provider[$name]}"); break; fi
      done
    done
  done
  # Files and links only (tar makes their folders); the merged-/usr links first.
  local link
  for link in bin sbin lib lib32 lib64 libx32; do
    if [ -L "$base/$link" ]; then
      cp -a "$base/$link" "$root/"
      mkdir -p "$root/$(readlink "$base/$link")"
    fi
  done
  chroot "$base" dpkg-query -L "${closure[@]}" \
    | grep -vE '^/usr/share/(doc|man|info|locale|lintian)/' | sort -u \
    | while read -r line; do
        if [ -L "$base$line" ] || { [ -e "$base$line" ] && [ ! -d "$base$line" ]; }; then
          printf '.%s\n' "$line"
        fi
      done >"$base.files"
  [ ! -f "$base/etc/ld.so.cache" ] || echo ./etc/ld.so.cache >>"$base.files"
  tar --numeric-owner -C "$base" --no-recursion -T "$base.files" -cf - \
    | tar --numeric-owner -C "$root" --keep-directory-symlink -xf - \
    || die "copying the files of ${wanted[*]} from $tar failed"
  rm -rf "$base" "$base.files"
  for pkg in "${wanted[@]}"; do printf '%s=%s ' "$pkg" "${version[$pkg]}"; done
}
