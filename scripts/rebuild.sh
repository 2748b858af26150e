#!/usr/bin/env bash
# Rebuilds one learner's cluster: deletes its servers (playbooks/rebuild.yml,
# which asks for the cluster's name unless -e rebuild_confirmed=true), then
# runs the main job for that cluster alone (scripts/run.sh --limit), which
# creates the servers again and runs every stage on them through verify. The
# other clusters of the cohort are not touched; the cluster's learners keep
# their accounts, passwords and cards, and get a new kubeconfig.
#   scripts/rebuild.sh [inventories/<cohort>] <cluster> [ansible-playbook options...]
#   scripts/rebuild.sh sandbox-c01 -e rebuild_confirmed=true
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
cd "$ATELIER_ROOT"

inventory=inventories/sandbox
if (($#)) && [[ $1 != -* ]] && [ -e "$1" ]; then inventory=$1; shift; fi
if ! (($#)) || [[ $1 == -* ]]; then die "usage: $0 [inventories/<cohort>] <cluster> [ansible-playbook options...]"; fi
cluster=$1
shift

scripts/setup.sh
activate_venv
sandbox=false
if grep -qs '^cloud: sandbox$' "$inventory/cohort.yml"; then
  sandbox=true
  scripts/sandbox-cloud.sh up
  eval "$(scripts/sandbox-cloud.sh env)"
fi

start=$SECONDS
ansible-playbook -i "$inventory" playbooks/rebuild.yml -e "cluster=$cluster" "$@"
if $sandbox; then
  # The sandbox's servers are podman containers: the machines go with them.
  mapfile -t nodes < <(podman ps -a --format '{{.Names}}' --filter "name=^$cluster-n[0-9]+$")
  ((${#nodes[@]} == 0)) || scripts/sandbox-nodes.sh remove "${nodes[@]}"
fi
# Host names are <cluster>-n<i>: the pattern selects that cluster's hosts only.
scripts/run.sh "$inventory" --limit "localhost,$cluster-n*" "$@"
log "rebuilt $cluster in $((SECONDS - start)) s"
