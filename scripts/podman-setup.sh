#!/usr/bin/env bash
# Makes this machine able to run the test nodes: rootful podman as
# podman_ready (scripts/lib/common.sh) leaves it, and the node base image.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"

podman_ready
exec "$ATELIER_ROOT/scripts/build-node-image.sh"
