"""The lab_scheduling role's manifests, rendered by Ansible from the role's
templates and variables, against the OpenAPI schemas of every Kubernetes
release the project supports (kubernetes-validate --strict), and what the lab
needs of them: the KubeSchedulerConfiguration, the two containers and their
probes, a scheduler's RBAC and never cluster-admin, the extender's code, the
test pod. Also: bad input is refused before anything is applied, naming the
variable."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml
from conftest import RELEASES, ROOT, render_on_localhost, role_on_localhost, validation_problems

ROLE = ROOT / "roles/lab_scheduling"
MANIFESTS = [
    m["file"]
    for m in yaml.safe_load((ROLE / "vars/main.yml").read_text())["lab_scheduling_manifests"]
]
SCHEDULER = "registry.k8s.io/kube-scheduler:v1.34.4"

# Variants: the defaults, and every variable that changes a manifest.
VARIANTS = {
    "defaults": {},
    "mirror": {
        "lab_scheduling_images": {
            "extender": "mirror.example/python:3.12-slim",
            "podpi": "mirror.example/perl:5.40",
        },
        "lab_scheduling_temperature_annotation": "example.com/celsius",
        "lab_scheduling_image_pull_policy": "Always",
        "lab_scheduling_podpi_digits": 500,
    },
}

RENDER_PLAYBOOK = """
- name: Render the lab_scheduling manifests
  hosts: localhost
  connection: local
  gather_facts: false
  vars_files:
    - {role}/defaults/main.yml
    - {role}/vars/main.yml
  tasks:
    - name: Create the folder
      ansible.builtin.file:
        path: "{{{{ out }}}}/deployments"
        state: directory
        mode: "0755"
    - name: Render each file
      ansible.builtin.template:
        src: "{role}/templates/heat-scheduler/{{{{ item }}}}.j2"
        dest: "{{{{ out }}}}/{{{{ item }}}}"
        mode: "0644"
      loop: "{{{{ lab_scheduling_manifests | map(attribute='file') | list + ['CHANGES.md'] }}}}"
