#!/usr/bin/env bash
# Sourced by a lab's recipe (scripts/lab-images/<lab>.sh) run on its own
# rather than through scripts/build-lab-images.sh: the same libraries, pins,
# cache folder and image list that script gives the recipes it sources.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=scripts/lib/images.sh
. "$(dirname "${BASH_SOURCE[0]}")/images.sh"
for pins in "$ATELIER_ROOT"/tools/lab-images/*.env; do
  # shellcheck source=tools/lab-images/versions.env
  . "$pins"
done
OUT=${ATELIER_LAB_IMAGE_DIR:-$ATELIER_CACHE/lab-images}
BUILT_BY=scripts/lab-images/$(basename "$0")
IMAGES=()
