#!/usr/bin/env bash
# The whole test suite: setup, lint gates, unit tests, molecule scenarios.
#   scripts/test.sh           everything (what CI runs)
#   scripts/test.sh --fast    lint + unit tests only (the inner loop, ~1 min)
#   scripts/test.sh --scenario node_base   lint + unit + one molecule scenario
# Prints the time each stage took; exits non-zero on the first failing stage.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
cd "$ATELIER_ROOT"

fast=false
scenarios=()
while (($#)); do
  case $1 in
    --fast) fast=true ;;
    --scenario) scenarios+=("$2"); shift ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done

trap 'stage_report' EXIT

stage "setup: venv"
scripts/setup.sh
activate_venv

stage "lint: yamllint"
yamllint --strict .

stage "lint: ruff"
ruff check .
ruff format --check .

stage "lint: shellcheck"
apt_install shellcheck
mapfile -t shell_scripts < <(find scripts .ci -type f \( -name "*.sh" -o -path .ci/run \) | sort)
shellcheck -x "${shell_scripts[@]}"

stage "lint: ansible-lint"
ansible-lint --offline --profile production -q

stage "lint: syntax-check"
for playbook in playbooks/*.yml; do
  ansible-playbook --syntax-check -i inventories/sandbox "$playbook" >/dev/null
done

stage "lint: ansible-test sanity"
scripts/sanity.sh

stage "unit: pytest"
pytest -q -m "not podman and not openstack and not artifacts and not controlplane"

if ! $fast; then
  stage "setup: podman + node image"
  scripts/podman-setup.sh >/dev/null

  stage "setup: sandbox cloud"
  # Stopped again at the end when this run started it (it holds ~2 GB).
  if ! scripts/sandbox-cloud.sh status >/dev/null 2>&1; then
    trap 'scripts/sandbox-cloud.sh down >/dev/null 2>&1 || true; stage_report' EXIT
  fi
  scripts/sandbox-cloud.sh up
  eval "$(scripts/sandbox-cloud.sh env)"
  stage "setup: Kubernetes binaries (built from Go modules, cached)"
  # The nodes' three, and the control plane the controlplane tests start.
  scripts/build-k8s-artifacts.sh kubeadm kubectl kubelet \
    etcd kube-apiserver kube-controller-manager kube-scheduler
  ATELIER_K8S_BIN_DIR=$(scripts/build-k8s-artifacts.sh --bin-dir)
  export ATELIER_K8S_BIN_DIR
  stage "setup: Kubernetes images (built from Go modules and Debian, cached)"
  # Preloaded on the sandbox cluster's nodes: no registry is reachable.
  scripts/build-k8s-images.sh
  ATELIER_K8S_IMAGE_DIR=$(scripts/build-k8s-images.sh --dir)
  export ATELIER_K8S_IMAGE_DIR
  stage "setup: lab images (built from Go modules, cached)"
  scripts/build-lab-images.sh
  ATELIER_LAB_IMAGE_DIR=$(scripts/build-lab-images.sh --dir)
  export ATELIER_LAB_IMAGE_DIR

  ((${#scenarios[@]})) || mapfile -t scenarios < <(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml | cut -d/ -f2 | sort)
  for scenario in "${scenarios[@]}"; do
    stage "molecule: $scenario"
    molecule test -s "$scenario"
  done
  stage "integration: pytest (podman, sandbox cloud and cluster, Kubernetes binaries, control plane)"
  pytest -q -m "podman or openstack or artifacts or controlplane"
fi