"""


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def rendered(request, tmp_path_factory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp(request.param)
    extra = {
        "out": str(out / "heat-scheduler"),
        "role_path": str(ROLE),
        "lab_scheduling_scheduler_ref": SCHEDULER,
        **VARIANTS[request.param],
    }
    render_on_localhost(out, RENDER_PLAYBOOK.format(role=ROLE), extra)
    return request.param, out / "heat-scheduler"


def docs(folder: Path, name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((folder / name).read_text()) if d]


def by_kind(folder: Path) -> dict[tuple[str, str], dict]:
    return {(d["kind"], d["metadata"]["name"]): d for name in MANIFESTS for d in docs(folder, name)}


@pytest.mark.parametrize("release", RELEASES)
def test_every_manifest_is_valid_for_every_supported_release(rendered, release):
    _, folder = rendered
    files = [str(folder / name) for name in MANIFESTS]
    problems = validation_problems(files, release)
    assert problems == "", problems


def test_every_object_carries_the_lab_label_and_a_current_api(rendered):
    _, folder = rendered
    for name in MANIFESTS:
        for doc in docs(folder, name):
            assert doc["metadata"]["labels"]["kube-atelier.io/lab"] == "scheduling", name
            assert doc["apiVersion"] in {"v1", "apps/v1", "rbac.authorization.k8s.io/v1"}, name
        assert (folder / name).read_text().startswith("# RyaxTech/heat-scheduler for Kubernetes")


def test_the_scheduler_configuration(rendered):
    _, folder = rendered
    (cm,) = docs(folder, "deployments/scheduler-policy-config.yaml")
    assert (cm["kind"], cm["metadata"]["namespace"]) == ("ConfigMap", "kube-system")
    assert cm["metadata"]["name"] == "scheduler-config"  # the original's name
    config = yaml.safe_load(cm["data"]["config.yaml"])
    assert config == {
        "apiVersion": "kubescheduler.config.k8s.io/v1",
        "kind": "KubeSchedulerConfiguration",
        "leaderElection": {"leaderElect": False},
        "profiles": [{"schedulerName": "heat-scheduler"}],
        "extenders": [
            {
                "urlPrefix": "http://127.0.0.1:8100",
                "filterVerb": "filter",
                "enableHTTPS": False,
                "nodeCacheCapable": False,
            }
        ],
    }


def test_the_scheduler_deployment(rendered):
    variant, folder = rendered
    objects = by_kind(folder)
    dep = objects[("Deployment", "heat-scheduler")]
    assert dep["metadata"]["namespace"] == "kube-system"
    assert dep["spec"]["replicas"] == 1
    assert dep["spec"]["strategy"] == {"type": "Recreate"}
    pod = dep["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "heat-scheduler"
    assert pod["securityContext"]["runAsNonRoot"] is True
    scheduler, extender = pod["containers"]
    assert scheduler["name"] == "heat-scheduler"  # kubectl logs -c names the slides use
    assert extender["name"] == "extender"
    assert scheduler["image"] == SCHEDULER
    assert scheduler["command"][:2] == [
        "kube-scheduler",
        "--config=/etc/kubernetes/heat-scheduler/config.yaml",
    ]
    mounts = {m["name"]: m["mountPath"] for m in scheduler["volumeMounts"]}
    assert mounts == {"config": "/etc/kubernetes/heat-scheduler"}
    for probe in ("livenessProbe", "readinessProbe"):
        assert scheduler[probe]["httpGet"] == {"path": "/healthz", "port": 10259, "scheme": "HTTPS"}
    volumes = {v["name"]: v["configMap"]["name"] for v in pod["volumes"]}
    assert volumes == {"config": "scheduler-config", "extender": "heat-scheduler-extender"}

    annotation = "nerdalize/temp" if variant == "defaults" else "example.com/celsius"
    assert extender["command"] == [
        "python3",
        "-u",
        "/opt/heat-extender/heat_extender.py",
        "--host=127.0.0.1",
        "--port=8100",
        f"--annotation={annotation}",
    ]
    for probe in ("livenessProbe", "readinessProbe"):
        assert "http://127.0.0.1:8100/healthz" in extender[probe]["exec"]["command"][-1]
    images = yaml.safe_load((ROLE / "defaults/main.yml").read_text())["lab_scheduling_images"]
    images = VARIANTS[variant].get("lab_scheduling_images", images)
    assert extender["image"] == images["extender"]
    policy = VARIANTS[variant].get("lab_scheduling_image_pull_policy", "IfNotPresent")
    assert {c["imagePullPolicy"] for c in pod["containers"]} == {policy}

    code = (ROLE / "files/heat_extender.py").read_text()
    shipped = objects[("ConfigMap", "heat-scheduler-extender")]["data"]["heat_extender.py"]
    assert shipped.rstrip("\n") == code.rstrip("\n")
    config = objects[("ConfigMap", "scheduler-config")]["data"]["config.yaml"]
    digest = dep["spec"]["template"]["metadata"]["annotations"]["kube-atelier.io/config-sha256"]
    assert digest == hashlib.sha256((config + code.rstrip("\n")).encode()).hexdigest()


def test_least_rights_never_cluster_admin(rendered):
    _, folder = rendered
    objects = by_kind(folder)
    bindings = {
        (d["kind"], d["roleRef"]["kind"], d["roleRef"]["name"]): d
        for d in objects.values()
        if d["kind"].endswith("Binding")
    }
    assert set(bindings) == {
        ("ClusterRoleBinding", "ClusterRole", "system:kube-scheduler"),
        ("ClusterRoleBinding", "ClusterRole", "system:volume-scheduler"),
        ("RoleBinding", "Role", "extension-apiserver-authentication-reader"),
    }
    for binding in bindings.values():
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "heat-scheduler", "namespace": "kube-system"}
        ]
    reader = bindings[("RoleBinding", "Role", "extension-apiserver-authentication-reader")]
    assert reader["metadata"]["namespace"] == "kube-system"
    assert ("ServiceAccount", "heat-scheduler") in objects
    assert not any(k in {"ClusterRole", "Role"} for k, _ in objects)  # only built-in roles
    assert "cluster-admin" not in json.dumps(list(objects.values()))


def test_the_test_pod(rendered):
    variant, folder = rendered
    (pod,) = docs(folder, "deployments/podpi.yaml")
    assert pod["metadata"]["name"] == "podpi9"
    assert "namespace" not in pod["metadata"]  # the learner's own namespace
    spec = pod["spec"]
    assert spec["schedulerName"] == "heat-scheduler"
    assert spec["restartPolicy"] == "Never"
    (container,) = spec["containers"]
    digits = VARIANTS[variant].get("lab_scheduling_podpi_digits", 1000)
    assert container["command"] == ["perl", "-Mbignum=bpi", "-wle", f"print bpi({digits})"]
    assert container["resources"] == {"limits": {"cpu": "1", "memory": "100Mi"}}
    if variant == "defaults":
        assert container["image"] == "docker.io/library/perl:5.36-slim-bookworm"


def test_changes_name_what_changed(rendered):
    variant, folder = rendered
    changes = (folder / "CHANGES.md").read_text()
    for needle in ("Policy API", "10259", "apps/v1beta2", "cluster-admin", SCHEDULER, "Chose node"):
        assert needle in changes
    annotation = "nerdalize/temp" if variant == "defaults" else "example.com/celsius"
    assert f"kubectl annotate nodes --all {annotation}-" in changes


def test_the_plug_in_declaration():
    lab = yaml.safe_load((ROLE / "meta/lab.yml").read_text())
    assert lab["name"] == "scheduling"
    assert ROLE.name == f"lab_{lab['name']}"
    assert lab["workloads"] == [
        {"kind": "Deployment", "namespace": "kube-system", "name": "heat-scheduler"}
    ]
    assert lab["verify"]["result"] == "lab_scheduling_verify_result"
    assert lab["verify"]["figure"]["key"] == "placed_on"
    assert "{}" in lab["verify"]["figure"]["text"]
    verify = (ROLE / "tasks/verify.yml").read_text()
    assert "lab_scheduling_verify_result" in verify
    assert "ansible.builtin.copy" not in verify  # the caller records the result


# -- bad input -------------------------------------------------------------------


@pytest.fixture
def run_role(tmp_path):
    """The role on localhost with a kubeconfig that does not exist: a check that
    passed would fail on the cluster, so only a refusal in the checks is seen."""

    def play(extra_vars: dict) -> tuple[int, str]:
        extra = {"lab_scheduling_kubeconfig": str(tmp_path / "missing.conf"), **extra_vars}
        return role_on_localhost(tmp_path, "lab_scheduling", extra)

    return play


def test_an_unknown_state_is_refused(run_role):
    rc, output = run_role({"lab_scheduling_state": "gone"})
    assert rc != 0
    assert "lab_scheduling_state" in output
    assert "present, absent" in output
    assert "missing.conf" not in output


@pytest.mark.parametrize(
    "key", ["nerdalize temp", "Nerdalize.IO/temp", "nerdalize/", "/temp", "a/b/c", "x" * 64]
)
def test_an_invalid_annotation_key_is_refused(run_role, key):
    rc, output = run_role({"lab_scheduling_temperature_annotation": key})
    assert rc != 0
    assert f"lab_scheduling_temperature_annotation '{key}' is not a valid annotation key" in output
    assert "missing.conf" not in output


def test_materials_only_needs_the_scheduler_image(run_role):
    rc, output = run_role({"lab_scheduling_apply": False})
    assert rc != 0
    assert "set lab_scheduling_scheduler_image" in output
