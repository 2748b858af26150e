"""The lab_jupyterhub role's manifests, rendered by Ansible from the role's
template and variables, against the OpenAPI schemas of every Kubernetes
release the project supports (kubernetes-validate --strict), and what the
z2jh chart creates that the lab needs: the hub's namespaced RBAC, its Secret
(hashes, never a password), its configuration (the role's files), its
database PVC, the proxy and its Services with the public NodePort. The
learners' materials hold no secret. Bad input is refused before anything is
applied, naming the variable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from ansible_collections.atelier.kube.plugins.filter.jupyterhub import pbkdf2_sha256
from conftest import RELEASES, ROOT, render_on_localhost, role_on_localhost, validation_problems

ROLE = ROOT / "roles/lab_jupyterhub"
DEFAULTS = yaml.safe_load((ROLE / "defaults/main.yml").read_text())
PASSWORDS = {"learner01": "Card1Pass1Word1x", "learner02": "Card2Pass2Word2y"}

VARIANTS = {
    "defaults": {},
    "named-class": {
        "lab_jupyterhub_storage_class": "cinder-csi",
        "lab_jupyterhub_node_port": 31888,
        "lab_jupyterhub_namespace": "jhub",
        "lab_jupyterhub_memory_guarantee": "1G",
        "lab_jupyterhub_memory_limit": "2G",
    },
}

RENDER_PLAYBOOK = """
- name: Render the lab_jupyterhub manifests and materials
  hosts: localhost
  connection: local
  gather_facts: false
  vars_files:
    - {role}/defaults/main.yml
    - {role}/vars/main.yml
  tasks:
    - name: Create the folders
      ansible.builtin.file:
        path: "{{{{ out }}}}/{{{{ item }}}}"
        state: directory
        mode: "0755"
      loop: [cluster, materials]
    - name: Render the cluster's objects
      ansible.builtin.template:
        src: "{role}/templates/jupyterhub/jupyterhub.yaml.j2"
        dest: "{{{{ out }}}}/cluster/jupyterhub.yaml"
        mode: "0644"
    - name: Render the materials
      ansible.builtin.template:
        src: "{role}/templates/materials/{{{{ item }}}}.j2"
        dest: "{{{{ out }}}}/materials/{{{{ item }}}}"
        mode: "0644"
      loop: [README.md, config.yaml, CHANGES.md]
