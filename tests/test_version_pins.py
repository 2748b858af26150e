"""Each layer pins its versions in one place; where two layers must agree, a
test says so. The sandbox builds the Kubernetes release that kubeadm_cluster
pins for the same minor, or its nodes would install a release no role asked for."""

from __future__ import annotations

import re

import yaml
from conftest import ROOT


def test_sandbox_binaries_are_the_release_kubeadm_cluster_pins():
    env = (ROOT / "tools/k8s-build/versions.env").read_text()
    built = re.search(r"^KUBERNETES_VERSION=(\d+\.\d+\.\d+)$", env, re.M).group(1)
    minor = built.rsplit(".", 1)[0]
    defaults = yaml.safe_load((ROOT / "roles/kubeadm_cluster/defaults/main.yml").read_text())
    assert defaults["kubeadm_cluster_releases"][minor]["version"] == built


def test_cohort_minors_all_have_a_pinned_patch_release():
    schema = (
        ROOT / "collections/ansible_collections/atelier/kube/plugins/module_utils/cohort_schema.py"
    ).read_text()
    minors = re.search(r"KUBERNETES_MINORS = \(([^)]*)\)", schema).group(1)
    allowed = set(re.findall(r'"(1\.\d+)"', minors))
    defaults = yaml.safe_load((ROOT / "roles/kubeadm_cluster/defaults/main.yml").read_text())
    assert allowed == set(defaults["kubeadm_cluster_releases"])


def test_containerd_sandbox_image_is_the_pause_kubeadm_expects():
    kubeadm = yaml.safe_load((ROOT / "roles/kubeadm_cluster/defaults/main.yml").read_text())
    runtime = yaml.safe_load((ROOT / "roles/container_runtime/defaults/main.yml").read_text())
    version = kubeadm["kubeadm_cluster_kubernetes_version"]
    default_minor = re.search(r"default\('(1\.\d+)'\)", version).group(1)
    pause = kubeadm["kubeadm_cluster_releases"][default_minor]["pause"]
    assert runtime["container_runtime_sandbox_image"] == f"registry.k8s.io/pause:{pause}"
