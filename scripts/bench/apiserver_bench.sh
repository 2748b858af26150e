#!/usr/bin/env bash
# Benchmark of the sandbox control plane (scripts/sandbox-apiserver.sh):
# the build of its binaries, a cold `up` (new certificates, empty etcd), warm
# `up`s (data kept), `up` when already up, and the memory of the four processes.
#
#   scripts/bench/apiserver_bench.sh [--cold-build] [--warm-runs N]
#
# --cold-build rebuilds the control plane's binaries with an empty Go build
# cache (the Go modules stay downloaded): tens of minutes on 2 cores. Without
# it the build column shows what the cache holds (cached, about a second).
# The ups run against a state folder of their own, so the developer's sandbox
# (certificates, etcd data) is left as it was; as the ports are fixed, a
# running one is stopped for the benchmark and started again afterwards.
set -euo pipefail
# shellcheck source=../lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

SANDBOX=$ATELIER_ROOT/scripts/sandbox-apiserver.sh
BUILD=$ATELIER_ROOT/scripts/build-k8s-artifacts.sh
BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kubeadm)
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler)

cold_build=false
warm_runs=3
while (($#)); do
  case $1 in
    --cold-build) cold_build=true ;;
    --warm-runs) warm_runs=$2; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done

now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; }
seconds_since() {
  local us=$(($(now_us) - $1))
  printf '%d.%02d' $((us / 1000000)) $((us / 10000 % 100))
}

bench_dir=$(mktemp -d "${TMPDIR:-/tmp}/apiserver-bench.XXXXXX")
was_up=false
cleanup() {
  SANDBOX_APISERVER_DIR=$bench_dir/state "$SANDBOX" down >/dev/null 2>&1 || true
  rm -rf "$bench_dir"
  # Not in the benchmark's folder, which the ups below export.
  unset SANDBOX_APISERVER_DIR
  if $was_up; then
    log "starting the developer's sandbox apiserver again"
    "$SANDBOX" up >/dev/null 2>&1 || log "could not restart it: run $SANDBOX up"
  fi
}
trap cleanup EXIT

log "build: ${BINARIES[*]}$($cold_build && echo ' (cold: empty Go build cache)')"
if $cold_build; then
  GOCACHE=$bench_dir/gocache "$BUILD" --rebuild "${BINARIES[@]}" >"$bench_dir/build.txt"
else
  "$BUILD" "${BINARIES[@]}" >"$bench_dir/build.txt"
fi

if "$SANDBOX" status >/dev/null 2>&1; then
  was_up=true
  log "stopping the running sandbox apiserver for the benchmark (its data is kept)"
  "$SANDBOX" down >/dev/null 2>&1
fi

export SANDBOX_APISERVER_DIR=$bench_dir/state
timed_up() {
  local t0
  t0=$(now_us)
  "$SANDBOX" up >>"$bench_dir/up.log" 2>&1 || die "up failed: $(tail -n 20 "$bench_dir/up.log")"
  seconds_since "$t0"
}

log "cold up (certificates, empty etcd)"
cold=$(timed_up)
warm=()
for _ in $(seq 1 "$warm_runs"); do
  "$SANDBOX" down >/dev/null 2>&1
  log "warm up"
  warm+=("$(timed_up)")
done
noop=$(timed_up)

# Right after readiness the controllers are still filling their caches: let
# them settle so the figure is what a test run lives with.
sleep 10
rss=()
total=0
for name in "${COMPONENTS[@]}"; do
  pid=$(cat "$SANDBOX_APISERVER_DIR/run/$name.pid")
  kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
  rss+=("$((kb / 1024))")
  total=$((total + kb))
done

printf '\n%-28s %-7s %8s %6s   %-34s %8s   %-24s %6s\n' \
  binary build seconds MB "control plane up" seconds "process (idle)" "RSS MB"
mapfile -t build_rows < <(awk 'NR > 2 && NF >= 4 { print $1, $2, $3, $4 }' "$bench_dir/build.txt")
up_rows=("cold (new certs, empty etcd)|$cold")
for i in "${!warm[@]}"; do up_rows+=("warm #$((i + 1)) (data kept)|${warm[$i]}"); done
up_rows+=("already up (no-op)|$noop")
mem_rows=()
for i in "${!COMPONENTS[@]}"; do mem_rows+=("${COMPONENTS[$i]}|${rss[$i]}"); done
mem_rows+=("total|$((total / 1024))")
rows=${#build_rows[@]}
((${#up_rows[@]} > rows)) && rows=${#up_rows[@]}
((${#mem_rows[@]} > rows)) && rows=${#mem_rows[@]}
for ((i = 0; i < rows; i++)); do
  read -r b_name b_kind b_sec b_mb <<<"${build_rows[$i]:-}"
  up=${up_rows[$i]:-|}
  mem=${mem_rows[$i]:-|}
  printf '%-28s %-7s %8s %6s   %-34s %8s   %-24s %6s\n' "${b_name:-}" "${b_kind:-}" "${b_sec:-}" "${b_mb:-}" \
    "${up%%|*}" "${up#*|}" "${mem%%|*}" "${mem#*|}"
done
printf '\n%s cores, load average %s\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
