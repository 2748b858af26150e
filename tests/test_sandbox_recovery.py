"""Recovery on the sandbox cluster, after the main-job tests and on the same
cluster (the session's main_job): no run ends green with a node missing, and
a worker whose kubelet belongs to another cluster is reset and joins again.
A lost worker made again and the rebuild after the control-plane node is lost
each bring nodes up from nothing, which the suite's budget cannot hold yet:
scripts/bench/sandbox_cluster_bench.sh runs and checks them. Stand-ins: the
sandbox cloud (real OpenStack APIs, fake compute driver) and podman
containers as the servers' machines."""

from __future__ import annotations

import re

import pytest
from conftest import run, wait_for
from test_sandbox_main_job import NODES, kubectl, on_node, ready_nodes

pytestmark = pytest.mark.podman
ALL_READY = dict.fromkeys(NODES, True)


def words(output: str) -> str:
    """The output with every run of whitespace made one space (the result
    callback folds long messages over lines)."""
    return " ".join(output.split())


def test_a_run_with_a_node_missing_fails_naming_it(main_job):
    """A worker whose kubelet is not registered (stopped, its Node deleted: as
    one that never joined): `kubectl wait --all` is content with the other two,
    the membership check is not."""
    on_node(NODES[2], "systemctl", "stop", "kubelet")
    try:
        assert kubectl("delete", "node", NODES[2]).returncode == 0
        cni = run(["scripts/run.sh", "inventories/sandbox", "--tags", "cni",
                   "-e", "cni_membership_timeout=10"], timeout=900)  # fmt: skip
        output = words(cni.stdout + cni.stderr)
        assert cni.returncode != 0, output[-3000:]
        assert (
            f"{NODES[0]}'s cluster lacks 1 node(s): {NODES[2]}: not a node of this cluster"
        ) in output, output[-3000:]
    finally:
        on_node(NODES[2], "systemctl", "start", "kubelet")
    wait_for(lambda: ready_nodes() == ALL_READY, "the worker registered again", timeout=300)


def test_a_worker_bound_to_another_cluster_is_reset_and_joins_again(main_job):
    """A worker whose kubelet talks to another API endpoint (its kubelet.conf
    pointed at the worker's own loopback, as after its control plane was made
    anew elsewhere): the Kubernetes roles alone (--tags kubeadm_cluster,cni)
    reset it and join it again, saying why; 3 Ready nodes."""
    elsewhere = NODES[1]
    conf = "/etc/kubernetes/kubelet.conf"
    pointed = on_node(elsewhere, "sed", "-i", "-E",
                      r"s#(server: https://)[^:]+(:[0-9]+)#\1127.0.0.1\2#", conf)  # fmt: skip
    assert pointed.returncode == 0, pointed.stderr
    assert "server: https://127.0.0.1:" in on_node(elsewhere, "cat", conf).stdout
    on_node(elsewhere, "systemctl", "restart", "kubelet")

    rerun = run(["scripts/run.sh", "inventories/sandbox", "--tags", "kubeadm_cluster,cni"],
                timeout=1800)  # fmt: skip
    output = words(rerun.stdout + rerun.stderr)
    assert rerun.returncode == 0, output[-4000:]
    assert re.search(
        rf"{elsewhere} belongs to another cluster \(its kubelet talks to https://127\.0\.0\.1:6443,"
        r" the control plane is https://[0-9.]+:6443\): reset, joining again",
        output,
    ), output[-4000:]
    assert "server: https://127.0.0.1:" not in on_node(elsewhere, "cat", conf).stdout
    wait_for(lambda: ready_nodes() == ALL_READY, "3 Ready nodes", timeout=300)
    # Only that worker was: the others kept their kubelet.
    for other in (NODES[0], NODES[2]):
        assert f"{other} belongs to another cluster" not in output
