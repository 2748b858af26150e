#!/usr/bin/env bash
# Installs what the control node needs: system packages (as root, via apt) and
# the project's venv (.venv) with the Python packages pinned in requirements.txt.
# Re-running it is cheap: the venv is rebuilt only when the pins change.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"

PYTHON=${PYTHON:-python3}
apt_install python3-venv git openssh-client rsync
# The tests log in over SSH with a login card's password (tests/test_sandbox_main_job.py).
apt_install sshpass
# Login cards (WeasyPrint: pango, local fonts) and their test (pdftoppm, pdftotext).
apt_install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core poppler-utils

"$PYTHON" - <<'PY' || die "Python 3.11 or newer is needed (ansible-core 2.19); set PYTHON=/path/to/python3.11"
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY

venv=$(venv_path)
if [ ! -f "$venv/.complete" ]; then
  log "creating venv $venv"
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check \
    -r "$ATELIER_ROOT/requirements.txt" -c "$ATELIER_ROOT/constraints.txt"
  touch "$venv/.complete"
fi
# An older checkout may have a real .venv folder where the link goes.
[ -L "$ATELIER_ROOT/.venv" ] || rm -rf "$ATELIER_ROOT/.venv"
ln -sfn "$venv" "$ATELIER_ROOT/.venv"
log "venv ready: .venv -> $venv (ansible-core $("$venv/bin/python" -c "import ansible.release as r; print(r.__version__)"))"
