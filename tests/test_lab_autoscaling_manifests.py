"""The lab_autoscaling role's manifests, rendered by Ansible from the role's
templates and variables, against the OpenAPI schemas of every Kubernetes
release the project supports (kubernetes-validate --strict), and what the lab
needs of them (NodePorts, requests, API versions, images)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import RELEASES, ROOT, render_on_localhost, validation_problems

ROLE = ROOT / "roles/lab_autoscaling"
MANIFESTS = [
    m["file"]
    for m in yaml.safe_load((ROLE / "vars/main.yml").read_text())["lab_autoscaling_manifests"]
]

# Variants: the defaults, and every switch that changes a manifest.
VARIANTS = {
    "defaults": {},
    "classroom": {
        "lab_autoscaling_hpa_behavior": {
            "scaleDown": {
                "stabilizationWindowSeconds": 60,
                "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
            },
            "scaleUp": {"stabilizationWindowSeconds": 0},
        },
        "lab_autoscaling_metric_resolution": "12s",
        "lab_autoscaling_kubelet_insecure_tls": False,
    },
}

RENDER_PLAYBOOK = """
- name: Render the lab_autoscaling manifests
  hosts: localhost
  connection: local
  gather_facts: false
  vars_files:
    - {role}/defaults/main.yml
    - {role}/vars/main.yml
  tasks:
    - name: Create the folders
      ansible.builtin.file:
        path: "{{{{ out }}}}/{{{{ item.file | dirname }}}}"
        state: directory
        mode: "0755"
      loop: "{{{{ lab_autoscaling_manifests }}}}"
    - name: Render each manifest
      ansible.builtin.template:
        src: "{role}/templates/k8s-prom-hpa/{{{{ item.file }}}}.j2"
        dest: "{{{{ out }}}}/{{{{ item.file }}}}"
        mode: "0644"
      loop: "{{{{ lab_autoscaling_manifests }}}}"
"""


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def rendered(request, tmp_path_factory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp(request.param)
    render_on_localhost(
        out,
        RENDER_PLAYBOOK.format(role=ROLE),
        {"out": str(out / "k8s-prom-hpa"), **VARIANTS[request.param]},
    )
    return request.param, out / "k8s-prom-hpa"


def docs(folder: Path, name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((folder / name).read_text()) if d]


@pytest.mark.parametrize("release", RELEASES)
def test_every_manifest_is_valid_for_every_supported_release(rendered, release):
    _, folder = rendered
    files = [str(folder / name) for name in MANIFESTS]
    problems = validation_problems(files, release)
    assert problems == "", problems


def test_every_object_carries_the_lab_label_and_a_current_api(rendered):
    _, folder = rendered
    removed = {
        "rbac.authorization.k8s.io/v1beta1",
        "apiregistration.k8s.io/v1beta1",
        "autoscaling/v2beta2",
        "autoscaling/v2beta1",
        "extensions/v1beta1",
    }
    for name in MANIFESTS:
        for doc in docs(folder, name):
            assert doc["metadata"]["labels"]["kube-atelier.io/lab"] == "autoscaling", name
            assert doc["apiVersion"] not in removed, name


def test_what_the_slides_rely_on(rendered):
    variant, folder = rendered
    podinfo_svc = docs(folder, "podinfo/podinfo-svc.yaml")[0]
    assert podinfo_svc["spec"]["type"] == "NodePort"
    assert podinfo_svc["spec"]["ports"][0]["nodePort"] == 31198
    prometheus_svc = docs(folder, "prometheus/prometheus-svc.yaml")[0]
    assert prometheus_svc["metadata"]["namespace"] == "monitoring"
    assert prometheus_svc["spec"]["ports"][0]["nodePort"] == 31190

    dep = docs(folder, "podinfo/podinfo-dep.yaml")[0]
    pod = dep["spec"]["template"]
    assert pod["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    container = pod["spec"]["containers"][0]
    assert container["resources"]["requests"]["cpu"] == "3m"
    assert container["resources"]["limits"]["cpu"] == "100m"
    assert container["command"][:2] == ["./podinfo", "--port=9898"]
    assert container["image"] == "ghcr.io/stefanprodan/podinfo:6.9.2"

    hpa = docs(folder, "podinfo/podinfo-hpa.yaml")[0]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 10)
    targets = {m["resource"]["name"]: m["resource"]["target"] for m in hpa["spec"]["metrics"]}
    assert targets["cpu"] == {"type": "Utilization", "averageUtilization": 80}
    assert targets["memory"] == {"type": "AverageValue", "averageValue": "200Mi"}
    custom = docs(folder, "podinfo/podinfo-hpa-custom.yaml")[0]
    assert (custom["spec"]["minReplicas"], custom["spec"]["maxReplicas"]) == (2, 10)
    assert custom["spec"]["metrics"][0]["pods"]["metric"]["name"] == "http_requests"

    prom = docs(folder, "prometheus/prometheus-dep.yaml")[0]["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert "--storage.tsdb.retention.time=1h" in prom["args"]
    adapter_cfg = yaml.safe_load(
        docs(folder, "custom-metrics-api/custom-metrics-config-map.yaml")[0]["data"]["config.yaml"]
    )
    assert any(rule["name"].get("matches") == "^(.*)_total$" for rule in adapter_cfg["rules"])
    apiservices = [
        d["metadata"]["name"]
        for d in docs(folder, "custom-metrics-api/custom-metrics-apiservice.yaml")
    ]
    assert "v1beta1.custom.metrics.k8s.io" in apiservices
    assert "v1beta1.metrics.k8s.io" not in apiservices  # never replace metrics-server

    ms = docs(folder, "metrics-server/metrics-server-deployment.yaml")[1]["spec"]["template"][
        "spec"
    ]["containers"][0]
    if variant == "defaults":
        assert "--kubelet-insecure-tls" in ms["args"]
        assert "--metric-resolution=15s" in ms["args"]
        assert "behavior" not in hpa["spec"]
    else:
        assert "--kubelet-insecure-tls" not in ms["args"]
        assert "--metric-resolution=12s" in ms["args"]
        assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 60
        assert custom["spec"]["behavior"] == hpa["spec"]["behavior"]
