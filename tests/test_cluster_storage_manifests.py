"""The cluster_storage role's manifest (rancher/local-path-provisioner's
deploy/local-path-storage.yaml as the role renders it) against the OpenAPI
schemas of every Kubernetes release the project supports
(kubernetes-validate --strict), and what a cluster needs of it: the default
class, the pinned images, the helper's scripts and path, least rights. Also:
bad input is refused before any cluster is read, naming the variable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import RELEASES, ROOT, render_on_localhost, role_on_localhost, validation_problems

ROLE = ROOT / "roles/cluster_storage"
PINS = dict(
    line.split("=", 1)
    for line in (ROOT / "tools/lab-images/storage.env").read_text().splitlines()
    if line and not line.startswith("#")
)

VARIANTS = {
    "defaults": {},
    "changed": {
        "cluster_storage_class_name": "node-local",
        "cluster_storage_default": False,
        "cluster_storage_path": "/var/lib/volumes",
        "cluster_storage_reclaim_policy": "Retain",
        "cluster_storage_namespace": "storage",
        "cluster_storage_image_pull_policy": "Always",
        "cluster_storage_images": {
            "provisioner": "mirror.example/local-path-provisioner:v0.0.30",
            "helper": "mirror.example/busybox:1.36",
        },
    },
}

RENDER_PLAYBOOK = """
- name: Render the cluster_storage manifest
  hosts: localhost
  connection: local
  gather_facts: false
  vars_files:
    - {role}/defaults/main.yml
    - {role}/vars/main.yml
  tasks:
    - name: Render it
      ansible.builtin.template:
        src: {role}/templates/local-path-storage.yaml.j2
        dest: "{{{{ out }}}}"
        mode: "0644"
