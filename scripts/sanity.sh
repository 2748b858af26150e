#!/usr/bin/env bash
# ansible-test sanity for the atelier.kube collection, without Docker: each
# sanity test gets a venv of its own (--venv), whose pip bootstrap is served by
# scripts/ansible-test-get-pip.py because ansible-test's download host is
# unreachable here. The venvs are cached by ansible-test under ~/.ansible/test.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
activate_venv

pip_version=$(python - <<'PY'
import ansible_test._internal.python_requirements as requirements, inspect, re
print(re.search(r"pip='([0-9.]+)'", inspect.getsource(requirements)).group(1))
PY
)
bootstrap=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
mkdir -p "$(dirname "$bootstrap")"
cp "$ATELIER_ROOT/scripts/ansible-test-get-pip.py" "$bootstrap"

cd "$ATELIER_ROOT/collections/ansible_collections/atelier/kube"
python_version=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
ansible-test sanity --venv --python "$python_version" --color no "$@"
