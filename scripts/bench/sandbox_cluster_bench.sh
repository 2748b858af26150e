#!/usr/bin/env bash
# Benchmark of the sandbox cluster (scripts/sandbox.sh), every build cached
# (binaries, images, venv, node image), figures side by side:
# - the bring-up from no nodes on the plain image (a copy of the sandbox
#   cohort with bake: false) and on the baked one (docs/node-image.md), verify's
#   load not counted (--skip-tags verify), and the bake itself;
# - verify alone (--tags verify), and a no-op re-run (changed=0, checked; it
#   skips the converged cluster), then the same converging every stage again
#   (-e atelier_reconverge=true);
# - the memory the running sandbox holds (each node container's cgroup rss and
#   shmem, the host's `free` before the nodes and after);
# - the re-run after a worker's machine was lost, and the rebuild after the
#   control-plane node was lost (scripts/rebuild.sh; goal: 10 minutes), each
#   checked (3 Ready nodes; every lab verified after the rebuild).
# Targets (issue 16): baked bring-up within 5 minutes and at most 40 % of the
# plain one; the no-op re-run at most 20 % of the baked bring-up.
#
#   scripts/bench/sandbox_cluster_bench.sh
#
# It removes the sandbox nodes first (their volumes too), bakes anew, and
# leaves the cluster running at the end (scripts/sandbox.sh down stops it).
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
scripts/setup.sh >/dev/null
activate_venv
scripts/sandbox-cloud.sh up >/dev/null
eval "$(scripts/sandbox-cloud.sh env)"

# from_nothing INVENTORY: no servers, no machines.
from_nothing() {
  ansible-playbook -i "$1" playbooks/teardown.yml -e teardown_confirmed=true >/dev/null
  scripts/sandbox-nodes.sh down >/dev/null
  sleep 2
}
# The plain image: the same cohort, bake: false, in a folder of its own.
plain=$(mktemp -d)
trap 'rm -rf "$plain"' EXIT
cp inventories/sandbox/cohort.yml "$plain/"
sed -i 's/^bake: true$/bake: false/' "$plain/cohort.yml"
grep -q '^bake: false$' "$plain/cohort.yml" || die "no 'bake: true' line in inventories/sandbox/cohort.yml"

from_nothing "$plain"
plain_up=$(timed scripts/run.sh "$plain" --skip-tags verify)
from_nothing "$plain"

# The baked image: its bake (the earlier one removed, so it bakes), then a
# bring-up that finds it.
for old in $(podman images --format '{{.Repository}}:{{.Tag}}' --filter label=io.kube-atelier.baked); do
  podman rmi -f "$old" >/dev/null
done
bake=$(timed scripts/run.sh inventories/sandbox --tags image)
from_nothing inventories/sandbox
before=$(used_mib)
baked_up=$(timed scripts/run.sh inventories/sandbox --skip-tags verify)
verify=$(timed scripts/run.sh inventories/sandbox --tags verify)
sleep 30  # let the control plane settle before reading memory
after=$(used_mib)
rerun_log=$(mktemp)
started=$(date +%s)
scripts/run.sh inventories/sandbox --skip-tags verify >"$rerun_log" 2>&1 || die "re-run failed (log: $rerun_log)"
rerun=$(($(date +%s) - started))
grep -Eq 'changed=[1-9]' "$rerun_log" && die "the re-run changed something (log: $rerun_log)"
grep -q 'converged before with the same inputs' "$rerun_log" || die "the re-run did not skip the converged cluster (log: $rerun_log)"
# The same re-run made to converge every stage again (what a re-run cost
# before playbooks/converged.yml, and what -e atelier_reconverge=true costs).
started=$(date +%s)
scripts/run.sh inventories/sandbox --skip-tags verify -e atelier_reconverge=true >"$rerun_log" 2>&1 ||
  die "the re-run converging every stage failed (log: $rerun_log)"
reconverge=$(($(date +%s) - started))
grep -Eq 'changed=[1-9]' "$rerun_log" && die "the re-run converging every stage changed something (log: $rerun_log)"

percent() { echo "$((100 * $1 / $2)) %"; }
printf '\n%-52s %10s %10s\n' "sandbox cluster (3 nodes, 4 labs, caches warm)" "plain" "baked"
printf '%-52s %9ss %9ss\n' "bring-up from no nodes (verify's load not counted)" "$plain_up" "$baked_up"
printf '%-52s %10s %10s\n' "baked / plain bring-up (target: at most 40 %)" "" "$(percent "$baked_up" "$plain_up")"
printf '%-52s %10s %9ss\n' "the bake (builder, install, preload, commit, upload)" "" "$bake"
printf '%-52s %10s %9ss\n' "verify alone (--tags verify, hey's load included)" "" "$verify"
printf '%-52s %10s %9ss\n' "no-op re-run, changed=0 (verify not counted)" "" "$rerun"
printf '%-52s %10s %10s\n' "re-run / bring-up (target: at most 20 %)" "" "$(percent "$rerun" "$baked_up")"
printf '%-52s %10s %9ss\n' "no-op re-run converging every stage (reconverge)" "" "$reconverge"
printf '%-52s %8sMiB\n' "host memory used, before -> after" "$before -> $after"
for node in "${NODES[@]}"; do
  stats=$(podman exec "$node" cat /sys/fs/cgroup/memory/memory.stat 2>/dev/null \
    || podman exec "$node" cat /sys/fs/cgroup/memory.stat)
  rss=$(awk '$1 == "total_rss" || $1 == "anon" { print int($2 / 1048576); exit }' <<<"$stats")
  shmem=$(awk '$1 == "total_shmem" || $1 == "shmem" { print int($2 / 1048576); exit }' <<<"$stats")
  printf '%-52s %8sMiB\n' "$node rss (shmem)" "$rss ($shmem)"
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
printf '%-52s %10s %9ss\n' "re-run after a worker was lost" "" "$lost_worker"
# Last, as it replaces every node: the control-plane node lost, then the rebuild.
scripts/sandbox-nodes.sh remove "${NODES[0]}" >/dev/null
rebuild=$(timed scripts/rebuild.sh sandbox-c01 -e rebuild_confirmed=true)
check_ready "after the rebuild"
verified=inventories/sandbox/artifacts/verify/sandbox-c01.json
python3 -c 'import json, sys; labs = json.load(open(sys.argv[1]))["labs"]
failed = [name for name, lab in labs.items() if not lab["passed"]]
sys.exit(f"labs not verified after the rebuild: {failed}" if failed else 0)' "$verified"
printf '%-52s %10s %9ss\n' "rebuild after the control plane was lost (goal 600 s)" "" "$rebuild"
