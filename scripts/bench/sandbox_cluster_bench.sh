#!/usr/bin/env bash
# Benchmark of the sandbox cluster (scripts/sandbox.sh), every build cached
# (binaries, images, venv, node image): a bring-up from no nodes; a second run
# on the running cluster (what a re-run costs); the memory the running sandbox
# holds (each node container's cgroup rss and shmem, the host's `free` before
# the nodes and after); the re-run after a worker's machine was lost; the
# rebuild after the control-plane node was lost (scripts/rebuild.sh; goal: 10
# minutes). The recovery runs are checked too (3 Ready nodes; every lab
# verified after the rebuild). The bring-up and the rebuild are the whole main
# job: cluster, access, every lab the sandbox cohort enables and their verify.
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

# Recovery (docs/recovery.md), each checked, not only timed: 3 Ready nodes after
# it, and after the rebuild every lab verified again.
ready_nodes() {
  podman exec "${NODES[0]}" kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes --no-headers \
    | awk '$2 == "Ready"' | wc -l
}
check_ready() {
  local i
  for i in $(seq 60); do [ "$(ready_nodes)" = "${#NODES[@]}" ] && return 0; sleep 5; done
  die "$1: not ${#NODES[@]} Ready nodes"
}
# A worker's machine lost with its disk: the re-run makes it again and joins it.
scripts/sandbox-nodes.sh remove "${NODES[2]}" >/dev/null
lost_worker=$(timed scripts/run.sh inventories/sandbox --skip-tags verify)
check_ready "after the lost worker's re-run"
printf '%-44s %9ss\n' "re-run after a worker was lost" "$lost_worker"
# Last, as it replaces every node: the control-plane node lost, then the rebuild.
scripts/sandbox-nodes.sh remove "${NODES[0]}" >/dev/null
rebuild=$(timed scripts/rebuild.sh sandbox-c01 -e rebuild_confirmed=true)
check_ready "after the rebuild"
verified=inventories/sandbox/artifacts/verify/sandbox-c01.json
python3 -c 'import json, sys; labs = json.load(open(sys.argv[1]))["labs"]
failed = [name for name, lab in labs.items() if not lab["passed"]]
sys.exit(f"labs not verified after the rebuild: {failed}" if failed else 0)' "$verified"
printf '%-44s %9ss\n' "rebuild after the control plane was lost" "$rebuild"