"""


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def rendered(request, tmp_path_factory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp(request.param)
    render_on_localhost(
        out,
        RENDER_PLAYBOOK.format(role=ROLE),
        {"out": str(out / "local-path-storage.yaml"), **VARIANTS[request.param]},
    )
    return request.param, out / "local-path-storage.yaml"


def objects(path: Path) -> dict[tuple[str, str], dict]:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


@pytest.mark.parametrize("release", RELEASES)
def test_the_manifest_is_valid_for_every_supported_release(rendered, release):
    _, path = rendered
    problems = validation_problems([str(path)], release)
    assert problems == "", problems


def test_upstream_objects_and_names_each_labelled(rendered):
    variant, path = rendered
    namespace = VARIANTS[variant].get("cluster_storage_namespace", "local-path-storage")
    found = objects(path)
    assert sorted(found) == sorted(
        [
            ("Namespace", namespace),
            ("ServiceAccount", "local-path-provisioner-service-account"),
            ("Role", "local-path-provisioner-role"),
            ("ClusterRole", "local-path-provisioner-role"),
            ("RoleBinding", "local-path-provisioner-bind"),
            ("ClusterRoleBinding", "local-path-provisioner-bind"),
            ("ConfigMap", "local-path-config"),
            ("Deployment", "local-path-provisioner"),
            ("StorageClass", VARIANTS[variant].get("cluster_storage_class_name", "local-path")),
        ]
    )
    for doc in found.values():
        assert doc["metadata"]["labels"] == {"kube-atelier.io/part": "storage"}
        if doc["kind"] not in {"Namespace", "ClusterRole", "ClusterRoleBinding", "StorageClass"}:
            assert doc["metadata"]["namespace"] == namespace


def test_the_storage_class(rendered):
    variant, path = rendered
    name = VARIANTS[variant].get("cluster_storage_class_name", "local-path")
    sc = objects(path)[("StorageClass", name)]
    assert sc["provisioner"] == "rancher.io/local-path"
    assert sc["volumeBindingMode"] == "WaitForFirstConsumer"
    assert sc["reclaimPolicy"] == VARIANTS[variant].get("cluster_storage_reclaim_policy", "Delete")
    default = sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"]
    assert default == ("true" if variant == "defaults" else "false")


def test_images_path_and_helper_scripts(rendered):
    variant, path = rendered
    found = objects(path)
    images = VARIANTS[variant].get("cluster_storage_images") or {
        "provisioner": "docker.io/rancher/local-path-provisioner:"
        + PINS["LOCAL_PATH_PROVISIONER_VERSION"],
        "helper": "docker.io/library/busybox:" + PINS["BUSYBOX_IMAGE_TAG"],
    }
    pod = found[("Deployment", "local-path-provisioner")]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == images["provisioner"]
    assert container["command"][:3] == ["local-path-provisioner", "--debug", "start"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["HELPER_IMAGE"] == images["helper"]
    assert pod["serviceAccountName"] == "local-path-provisioner-service-account"
    data = found[("ConfigMap", "local-path-config")]["data"]
    config = json.loads(data["config.json"])
    want = VARIANTS[variant].get("cluster_storage_path", "/opt/local-path-provisioner")
    assert config == {
        "nodePathMap": [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": [want]}]
    }
    helper = yaml.safe_load(data["helperPod.yaml"])
    assert helper["spec"]["containers"][0]["image"] == images["helper"]
    assert 'mkdir -m 0777 -p "$VOL_DIR"' in data["setup"]
    assert 'rm -rf "$VOL_DIR"' in data["teardown"]


def test_the_defaults_name_the_images_the_recipe_builds():
    defaults = yaml.safe_load((ROLE / "defaults/main.yml").read_text())
    recipe = (ROOT / "scripts/lab-images/storage.sh").read_text()
    assert defaults["cluster_storage_images"] == {
        "provisioner": "docker.io/rancher/local-path-provisioner:"
        + PINS["LOCAL_PATH_PROVISIONER_VERSION"],
        "helper": "docker.io/library/busybox:" + PINS["BUSYBOX_IMAGE_TAG"],
    }
    assert '"docker.io/rancher/local-path-provisioner:$LOCAL_PATH_PROVISIONER_VERSION"' in recipe
    assert '"docker.io/library/busybox:$BUSYBOX_IMAGE_TAG"' in recipe


def test_least_rights_never_secrets_or_cluster_admin(rendered):
    _, path = rendered
    found = objects(path)
    for kind in ("Role", "ClusterRole"):
        for rule in found[(kind, "local-path-provisioner-role")]["rules"]:
            assert "*" not in rule["verbs"] and "*" not in rule["resources"], rule
            assert "secrets" not in rule["resources"], rule
            if rule["resources"] != ["persistentvolumes"] and kind == "ClusterRole":
                assert set(rule["verbs"]) <= {"get", "list", "watch", "create", "patch"}, rule
    for kind in ("RoleBinding", "ClusterRoleBinding"):
        assert found[(kind, "local-path-provisioner-bind")]["roleRef"]["name"] == (
            "local-path-provisioner-role"
        )


# -- bad input -------------------------------------------------------------------


@pytest.fixture
def run_role(tmp_path):
    """The role on localhost with a kubeconfig that does not exist: only a
    refusal in the input checks can be seen (reading the cluster would fail
    naming missing.conf)."""

    def play(extra_vars: dict) -> tuple[int, str]:
        extra = {"cluster_storage_kubeconfig": str(tmp_path / "missing.conf"), **extra_vars}
        return role_on_localhost(tmp_path, "cluster_storage", extra)

    return play


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"cluster_storage_provisioner": "nfs"}, "cluster_storage_provisioner"),
        ({"cluster_storage_reclaim_policy": "Recycle"}, "cluster_storage_reclaim_policy"),
        (
            {"cluster_storage_class_name": "Local_Path"},
            "cluster_storage_class_name 'Local_Path' is not a valid StorageClass name",
        ),
        (
            {"cluster_storage_existing_class": "csi-cinder-sc-delete"},
            "cluster_storage_existing_class 'csi-cinder-sc-delete' is only for "
            "cluster_storage_provisioner none",
        ),
        ({"cluster_storage_path": "/"}, "cluster_storage_path '/' must be an absolute folder"),
        ({"cluster_storage_path": "volumes"}, "cluster_storage_path 'volumes' must be an absolute"),
        ({"cluster_storage_images": {"provisioner": "x"}}, "cluster_storage_images must have"),
        ({"cluster_storage_check_timeout": 0}, "cluster_storage_check_timeout (0)"),
    ],
    ids=lambda v: str(v)[:40],
)
def test_bad_input_is_refused_naming_the_variable(run_role, extra, message):
    rc, output = run_role(extra)
    assert rc != 0
    assert message in output, output[-2000:]
    assert "missing.conf" not in output


def test_the_check_fails_naming_the_kubeconfig_only_after_the_inputs(run_role):
    """Good input gets past the checks: the first cluster read is what fails."""
    rc, output = run_role({})
    assert rc != 0
    assert "missing.conf" in output