"""


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def rendered(request, tmp_path_factory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp(request.param)
    users = {
        name: {"admin": False, "hash": pbkdf2_sha256(password, "ab" * 16, 1000)}
        for name, password in PASSWORDS.items()
    }
    users["hubadmin"] = {"admin": True, "hash": pbkdf2_sha256("AdminPass", "cd" * 16, 1000)}
    extra = {
        "out": str(out),
        "role_path": str(ROLE),
        "atelier_cluster_name": "demo-c01",
        "atelier_learners": [{"name": name} for name in PASSWORDS],
        "lab_jupyterhub_users": users,
        "lab_jupyterhub_proxy_token": "0123456789abcdef" * 4,
        "lab_jupyterhub_cookie_secret": "fedcba9876543210" * 4,
        **VARIANTS[request.param],
    }
    render_on_localhost(out, RENDER_PLAYBOOK.format(role=ROLE), extra)
    return request.param, out


def objects(out: Path) -> dict[tuple[str, str], dict]:
    docs = yaml.safe_load_all((out / "cluster/jupyterhub.yaml").read_text())
    return {(d["kind"], d["metadata"]["name"]): d for d in docs if d}


def setting(variant: str, name: str):
    return VARIANTS[variant].get(name, DEFAULTS[name])


@pytest.mark.parametrize("release", RELEASES)
def test_every_object_is_valid_for_every_supported_release(rendered, release):
    _, out = rendered
    problems = validation_problems([str(out / "cluster/jupyterhub.yaml")], release)
    assert problems == "", problems


def test_the_chart_s_objects_are_all_there_in_the_lab_s_namespace(rendered):
    variant, out = rendered
    namespace = setting(variant, "lab_jupyterhub_namespace")
    found = objects(out)
    assert set(found) == {
        ("Namespace", namespace),
        ("ServiceAccount", "hub"),
        ("Role", "hub"),
        ("RoleBinding", "hub"),
        ("Secret", "hub"),
        ("ConfigMap", "hub"),
        ("PersistentVolumeClaim", "hub-db-dir"),
        ("Deployment", "hub"),
        ("Service", "hub"),
        ("Deployment", "proxy"),
        ("Service", "proxy-api"),
        ("Service", "proxy-public"),
    }
    for (kind, _), obj in found.items():
        assert obj["metadata"]["labels"]["kube-atelier.io/lab"] == "jupyterhub", kind
        if kind != "Namespace":
            assert obj["metadata"]["namespace"] == namespace, kind
    assert (
        (out / "cluster/jupyterhub.yaml")
        .read_text()
        .startswith("# zero-to-jupyterhub 4.4.0 as plain manifests")
    )


def test_the_hub_may_spawn_in_its_namespace_only(rendered):
    _, out = rendered
    found = objects(out)
    rules = found[("Role", "hub")]["rules"]
    assert rules == [
        {
            "apiGroups": [""],
            "resources": ["pods", "persistentvolumeclaims", "secrets", "services"],
            "verbs": ["get", "watch", "list", "create", "delete"],
        },
        {"apiGroups": [""], "resources": ["events"], "verbs": ["get", "watch", "list"]},
    ]
    binding = found[("RoleBinding", "hub")]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "hub",
    }
    assert [s["name"] for s in binding["subjects"]] == ["hub"]
    assert not any(kind.startswith("Cluster") for kind, _ in found)


def test_the_secret_holds_hashes_and_no_password(rendered):
    _, out = rendered
    text = (out / "cluster/jupyterhub.yaml").read_text() + "".join(
        p.read_text() for p in (out / "materials").iterdir()
    )
    for password in [*PASSWORDS.values(), "AdminPass"]:
        assert password not in text
    secret = objects(out)[("Secret", "hub")]["stringData"]
    users = json.loads(secret["users.json"])
    assert sorted(users) == ["hubadmin", "learner01", "learner02"]
    assert all(u["hash"].startswith("pbkdf2_sha256$") for u in users.values())
    assert [n for n, u in users.items() if u["admin"]] == ["hubadmin"]
    assert len(secret["proxy.token"]) == 64 and len(secret["cookie.secret"]) == 64
    # The materials never carry the hub's secrets.
    materials = "".join(p.read_text() for p in (out / "materials").iterdir())
    assert secret["proxy.token"] not in materials and secret["cookie.secret"] not in materials


def test_the_hub_runs_the_role_s_configuration_on_its_database_volume(rendered):
    variant, out = rendered
    found = objects(out)
    config = found[("ConfigMap", "hub")]["data"]
    for name in ("jupyterhub_config.py", "atelier_hub.py"):
        assert config[name].rstrip("\n") == (ROLE / "files" / name).read_text().rstrip("\n")
    settings = json.loads(config["settings.json"])
    assert settings["singleuser"]["image"] == DEFAULTS["lab_jupyterhub_images"]["singleuser"]
    in_bytes = {"256Mi": 256 * 2**20, "1Gi": 2**30, "1G": 10**9, "2G": 2 * 10**9}
    assert settings["singleuser"]["memory"] == {
        "guarantee": in_bytes[setting(variant, "lab_jupyterhub_memory_guarantee")],
        "limit": in_bytes[setting(variant, "lab_jupyterhub_memory_limit")],
    }
    assert settings["singleuser"]["storage"]["storageClass"] == setting(
        variant, "lab_jupyterhub_storage_class"
    )

    pvc = found[("PersistentVolumeClaim", "hub-db-dir")]["spec"]
    assert pvc["accessModes"] == ["ReadWriteOnce"]
    assert pvc.get("storageClassName", "") == setting(variant, "lab_jupyterhub_storage_class")

    hub = found[("Deployment", "hub")]["spec"]
    assert hub["strategy"] == {"type": "Recreate"}
    pod = hub["template"]["spec"]
    assert pod["serviceAccountName"] == "hub"
    (container,) = pod["containers"]
    assert container["image"] == DEFAULTS["lab_jupyterhub_images"]["hub"]
    assert container["args"][:3] == [
        "jupyterhub",
        "--config",
        "/usr/local/etc/jupyterhub/jupyterhub_config.py",
    ]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounts["/srv/jupyterhub"] == "hub-db-dir"
    assert mounts["/usr/local/etc/jupyterhub/atelier_hub.py"] == "config"
    # The Secret's keys each variable comes from (names, not values).
    from_secret = {
        e["name"]: e["valueFrom"]["secretKeyRef"]["key"]
        for e in container["env"]
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    assert from_secret == {
        "CONFIGPROXY_AUTH_TOKEN": "proxy.token",
        "JPY_COOKIE_SECRET": "cookie.secret",
    }
    assert container["readinessProbe"]["httpGet"]["path"] == "/hub/health"
    assert container["securityContext"]["runAsUser"] == 1000


def test_the_proxy_and_its_public_node_port(rendered):
    variant, out = rendered
    found = objects(out)
    (chp,) = found[("Deployment", "proxy")]["spec"]["template"]["spec"]["containers"]
    assert chp["image"] == DEFAULTS["lab_jupyterhub_images"]["proxy"]
    assert chp["command"] == [
        "configurable-http-proxy",
        "--ip=",
        "--api-ip=",
        "--api-port=8001",
        "--default-target=http://hub:8081",
        "--error-target=http://hub:8081/hub/error",
        "--port=8000",
    ]
    public = found[("Service", "proxy-public")]["spec"]
    assert public["type"] == "NodePort"
    assert public["ports"][0]["nodePort"] == setting(variant, "lab_jupyterhub_node_port")
    assert found[("Service", "proxy-api")]["spec"]["ports"][0]["port"] == 8001
    assert found[("Service", "hub")]["spec"]["ports"][0]["port"] == 8081


def test_the_materials_give_the_values_a_z2jh_install_would_use(rendered):
    variant, out = rendered
    values = yaml.safe_load((out / "materials/config.yaml").read_text())
    assert values["proxy"]["service"] == {
        "type": "NodePort",
        "nodePorts": {"http": setting(variant, "lab_jupyterhub_node_port")},
    }
    assert values["hub"]["config"]["Authenticator"]["allowed_users"] == list(PASSWORDS)
    assert values["singleuser"]["storage"]["type"] == "dynamic"
    named = setting(variant, "lab_jupyterhub_storage_class")
    assert values["singleuser"]["storage"].get("dynamic", {}).get("storageClass", "") == named
    readme = (out / "materials/README.md").read_text()
    assert f"-n {setting(variant, 'lab_jupyterhub_namespace')} get pvc" in readme
    assert "rook-block" in (out / "materials/CHANGES.md").read_text()


def test_the_plug_in_declaration():
    lab = yaml.safe_load((ROLE / "meta/lab.yml").read_text())
    assert lab["name"] == "jupyterhub" and ROLE.name == f"lab_{lab['name']}"
    assert {w["name"] for w in lab["workloads"]} == {"hub", "proxy"}
    assert lab["links"][0]["port"] == "{{ lab_jupyterhub_node_port }}"
    assert lab["verify"] == {
        "result": "lab_jupyterhub_verify_result",
        "figure": {"key": "spawn_seconds", "text": lab["verify"]["figure"]["text"]},
    }
    assert "{}" in lab["verify"]["figure"]["text"]


# -- bad input -------------------------------------------------------------------


@pytest.fixture
def run_role(tmp_path):
    """The role on localhost with a kubeconfig that does not exist: a check that
    passed would fail on the cluster, so only a refusal in the checks is seen."""

    def play(extra_vars: dict) -> tuple[int, str]:
        extra = {
            "lab_jupyterhub_kubeconfig": str(tmp_path / "missing.conf"),
            "atelier_cluster_name": "demo-c01",
            "atelier_learners": [{"name": "learner01"}],
            "lab_jupyterhub_materials": False,
            **extra_vars,
        }
        rc, output = role_on_localhost(tmp_path, "lab_jupyterhub", extra)
        return rc, " ".join(output.split())

    return play


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (
            {"lab_jupyterhub_memory_guarantee": "2Gi", "lab_jupyterhub_memory_limit": "1Gi"},
            "lab_jupyterhub_memory_limit '1Gi' must be a memory quantity at least"
            " lab_jupyterhub_memory_guarantee '2Gi'",
        ),
        (
            {"lab_jupyterhub_memory_limit": "lots"},
            "lab_jupyterhub_memory_limit 'lots' must be a memory quantity",
        ),
        (
            {"lab_jupyterhub_node_port": 8080},
            "lab_jupyterhub_node_port 8080 is outside the NodePort range",
        ),
        (
            {"lab_jupyterhub_admin_user": "learner01"},
            "lab_jupyterhub_admin_user 'learner01' must be a user name",
        ),
        (
            {"lab_jupyterhub_namespace": "JupyterHub"},
            "lab_jupyterhub_namespace 'JupyterHub' is not a namespace",
        ),
        ({"atelier_learners": []}, "lab_jupyterhub_learners is empty"),
        ({"lab_jupyterhub_state": "gone"}, "lab_jupyterhub_state"),
    ],
)
def test_bad_input_is_refused_naming_the_variable(run_role, extra, says):
    rc, output = run_role(extra)
    assert rc != 0
    assert says in output, output[-2000:]
    assert "missing.conf" not in output
