#!/usr/bin/env bash
# Starts or removes the sandbox nodes of inventories/sandbox: privileged podman
# containers of the node image, with systemd as PID 1, on their own network.
#   scripts/sandbox-nodes.sh up | down | status
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"

NETWORK=kube-atelier-sandbox
NODES=(sandbox-c01-n1 sandbox-c01-n2 sandbox-c01-n3)
IMAGE=${ATELIER_NODE_IMAGE:-localhost/kube-atelier-node:debian12}

case ${1:-} in
  up)
    podman network exists "$NETWORK" || podman network create "$NETWORK" >/dev/null
    for node in "${NODES[@]}"; do
      if [ "$(podman container inspect -f '{{.State.Running}}' "$node" 2>/dev/null)" = true ]; then
        continue
      fi
      podman rm -f "$node" >/dev/null 2>&1 || true
      podman run -d --name "$node" --hostname "$node" --network "$NETWORK" \
        --privileged --systemd always --label io.kube-atelier.sandbox=true \
        "$IMAGE" /sbin/init >/dev/null
      log "started $node"
    done
    ;;
  down)
    for node in "${NODES[@]}"; do podman rm -f -t 5 "$node" >/dev/null 2>&1 || true; done
    podman network rm "$NETWORK" >/dev/null 2>&1 || true
    log "sandbox nodes removed"
    ;;
  status)
    podman ps -a --filter label=io.kube-atelier.sandbox=true --format '{{.Names}}\t{{.Status}}'
    ;;
  *) die "usage: $0 up|down|status" ;;
esac
