#!/usr/bin/env bash
# Builds pinned Kubernetes binaries from Go modules: no GitHub, dl.k8s.io or
# container registry, only `go` and (the first time) the Go module proxy.
# tools/k8s-build/ is a small Go module that requires k8s.io/kubernetes and
# replaces its staging modules (k8s.io/api, client-go, ...) with their
# published v0.<minor>.<patch> versions; its go.sum is committed.
#
#   scripts/build-k8s-artifacts.sh [component...]  build the missing ones (default: kubeadm kubectl kubelet;
#                                                  also kube-apiserver kube-controller-manager
#                                                  kube-scheduler kube-proxy etcd, or `all`)
#   scripts/build-k8s-artifacts.sh --rebuild [component...]  build even when cached
#   scripts/build-k8s-artifacts.sh --bin-dir       print the directory of the binaries and exit
#   scripts/build-k8s-artifacts.sh --update-go-mod rewrite tools/k8s-build/go.mod, go.sum and
#                                                  etcd/go.mod, etcd/go.sum from
#                                                  tools/k8s-build/versions.env (after a version bump)
#
# etcd (the version kubeadm of that release deploys) comes from
# tools/k8s-build/etcd/, a second small module: go.etcd.io/etcd/server/v3's
# go.mod replaces its sibling modules (api, client, pkg) with ../ paths, so
# `go install go.etcd.io/etcd/server/v3@v` is refused too. It is a module of
# its own so that its dependencies do not shift the versions that
# k8s.io/kubernetes's binaries are built with.
#
# The versions are pinned in tools/k8s-build/versions.env only. Binaries go to
# $ATELIER_CACHE/k8s/v<version>/bin/<name> with <name>.sha256 beside them, and a
# binary that is there (and matches its sha256 file) is not built again. After
# one run the Go module cache holds every module of the seven components, so
# later builds work offline (GOPROXY=off). Ends with a table: per component,
# cold (built now) or cached, the seconds it took, its size and version.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"

BUILD_MODULE=$ATELIER_ROOT/tools/k8s-build
# shellcheck source=../tools/k8s-build/versions.env
. "$BUILD_MODULE/versions.env"
[[ ${KUBERNETES_VERSION:-} =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] \
  || die "tools/k8s-build/versions.env: KUBERNETES_VERSION must be X.Y.Z, got '${KUBERNETES_VERSION:-}'"
K8S_MAJOR=${BASH_REMATCH[1]}
K8S_MINOR=${BASH_REMATCH[2]}
K8S_TAG=v$KUBERNETES_VERSION
# The staging modules are tagged v0.<minor>.<patch> with each release.
STAGING_VERSION=v0.$K8S_MINOR.${BASH_REMATCH[3]}
[[ ${ETCD_VERSION:-} =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] \
  || die "tools/k8s-build/versions.env: ETCD_VERSION must be X.Y.Z, got '${ETCD_VERSION:-}'"
ETCD_TAG=v$ETCD_VERSION
ETCD_MODULE=$BUILD_MODULE/etcd

ALL_COMPONENTS=(kubeadm kubectl kubelet kube-apiserver kube-controller-manager kube-scheduler kube-proxy etcd)
DEFAULT_COMPONENTS=(kubeadm kubectl kubelet)
OUT=$ATELIER_CACHE/k8s/$K8S_TAG
BIN=$OUT/bin
# Go's own installer puts it in /usr/local/go, which is not always on PATH.
if [ -z "${GO:-}" ]; then
  GO=go
  command -v go >/dev/null || [ ! -x /usr/local/go/bin/go ] || GO=/usr/local/go/bin/go
fi

# The same Go settings whatever the caller's environment: the committed go.sum
# (-mod=readonly), no go.work above the checkout, no VCS stamp of this repo,
# static binaries as upstream builds kubeadm/kubectl/the control plane.
export GOWORK=off CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false"
# Upstream's build tags for release binaries (hack/lib/golang.sh); etcd's
# release build (scripts/build_lib.sh) uses none.
GO_TAGS=selinux,notest,grpcnotrace

rebuild=false
update_go_mod=false
components=()
while (($#)); do
  case $1 in
    --rebuild) rebuild=true ;;
    --bin-dir) echo "$BIN"; exit 0 ;;
    --update-go-mod) update_go_mod=true ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 0 ;;
    all) components+=("${ALL_COMPONENTS[@]}") ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *)
      [[ " ${ALL_COMPONENTS[*]} " == *" $1 "* ]] || die "unknown component '$1'; known: ${ALL_COMPONENTS[*]}"
      components+=("$1") ;;
  esac
  shift
