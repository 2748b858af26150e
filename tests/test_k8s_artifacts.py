"""Kubernetes binaries built from Go modules (scripts/build-k8s-artifacts.sh):
the pinned version, and `kubeadm config validate` working offline.

The first run builds kubeadm (several minutes on 2 cores); later runs reuse the
cache under $ATELIER_CACHE/k8s/."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, ansible_env, run

pytestmark = pytest.mark.artifacts

SCRIPT = "scripts/build-k8s-artifacts.sh"
VERSIONS = ROOT / "tools/k8s-build/versions.env"

# A dead proxy on loopback: anything kubeadm tried to fetch (dl.k8s.io for a
# version label) would fail at once instead of leaving the machine.
OFFLINE = {
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "",
    "no_proxy": "",
}


def pinned_version(name: str = "KUBERNETES_VERSION") -> str:
    match = re.search(rf"^{name}=(\S+)$", VERSIONS.read_text(), re.M)
    assert match, f"{VERSIONS} has no {name}"
    return f"v{match.group(1)}"


def cluster_config(version: str, networking: str, extra: str = "") -> str:
    return f"""\
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 10.0.0.10
  bindPort: 6443
nodeRegistration:
  name: c01-n1
  criSocket: unix:///run/containerd/containerd.sock
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: {version}
clusterName: c01
controlPlaneEndpoint: 10.0.0.10:6443
networking:
{networking}{extra}"""


GOOD_NETWORKING = """\
  podSubnet: 10.244.0.0/16
  serviceSubnet: 10.96.0.0/12
  dnsDomain: cluster.local
"""


@pytest.fixture(scope="module")
def kubeadm() -> Path:
    # Cold: ~6-10 min on a busy 2-core machine; cached: about a second.
    build = run([SCRIPT, "kubeadm"], timeout=3600)
    assert build.returncode == 0, build.stderr[-4000:]
    assert re.search(r"^kubeadm\s+(cold|cached)\s+\d+", build.stdout, re.M), build.stdout
    bin_dir = Path(run([SCRIPT, "--bin-dir"]).stdout.strip())
    binary = bin_dir / "kubeadm"
    assert binary.is_file()
    assert (bin_dir / "kubeadm.sha256").read_text().split()[1] == "kubeadm"
    return binary


def validate(kubeadm: Path, tmp_path: Path, text: str):
    config = tmp_path / "kubeadm.yaml"
    config.write_text(text)
    return subprocess.run(
        [str(kubeadm), "config", "validate", "--config", str(config)],
        env={**ansible_env(), **OFFLINE},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_kubeadm_reports_the_pinned_version(kubeadm: Path):
    result = run([str(kubeadm), "version", "-o", "short"], timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == pinned_version()


def test_second_run_is_cached():
    result = run([SCRIPT, "kubeadm"], timeout=120)
    assert result.returncode == 0, result.stderr[-4000:]
    assert re.search(r"^kubeadm\s+cached\s+\d+", result.stdout, re.M), result.stdout


def test_validate_accepts_a_good_config_offline(kubeadm: Path, tmp_path: Path):
    result = validate(kubeadm, tmp_path, cluster_config(pinned_version(), GOOD_NETWORKING))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    # An explicit kubernetesVersion means no lookup of a version label on dl.k8s.io.
    assert "from the internet" not in result.stderr


def test_validate_rejects_an_unknown_field(kubeadm: Path, tmp_path: Path):
    typo = GOOD_NETWORKING.replace("podSubnet:", "podSubnets:")
    result = validate(kubeadm, tmp_path, cluster_config(pinned_version(), typo))
    assert result.returncode != 0
    assert 'unknown field "networking.podSubnets"' in result.stderr, result.stderr


def test_validate_rejects_a_pod_subnet_smaller_than_a_node_range(kubeadm: Path, tmp_path: Path):
    # kubeadm does not check that podSubnet and serviceSubnet overlap; it does
    # check that the pod subnet holds at least one node's /24 (IPv4 default).
    small = GOOD_NETWORKING.replace("10.244.0.0/16", "10.244.0.0/25")
    result = validate(kubeadm, tmp_path, cluster_config(pinned_version(), small))
    assert result.returncode != 0
    assert "networking.podSubnet" in result.stderr, result.stderr


def test_validate_rejects_an_unsupported_kubernetes_version(kubeadm: Path, tmp_path: Path):
    result = validate(kubeadm, tmp_path, cluster_config("v1.30.0", GOOD_NETWORKING))
    assert result.returncode != 0
    assert "v1.30.0" in result.stderr, result.stderr


def test_etcd_pin_is_the_one_kubeadm_deploys(kubeadm: Path):
    result = subprocess.run(
        [str(kubeadm), "config", "images", "list", "--kubernetes-version", pinned_version()],
        env={**ansible_env(), **OFFLINE},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    etcd = pinned_version("ETCD_VERSION").removeprefix("v")
    assert re.search(rf"/etcd:{re.escape(etcd)}-\d+$", result.stdout, re.M), result.stdout


def test_etcd_builds_and_reports_its_pin():
    # Cold: about a minute (its own module, tools/k8s-build/etcd); cached: instant.
    build = run([SCRIPT, "etcd"], timeout=1800)
    assert build.returncode == 0, build.stderr[-4000:]
    etcd_tag = pinned_version("ETCD_VERSION")
    assert re.search(rf"^etcd\s+(cold|cached)\s+\d+\s+\d+\s+{etcd_tag}$", build.stdout, re.M)
    binary = Path(run([SCRIPT, "--bin-dir"]).stdout.strip()) / "etcd"
    version = run([str(binary), "--version"], timeout=60)
    assert f"etcd Version: {etcd_tag.removeprefix('v')}" in version.stdout
