#!/usr/bin/env bash
# ansible-test sanity for the atelier.kube collection, without Docker: each
# sanity test gets a venv of its own (--venv), whose pip bootstrap is served by
# scripts/ansible-test-get-pip.py because ansible-test's download host is
# unreachable here. The venvs are cached by ansible-test under ~/.ansible/test.
#
# ansible-test looks for the collections ours depends on (openstack.cloud's doc
# fragment and module_utils) beside it, in the same ansible_collections folder.
# So the test runs on a copy of the collection in a scratch collections root,
# next to links to the venv's bundled dependencies.
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

root=$ATELIER_CACHE/sanity/ansible_collections
bundled=$(python -c 'import ansible_collections.openstack as o, os; print(os.path.dirname(list(o.__path__)[0]))')
for dependency in openstack/cloud kubernetes/core; do
  mkdir -p "$root/${dependency%/*}"
  ln -sfn "$bundled/$dependency" "$root/$dependency"
done
mkdir -p "$root/atelier"
rsync -a --delete --exclude tests/output "$ATELIER_ROOT/collections/ansible_collections/atelier/kube/" "$root/atelier/kube/"
cd "$root/atelier/kube"
python_version=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
ansible-test sanity --venv --python "$python_version" --color no "$@"
