#!/usr/bin/env bash
# The main job: ansible-playbook playbooks/site.yml on a cohort inventory.
#   scripts/run.sh                         the local sandbox (inventories/sandbox)
#   scripts/run.sh inventories/<cohort> [ansible-playbook options...]
# Installs what it needs first (venv; for the sandbox, podman and its nodes).
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
cd "$ATELIER_ROOT"

inventory=inventories/sandbox
if (($#)) && [[ $1 != -* ]]; then inventory=$1; shift; fi
[ -e "$inventory" ] || die "no inventory at '$inventory' (try inventories/sandbox or copy inventories/example)"

scripts/setup.sh
activate_venv
# A cohort on the sandbox cloud (inventories/sandbox, or a copy of it).
if grep -qs '^cloud: sandbox$' "$inventory/cohort.yml" "$inventory"; then
  # The sandbox: its cloud on this machine, and podman containers as the
  # machines of its servers (provision.yml and image.yml start them).
  scripts/podman-setup.sh >/dev/null
  scripts/sandbox-cloud.sh up
  eval "$(scripts/sandbox-cloud.sh env)"
  # Its Kubernetes binaries come from Go modules, not dl.k8s.io (cached).
  scripts/build-k8s-artifacts.sh
  ATELIER_K8S_BIN_DIR=$(scripts/build-k8s-artifacts.sh --bin-dir)
  export ATELIER_K8S_BIN_DIR
  # ... and its images too, preloaded on the nodes: no registry is reachable.
  scripts/build-k8s-images.sh
  ATELIER_K8S_IMAGE_DIR=$(scripts/build-k8s-images.sh --dir)
  export ATELIER_K8S_IMAGE_DIR
  # The labs' images as well (podinfo, metrics-server, Prometheus, the adapter).
  scripts/build-lab-images.sh
  ATELIER_LAB_IMAGE_DIR=$(scripts/build-lab-images.sh --dir)
  export ATELIER_LAB_IMAGE_DIR
fi
ansible-playbook -i "$inventory" playbooks/site.yml "$@"