done
((${#components[@]})) || components=("${DEFAULT_COMPONENTS[@]}")

version_ge() { [ "$(printf '%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

# Go must be at least the go directives of go.mod (k8s.io/kubernetes's own)
# and etcd/go.mod (go.etcd.io/etcd/server/v3's).
# Asked outside the module, so a GOTOOLCHAIN switch does not happen yet.
check_go() {
  command -v "$GO" >/dev/null || die "no '$GO' on PATH: install Go (https://go.dev/dl/) or set GO=/path/to/go"
  local need have toolchain
  need=$({ sed -n 's/^go \([0-9][0-9.]*\)$/\1/p' "$BUILD_MODULE/go.mod" "$ETCD_MODULE/go.mod" 2>/dev/null || true; } | sort -V | tail -n1)
  have=$(cd / && "$GO" env GOVERSION)
  have=${have#go}
  have=${have%% *}
  version_ge "$have" "$need" && return 0
  if ! version_ge "$have" 1.21; then
    die "go $have is older than go $need, which tools/k8s-build/go.mod (k8s.io/kubernetes $K8S_TAG) needs, and too old to fetch a newer toolchain itself: install Go >= $need (Debian bookworm's golang is 1.19: use https://go.dev/dl/)"
  fi
  toolchain=$(cd / && "$GO" env GOTOOLCHAIN)
  if [[ $toolchain == local* ]]; then
    die "go $have is older than go $need, which tools/k8s-build/go.mod (k8s.io/kubernetes $K8S_TAG) needs, and GOTOOLCHAIN=$toolchain forbids switching: install Go >= $need, or run with GOTOOLCHAIN=auto (go then downloads go$need from the Go module proxy, about 70 MB, once)"
  fi
  log "go $have is older than go $need: GOTOOLCHAIN=$toolchain lets go switch to go$need (downloaded from the Go module proxy once)"
}

# go.mod is derived from versions.env (--update-go-mod): refuse to build
# something else than the pinned version.
check_go_mod() {
  local mod=$BUILD_MODULE/go.mod stale
  grep -Eq "^[[:space:]]*(require[[:space:]]+)?k8s\.io/kubernetes[[:space:]]+$K8S_TAG([[:space:]]|$)" "$mod" \
    || die "tools/k8s-build/go.mod does not require k8s.io/kubernetes $K8S_TAG (versions.env): run $0 --update-go-mod"
  stale=$(awk -v want="$STAGING_VERSION" '$0 ~ /=>/ && $NF != want { print }' "$mod")
  [ -z "$stale" ] || die "tools/k8s-build/go.mod has replace lines not at $STAGING_VERSION: run $0 --update-go-mod"$'\n'"$stale"
  grep -q '=>' "$mod" || die "tools/k8s-build/go.mod has no replace lines for the staging modules: run $0 --update-go-mod"
  mod=$ETCD_MODULE/go.mod
  [ -f "$mod" ] || die "tools/k8s-build/etcd/go.mod is missing: run $0 --update-go-mod"
  grep -Eq "^[[:space:]]*(require[[:space:]]+)?go\.etcd\.io/etcd/server/v3[[:space:]]+$ETCD_TAG([[:space:]]|$)" "$mod" \
    || die "tools/k8s-build/etcd/go.mod does not require go.etcd.io/etcd/server/v3 $ETCD_TAG (versions.env): run $0 --update-go-mod"
  stale=$(awk -v want="$ETCD_TAG" '$0 ~ /=>/ && $NF != want { print }' "$mod")
  [ -z "$stale" ] || die "tools/k8s-build/etcd/go.mod has replace lines not at $ETCD_TAG: run $0 --update-go-mod"$'\n'"$stale"
}

# The go.mod of an upstream module version (downloaded into the module cache),
# whose replace lines say which sibling modules it builds with.
upstream_go_mod() {
  local module_at_version=$1 path
  path=$("$GO" mod download -json "$module_at_version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [ -f "$path" ] || die "could not download $module_at_version's go.mod from the Go module proxy"
  echo "$path"
}

# Prints a replace block: each module replaced by the given version.
replace_block() {
  local version=$1 module
  shift
  echo "replace ("
  for module in "$@"; do
    printf '\t%s => %s %s\n' "$module" "$module" "$version"
  done
  echo ")"
}

# Writes go.mod in DIR for the module OWN that requires UPSTREAM at TAG, with
# a replace for every sibling module UPSTREAM's own go.mod points at a local
# path (SIBLING, a sed pattern whose \1 is the module) pinned to VERSION, and
# upstream's go and godebug lines (the main module's go line sets the GODEBUG
# defaults). Then `go mod tidy` (tools.go keeps the commands' dependencies)
# writes go.sum.
write_pinned_go_mod() {
  local dir=$1 own=$2 upstream=$3 tag=$4 sibling=$5 version=$6 why=$7
  local upstream_mod modules
  cd "$dir"
  upstream_mod=$(upstream_go_mod "$upstream@$tag")
  mapfile -t modules < <(sed -n "s#$sibling#\1#p" "$upstream_mod")
  ((${#modules[@]})) || die "no local replace lines in $upstream_mod: has $upstream's layout changed?"
  {
    echo "// Generated by scripts/build-k8s-artifacts.sh --update-go-mod from tools/k8s-build/versions.env: do not edit."
    echo "module $own"
    echo
    grep -E '^go [0-9.]+$' "$upstream_mod"
    grep -E '^godebug ' "$upstream_mod" || true
    echo
    echo "require $upstream $tag"
    echo
    echo "$why"
    replace_block "$version" "${modules[@]}"
  } >go.mod
  rm -f go.sum
  log "go mod tidy ($upstream $tag, ${#modules[@]} sibling modules at $version)"
  "$GO" mod tidy
}

# k8s.io/kubernetes points its staging modules at ./staging/src/ (which is why
# `go install k8s.io/kubernetes/cmd/x@v` is refused); they are published as
# v0.<minor>.<patch>.
do_update_go_mod() {
  write_pinned_go_mod "$BUILD_MODULE" kube-atelier.local/k8s-build k8s.io/kubernetes "$K8S_TAG" \
    '^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/src/.*' "$STAGING_VERSION" \
    $'// k8s.io/kubernetes replaces these with ./staging/src/k8s.io/<name>;\n// their releases are published as v0.<minor>.<patch>.'
  log "updated tools/k8s-build/go.mod, go.sum, etcd/go.mod and etcd/go.sum: review and commit them with versions.env"
}

# etcd builds the server with its siblings (api, client/pkg, client/v3, pkg)
# from the same checkout (../ replaces); their releases carry the same tag, so
# each is replaced by that tag, whatever another dependency requires. Run
# before the parent module's tidy: until etcd/go.mod exists, etcd/tools.go
# would count as part of the parent module.
update_etcd_go_mod() {
  write_pinned_go_mod "$ETCD_MODULE" kube-atelier.local/k8s-build/etcd go.etcd.io/etcd/server/v3 "$ETCD_TAG" \
    '^[[:space:]]*\(go\.etcd\.io/etcd/[A-Za-z0-9./_-]*\) => \.\./.*' "$ETCD_TAG" \
    '// go.etcd.io/etcd/server/v3 replaces these with ../<dir> of its own checkout.'
}

# Fetches a build module's dependencies once; later builds need no network.
download_modules() {
  local dir=$1 label=$2
  log "Go modules for $label (downloaded once, then offline)"
  (cd "$dir" && "$GO" mod download) \
    || die "could not get the Go modules: the first build needs the Go module proxy ($("$GO" env GOPROXY))"
}

# Upstream's version ldflags (hack/lib/version.sh), on both version packages.
# buildDate is the release time of the module (reproducible), or
# SOURCE_DATE_EPOCH as upstream. The module zip carries no git commit, so
# gitCommit is empty rather than the "$Format:%H$" placeholder.
version_ldflags() {
  local build_date key value pkg flags=""
  if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
    build_date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
  else
    build_date=$(cd "$BUILD_MODULE" && "$GO" list -m -f '{{with .Time}}{{.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes)
  fi
  for key in "gitVersion=$K8S_TAG" "gitMajor=$K8S_MAJOR" "gitMinor=$K8S_MINOR" \
    "gitCommit=" "gitTreeState=clean" "buildDate=${build_date:-1970-01-01T00:00:00Z}"; do
    value=${key#*=}
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      flags+=" -X $pkg.${key%%=*}=$value"
    done
  done
  echo "-s -w$flags"
}

# etcd's version is a constant of go.etcd.io/etcd/api/v3/version; only the
# commit is stamped, and the module zip carries none (empty, as gitCommit).
etcd_ldflags() { echo "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA="; }

reported_version() {
  case $1 in
    kubeadm) "$2" version -o short ;;
    kubectl) "$2" version --client ;;
    *) "$2" --version ;;
  esac
}

# What a binary must report: the Kubernetes tag, or etcd's "etcd Version: X.Y.Z".
expected_version() {
  case $1 in
    etcd) echo "etcd Version: $ETCD_VERSION" ;;
    *) echo "$K8S_TAG" ;;
  esac
}

tag_of() { if [ "$1" = etcd ]; then echo "$ETCD_TAG"; else echo "$K8S_TAG"; fi; }

cached() {
  [ -x "$BIN/$1" ] && [ -f "$BIN/$1.sha256" ] && (cd "$BIN" && sha256sum --check --status "$1.sha256") || return 1
  # The folder is keyed by the Kubernetes version only: an etcd pin bump
  # alone must still rebuild etcd.
  [ "$1" != etcd ] || [[ $(reported_version etcd "$BIN/etcd" 2>&1) == *"$(expected_version etcd)"* ]]
}

build_one() {
  local name=$1 ldflags=$2 tmp=$BIN/.$1.partial version want module=$BUILD_MODULE pkg=k8s.io/kubernetes/cmd/$1 tags=$GO_TAGS
  if [ "$name" = etcd ]; then
    module=$ETCD_MODULE pkg=go.etcd.io/etcd/server/v3 tags=
  fi
  (cd "$module" && "$GO" build -trimpath -tags "$tags" -ldflags "$ldflags" \
    -o "$tmp" "$pkg") || die "go build $pkg failed"
  want=$(expected_version "$name")
  version=$(reported_version "$name" "$tmp" 2>&1) || die "$name built but does not run: $version"
  [[ $version == *"$want"* ]] || die "$name built but reports '$version', not '$want': check the -X ldflags"
  mv -f "$tmp" "$BIN/$name"
  (cd "$BIN" && sha256sum "$name" >"$name.sha256.partial" && mv -f "$name.sha256.partial" "$name.sha256")
}

check_go
if $update_go_mod; then
  export GOFLAGS="-mod=mod -buildvcs=false"
  update_etcd_go_mod
  do_update_go_mod
  exit 0
fi
check_go_mod

mkdir -p "$BIN"
# Two runs at once (a test and a user) would build the same binary twice.
if command -v flock >/dev/null; then
  exec 9>"$OUT/.lock"
  flock 9
fi
trap 'rm -f "$BIN"/.*.partial "$BIN"/*.sha256.partial' EXIT

names=()
results=()
seconds=()
ldflags=
etcd_flags=
for name in "${components[@]}"; do
  [[ " ${names[*]} " == *" $name "* ]] && continue
  t0=$SECONDS
  if ! $rebuild && cached "$name"; then
    result=cached
  elif [ "$name" = etcd ]; then
    if [ -z "$etcd_flags" ]; then
      download_modules "$ETCD_MODULE" "go.etcd.io/etcd/server/v3 $ETCD_TAG"
      etcd_flags=$(etcd_ldflags)
    fi
    log "building etcd $ETCD_TAG (cold: a minute or two)"
    build_one etcd "$etcd_flags"
    result=cold
  else
    if [ -z "$ldflags" ]; then
      download_modules "$BUILD_MODULE" "k8s.io/kubernetes $K8S_TAG"
      ldflags=$(version_ldflags)
    fi
    log "building $name $K8S_TAG (cold: several minutes)"
    build_one "$name" "$ldflags"
    result=cold
  fi
  names+=("$name")
  results+=("$result")
  seconds+=($((SECONDS - t0)))
done

printf '\n%-24s %-7s %8s %8s  %-8s %s\n' component build seconds MB version "in $BIN"
for i in "${!names[@]}"; do
  printf '%-24s %-7s %8s %8s  %s\n' "${names[$i]}" "${results[$i]}" "${seconds[$i]}" \
    "$(($(stat -c %s "$BIN/${names[$i]}") / 1048576))" "$(tag_of "${names[$i]}")"
done
