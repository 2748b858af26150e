"""kubeadm_cluster refuses bad input before it installs anything: each message
names the field, the bad value and what is allowed. Runs the role on localhost;
its checks come before any change, so nothing on this machine is touched."""

from __future__ import annotations

import textwrap

import pytest
from conftest import run


@pytest.fixture
def run_role(tmp_path):
    def play(extra_vars: dict[str, str]):
        lines = "\n".join(f"{key}: {value}" for key, value in extra_vars.items())
        path = tmp_path / "play.yml"
        path.write_text(
            "- name: Bad input\n  hosts: localhost\n  connection: local\n  gather_facts: true\n"
            "  vars:\n    ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
            "  roles:\n    - role: kubeadm_cluster\n      vars:\n"
            + textwrap.indent(lines, " " * 8)
            + "\n"
        )
        result = run(["ansible-playbook", "-i", "localhost,", str(path)])
        return result.returncode, result.stdout + result.stderr

    return play


def test_node_inside_the_pod_network_is_refused(run_role):
    rc, output = run_role(
        {"kubeadm_cluster_node_address": "10.244.3.7", "kubeadm_cluster_pod_cidr": "10.244.0.0/16"}
    )
    assert rc != 0
    assert "kubeadm_cluster_pod_cidr '10.244.0.0/16'" in output
    assert "'10.244.3.7'" in output
    assert "overlap" in output
    assert "Traceback" not in output


def test_overlapping_pod_and_service_networks_are_refused(run_role):
    rc, output = run_role(
        {
            "kubeadm_cluster_node_address": "192.0.2.10",
            "kubeadm_cluster_pod_cidr": "10.96.0.0/16",
            "kubeadm_cluster_service_cidr": "10.96.0.0/12",
        }
    )
    assert rc != 0
    assert "kubeadm_cluster_service_cidr '10.96.0.0/12'" in output
    assert "Traceback" not in output


def test_release_without_a_pin_is_refused(run_role):
    rc, output = run_role({"kubeadm_cluster_kubernetes_version": "'1.29'"})
    assert rc != 0
    assert "kubeadm_cluster_kubernetes_version: '1.29' is not a pinned release" in output
    assert "1.32, 1.33, 1.34, 1.35" in output


def test_unknown_source_is_refused_by_the_argument_spec(run_role):
    rc, output = run_role({"kubeadm_cluster_source": "snap"})
    assert rc != 0
    assert "kubeadm_cluster_source" in output
    assert "snap" in output
    assert "packages, binaries" in output
    assert "Traceback" not in output
