#!/usr/bin/env bash
# Benchmark of the sandbox cluster (scripts/sandbox.sh): a bring-up from no
# nodes with every build cached (binaries, images, venv, node image), a second
# run on the running cluster (what a re-run costs), the rebuild of the cluster
# after its control-plane node was lost (scripts/rebuild.sh; goal: 10
# minutes), and the memory the running sandbox holds: each node container's
# cgroup (rss, shmem) and the host's `free` before the nodes and after. The
# bring-up and the rebuild are the whole main job: cluster, access, every lab
# the sandbox cohort enables and their verify (hey until scale-out, ...).
#
#   scripts/bench/sandbox_cluster_bench.sh
#
# It removes the sandbox nodes first (their volumes too) and leaves the
# cluster running at the end (scripts/sandbox.sh down stops it).
set -euo pipefail
# shellcheck source=../lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
cd "$ATELIER_ROOT"

NODES=(sandbox-c01-n1 sandbox-c01-n2 sandbox-c01-n3)

used_mib() { free -m | awk '/^Mem:/ { print $3 }'; }

# timed COMMAND...: its seconds on stdout; its output kept only when it fails.
timed() {
  local started log
  log=$(mktemp)
  started=$(date +%s)
  "$@" >"$log" 2>&1 || { tail -n 40 "$log" >&2; die "$* failed (log: $log)"; }
  echo $(($(date +%s) - started))
  rm -f "$log"
}

# The caches first, so the bring-up measures the cluster and not the builds.
scripts/build-k8s-artifacts.sh >/dev/null
scripts/build-k8s-images.sh >/dev/null
scripts/build-lab-images.sh >/dev/null
scripts/sandbox-nodes.sh down >/dev/null
sleep 2
before=$(used_mib)
bring_up=$(timed scripts/run.sh)
sleep 30  # let the control plane settle before reading memory
after=$(used_mib)
rerun=$(timed scripts/run.sh)

printf '\n%-44s %10s\n' "sandbox cluster (3 nodes, caches warm)" "value"
printf '%-44s %9ss\n' "bring-up from no nodes (scripts/run.sh)" "$bring_up"
printf '%-44s %9ss\n' "re-run on the running cluster" "$rerun"
printf '%-44s %8sMiB\n' "host memory used, before -> after" "$before -> $after"
for node in "${NODES[@]}"; do
  stats=$(podman exec "$node" cat /sys/fs/cgroup/memory/memory.stat 2>/dev/null \
    || podman exec "$node" cat /sys/fs/cgroup/memory.stat)
  rss=$(awk '$1 == "total_rss" || $1 == "anon" { print int($2 / 1048576); exit }' <<<"$stats")
  shmem=$(awk '$1 == "total_shmem" || $1 == "shmem" { print int($2 / 1048576); exit }' <<<"$stats")
  printf '%-44s %8sMiB\n' "$node rss (shmem)" "$rss ($shmem)"
done
# Last, as it replaces every node: the control-plane node lost, then the rebuild.
scripts/sandbox-nodes.sh remove "${NODES[0]}" >/dev/null
rebuild=$(timed scripts/rebuild.sh sandbox-c01 -e rebuild_confirmed=true)
printf '%-44s %9ss\n' "rebuild after the control plane was lost" "$rebuild"
