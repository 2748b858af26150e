#!/usr/bin/env bash
# The local sandbox cluster in one command (inventories/sandbox: 1 control
# plane + 2 workers as podman containers, made by the project's own roles).
#   scripts/sandbox.sh up       the main job on the sandbox (scripts/run.sh), then how to use it
#   scripts/sandbox.sh status   its nodes as podman and as Kubernetes see them
#   scripts/sandbox.sh down     remove its servers from the sandbox cloud, its
#                               containers, volumes and network, and stop the cloud
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
cd "$ATELIER_ROOT"

KUBECONFIG_FILE=$ATELIER_ROOT/inventories/sandbox/secrets/kubeconfigs/sandbox-c01-admin.conf

usage() {
  local kubectl
  kubectl=$(scripts/build-k8s-artifacts.sh --bin-dir)/kubectl
  cat <<USAGE

The sandbox cluster is up: nodes sandbox-c01-n1 (control plane, login host),
sandbox-c01-n2 and sandbox-c01-n3 (podman containers).
  export KUBECONFIG=$KUBECONFIG_FILE
  $kubectl get nodes
  podman exec -it sandbox-c01-n1 su - learner01     # the learner's shell and kubeconfig
Stop it with: scripts/sandbox.sh down
USAGE
}

case ${1:-} in
  up)
    scripts/run.sh inventories/sandbox
    usage
    ;;
  status)
    scripts/sandbox-nodes.sh status
    if [ -f "$KUBECONFIG_FILE" ]; then
      "$(scripts/build-k8s-artifacts.sh --bin-dir)/kubectl" --kubeconfig "$KUBECONFIG_FILE" \
        --request-timeout=5s get nodes -o wide || true
    fi
    ;;
  down)
    if scripts/sandbox-cloud.sh status >/dev/null 2>&1; then
      scripts/setup.sh >/dev/null
      activate_venv
      eval "$(scripts/sandbox-cloud.sh env)"
      ansible-playbook -i inventories/sandbox playbooks/teardown.yml -e teardown_confirmed=true
      scripts/sandbox-cloud.sh down
    fi
    scripts/sandbox-nodes.sh down
    rm -f "$KUBECONFIG_FILE"
    ;;
  *) die "usage: $0 up|status|down" ;;
esac
