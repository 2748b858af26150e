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
only_scenarios=false
scenarios=()
while (($#)); do
  case $1 in
    --fast) fast=true ;;
    --scenario) scenarios+=("$2"); only_scenarios=true; shift ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done

# molecule_lane DIR SCENARIO...: molecule test of each in turn, its output in
# DIR/<scenario>.log, "<scenario> <seconds> s" (or FAILED) in DIR/times; stops
# at the first failure.
molecule_lane() {
  local dir=$1 scenario start
  shift
  for scenario in "$@"; do
    start=$SECONDS
    if molecule test -s "$scenario" >"$dir/$scenario.log" 2>&1; then
      printf '  molecule: %-26s %6s s\n' "$scenario" $((SECONDS - start)) >>"$dir/times"
    else
      printf '  molecule: %-26s %6s s FAILED\n' "$scenario" $((SECONDS - start)) >>"$dir/times"
      return 1
    fi
  done
}

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

  if $only_scenarios; then
    # --scenario: lint, unit tests and those scenarios only, one after the other.
    for scenario in "${scenarios[@]}"; do
      stage "molecule: $scenario"
      molecule test -s "$scenario"
    done
  else
    mapfile -t scenarios < <(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml | cut -d/ -f2 | sort)
    # Four lanes side by side, because most of their time is waiting (apt,
    # systemd, image imports, API round trips), not the 2 cores (measured
    # figures: docs/testing.md):
    # - the sandbox cluster's tests (marker podman): the main job brings the
    #   cluster up once, every lab is deployed, verified, re-run and reset on
    #   it, then the recovery tests; the longest lane, started first;
    # - two lanes for the scenarios on a sandbox control plane (their
    #   molecule.yml names SANDBOX_APISERVER_DIR), alternating, each with a
    #   control plane of its own (the second under sandbox-apiserver-lane2,
    #   ports offset by 100), which also carry the scenarios on the sandbox
    #   cloud and the control node, then the integration tests that need no
    #   cluster: the first those on the sandbox cloud (marker openstack), the
    #   second those on its control plane (artifacts, controlplane);
    # - one for the scenarios on podman nodes of their own.
    first_lane=() second_lane=() node_lane=()
    turn=0
    for scenario in "${scenarios[@]}"; do
      if grep -q SANDBOX_APISERVER_DIR "molecule/$scenario/molecule.yml"; then
        if ((turn++ % 2 == 0)); then first_lane+=("$scenario"); else second_lane+=("$scenario"); fi
      else
        case $scenario in
          openstack_cohort | platform) first_lane+=("$scenario") ;;
          learner_access) second_lane+=("$scenario") ;;
          *) node_lane+=("$scenario") ;;
        esac
      fi
    done
    stage "molecule (${#scenarios[@]} scenarios) and integration, in four lanes"
    lanes=$(mktemp -d)
    # pytest_lane NAME MARKERS: the integration tests with those markers, their
    # output in $lanes/NAME.log, their time in $lanes/times.
    pytest_lane() {
      local start=$SECONDS verdict=""
      # --durations: where the time goes (docs/testing.md keeps the last figures).
      pytest -q --durations=30 -m "$2" >"$lanes/$1.log" 2>&1 || verdict=FAILED
      printf '  integration: %-23s %6s s %s\n' "$1" $((SECONDS - start)) "$verdict" >>"$lanes/times"
      [ -z "$verdict" ]
    }
    pytest_lane cluster podman &
    cluster_pid=$!
    (
      trap 'scripts/sandbox-apiserver.sh down >/dev/null 2>&1 || true' EXIT
      lane_ok=true
      molecule_lane "$lanes" "${first_lane[@]}" || lane_ok=false
      pytest_lane openstack openstack || lane_ok=false
      $lane_ok
    ) &
    first_pid=$!
    (
      export SANDBOX_APISERVER_DIR=$ATELIER_CACHE/sandbox-apiserver-lane2 SANDBOX_APISERVER_PORT_OFFSET=100
      trap 'scripts/sandbox-apiserver.sh down >/dev/null 2>&1 || true' EXIT
      lane_ok=true
      molecule_lane "$lanes" "${second_lane[@]}" || lane_ok=false
      pytest_lane control-plane "artifacts or controlplane" || lane_ok=false
      $lane_ok
    ) &
    second_pid=$!
    molecule_lane "$lanes" "${node_lane[@]}" &
    node_pid=$!
    lanes_ok=true
    for pid in "$first_pid" "$second_pid" "$node_pid" "$cluster_pid"; do
      wait "$pid" || lanes_ok=false
    done
    for log in "${scenarios[@]/%/.log}" openstack.log control-plane.log cluster.log; do
      [ -f "$lanes/$log" ] && cat "$lanes/$log"
    done
    cat "$lanes/times"
    $lanes_ok || die "molecule and integration: $(grep -c FAILED "$lanes/times") lane item(s) failed (above)"
  fi
fi
