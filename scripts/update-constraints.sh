#!/usr/bin/env bash
# Rebuilds constraints.txt: a throwaway venv gets requirements.txt, its freeze is the lock.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"${PYTHON:-python3}" -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q --disable-pip-version-check -r "$ATELIER_ROOT/requirements.txt"
{
  echo "# Transitive pins for requirements.txt (pip freeze of a fresh venv). Regenerate with"
  echo "# scripts/update-constraints.sh after changing requirements.txt."
  "$tmp/venv/bin/pip" freeze --exclude-editable
} > "$ATELIER_ROOT/constraints.txt"
log "constraints.txt: $(grep -vc '^#' "$ATELIER_ROOT/constraints.txt") pins"
