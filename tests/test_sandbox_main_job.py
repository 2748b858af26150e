"""The README's main job on the local sandbox: scripts/run.sh starts the sandbox
cloud (real OpenStack APIs, fake compute driver) and three podman nodes (a
stand-in for the servers: real systemd, apt and networking, the host's kernel),
then runs playbooks/site.yml: provisioning on the sandbox cloud, then the node
and Kubernetes stages on the containers, through the offline sources (binaries
built from Go modules, Debian's containerd, Go and hey). No cluster is created
there yet (kubeadm_cluster_bootstrap: false). No address the cloud invents is
ever contacted."""

from __future__ import annotations

import re
import subprocess

import pytest
from conftest import ROOT, run

pytestmark = pytest.mark.podman
NODES = ["sandbox-c01-n1", "sandbox-c01-n2", "sandbox-c01-n3"]
ADDRESS_FORMAT = "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"


@pytest.fixture(scope="module")
def main_job():
    result = run(["scripts/run.sh"], timeout=1800)
    yield result
    run(["ansible-playbook", "-i", "inventories/sandbox", "playbooks/teardown.yml",
         "-e", "teardown_confirmed=true"])  # fmt: skip
    subprocess.run([str(ROOT / "scripts/sandbox-nodes.sh"), "down"], check=False)


def recap(output: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP counters per host."""
    counters = {}
    for host, fields in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", output, re.M):
        counters[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", fields)}
    return counters


def test_main_job_succeeds_on_every_node(main_job):
    assert main_job.returncode == 0, main_job.stdout[-3000:] + main_job.stderr[-3000:]
    counters = recap(main_job.stdout)
    assert sorted(counters) == ["localhost", *NODES]
    assert all(c["failed"] == 0 and c["unreachable"] == 0 for c in counters.values())


def test_main_job_provisioned_the_sandbox_servers(main_job):
    assert "TASK [openstack_cohort : Create the servers, all at once]" in main_job.stdout


def test_main_job_says_what_it_could_not_apply(main_job):
    assert "Not applied in this container" in main_job.stdout


@pytest.mark.parametrize("node", NODES)
def test_every_node_resolves_the_whole_cluster(main_job, node):
    addresses = {}
    for peer in NODES:
        address = subprocess.run(
            ["podman", "inspect", "-f", ADDRESS_FORMAT, peer],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        addresses[peer] = address
    for peer, address in addresses.items():
        resolved = subprocess.run(
            ["podman", "exec", node, "getent", "-s", "files", "hosts", peer],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        assert resolved[0] == address, f"{node} resolves {peer} to {resolved}, expected {address}"


@pytest.mark.parametrize("node", NODES)
def test_every_node_has_the_pinned_kubernetes_binaries_and_containerd(main_job, node):
    version = subprocess.run(
        ["podman", "exec", node, "kubeadm", "version", "-o", "short"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert version == "v1.34.4"
    containerd = subprocess.run(
        ["podman", "exec", node, "systemctl", "is-active", "containerd"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    assert containerd == "active"


def test_control_plane_config_was_validated_by_kubeadm(main_job):
    assert "TASK [kubeadm_cluster : Validate it with the pinned kubeadm]" in main_job.stdout
    config = subprocess.run(
        ["podman", "exec", NODES[0], "cat", "/etc/kubernetes/kubeadm-config.yaml"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "kubernetesVersion: v1.34.4" in config
    assert "podSubnet: 10.244.0.0/16" in config


def test_login_host_has_hey_and_go(main_job):
    for command in (["hey", "-h"], ["go", "version"]):
        result = subprocess.run(
            ["podman", "exec", NODES[0], *command], capture_output=True, text=True, check=False
        )
        assert result.returncode in (0, 2), result.stderr  # hey -h exits 2 after the usage
