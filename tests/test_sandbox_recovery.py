"""Recovery on the sandbox cluster, after the main-job tests and on the same
cluster (the session's main_job): no run ends green with a node missing; a
worker whose kubelet belongs to another cluster is reset and joins again; a
re-run makes a lost worker again, joins it and brings back the lab whose
volume was on its disk (then that lab's reset); after the control-plane server
is lost, the rebuild of the cluster alone gives three Ready nodes and every
lab verified, and the learner's card still logs in. The lost machines come
back from the baked node image (docs/node-image.md), which is what makes
these runs affordable in the suite. Stand-ins: the sandbox cloud (real
OpenStack APIs, fake compute driver) and podman containers as the servers'
machines."""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess

import pytest
from conftest import ROOT, run, wait_for
from test_sandbox_main_job import (
    NODES,
    kubectl,
    labs_playbook,
    log_in_with,
    on_node,
    ready_nodes,
    recap,
    status_row,
    the_learners_card,
)

pytestmark = pytest.mark.podman
ALL_READY = dict.fromkeys(NODES, True)
# Outside the cluster's pod network (kubeadm_cluster_pod_cidr) and the
# sandbox network: what another cluster's pod bridge would hold.
STALE_BRIDGE_ADDRESS = "10.99.0.1/24"


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
    # The old cluster's pod bridge keeps that cluster's address, which the CNI
    # plugin would refuse to replace: one planted here must be gone after.
    planted = on_node(elsewhere, "ip", "address", "add", STALE_BRIDGE_ADDRESS, "dev", "cni0")
    assert planted.returncode == 0, planted.stderr

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
    stale = STALE_BRIDGE_ADDRESS.split("/", maxsplit=1)[0]
    assert stale not in on_node(elsewhere, "ip", "-o", "address").stdout
    wait_for(lambda: ready_nodes() == ALL_READY, "3 Ready nodes", timeout=300)
    # Registered again, the Node may have another pod range: the pods of the
    # old one were made anew, none kept an address outside it.
    wait_for(lambda: not stale_pod_addresses(elsewhere), f"no stale pod address on {elsewhere}",
             timeout=300)  # fmt: skip
    # Only that worker was: the others kept their kubelet.
    for other in (NODES[0], NODES[2]):
        assert f"{other} belongs to another cluster" not in output


def stale_pod_addresses(node: str) -> list[str]:
    """The pods on node (not on its host network) whose address is outside
    the node's pod range; ['no pod range'] while it has none."""
    cidr = kubectl("get", "node", node, "--output", "jsonpath={.spec.podCIDR}").stdout.strip()
    if not cidr:
        return ["no pod range"]
    on_node_only = f"spec.nodeName={node}"
    listed = kubectl("get", "pods", "--all-namespaces", "--field-selector", on_node_only,
                     "--output", "json")  # fmt: skip
    pods = json.loads(listed.stdout)["items"]
    return [
        f"{pod['metadata']['name']} {pod['status']['podIP']} (range {cidr})"
        for pod in pods
        if not pod["spec"].get("hostNetwork")
        and pod["status"].get("podIP")
        and ipaddress.ip_address(pod["status"]["podIP"]) not in ipaddress.ip_network(cidr)
    ]


def volume_of(claim: str, namespace: str) -> tuple[str, str]:
    """A bound claim's volume and the node it lives on (local-path's node affinity)."""
    volume = kubectl("--namespace", namespace, "get", "persistentvolumeclaim", claim,
                     "--output", "jsonpath={.spec.volumeName}").stdout.strip()  # fmt: skip
    node = kubectl("get", "persistentvolume", volume, "--output",
                   "jsonpath={.spec.nodeAffinity.required.nodeSelectorTerms[0]"
                   ".matchExpressions[0].values[0]}").stdout.strip()  # fmt: skip
    return volume, node


def test_a_rerun_brings_back_a_lost_worker_and_the_lab_whose_volume_it_held(main_job):
    """The worker that holds the JupyterHub database's volume loses its
    machine with its disk (its container and containerd volume removed, as a
    VM deleted): a re-run of every stage but verify starts it again from the
    baked image and joins it, 3 Ready nodes. Its old Node goes first, with the
    volume that lived on its disk: the hub gets a new claim and is Ready again
    (on the old volume's folder, made anew by the kubelet as root's, it failed
    to open its database)."""
    if not volume_of("hub-db-dir", "jupyterhub")[0]:  # the lab reset (run alone, this test)
        applied = labs_playbook("--tags", "jupyterhub")
        assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr[-3000:]
    hub_volume, lost = volume_of("hub-db-dir", "jupyterhub")
    assert lost in NODES[1:], f"hub-db-dir's volume {hub_volume} is on {lost!r}, not on a worker"
    subprocess.run([str(ROOT / "scripts/sandbox-nodes.sh"), "remove", lost], check=True)
    rerun = run(["scripts/run.sh", "inventories/sandbox", "--skip-tags", "verify"], timeout=2400)
    output = words(rerun.stdout + rerun.stderr)
    assert rerun.returncode == 0, output[-4000:]
    assert ready_nodes() == ALL_READY
    # A new machine: prepared and joined by this run, not reset as one bound elsewhere.
    assert f"{lost} belongs to another cluster" not in output
    assert recap(rerun.stdout)[lost]["changed"] > 0
    # With the hub's, any other volume of that disk (a learner's, when their
    # server ran there), in name order.
    assert re.search(
        rf"{lost} was made anew: the data of [^(]*\b{hub_volume}\b[^(]*"
        r" \(claims [^)]*\bhub-db-dir\b[^)]*\) was on its old disk",
        output,
    ), output[-4000:]
    # The labs stage waited for the hub to be Ready; it is, on a new volume.
    assert volume_of("hub-db-dir", "jupyterhub")[0] not in ("", hub_volume)
    ready = kubectl("--namespace", "jupyterhub", "get", "deployment", "hub",
                    "--output", "jsonpath={.status.readyReplicas}").stdout.strip()  # fmt: skip
    assert ready == "1"


# The lab's reset here, not among the main job's labs: the lost worker's
# test above needs the hub's volume, and the rebuild below makes every lab
# again.
def test_the_jupyterhub_reset_removes_its_namespace_and_keeps_the_storage(main_job):
    absent = ["--tags", "jupyterhub", "-e", "lab_jupyterhub_state=absent"]
    reset = labs_playbook(*absent)
    assert reset.returncode == 0, reset.stdout[-3000:] + reset.stderr[-3000:]
    assert kubectl("get", "namespace", "jupyterhub").returncode != 0
    volumes = kubectl("get", "pv", "-o", "jsonpath={.items[*].spec.claimRef.namespace}")
    assert "jupyterhub" not in volumes.stdout.split(), volumes.stdout
    assert kubectl("get", "storageclass", "local-path").returncode == 0


def test_the_rebuild_gives_three_ready_nodes_every_lab_verified_and_the_same_card(main_job):
    """The control-plane server lost with its disk; the rebuild of the cluster
    alone (scripts/rebuild.sh) makes all its servers anew, through verify."""
    card = the_learners_card()
    subprocess.run([str(ROOT / "scripts/sandbox-nodes.sh"), "remove", NODES[0]], check=True)
    rebuilt = run(
        ["scripts/rebuild.sh", "sandbox-c01", "-e", "rebuild_confirmed=true"], timeout=2400
    )
    output = words(rebuilt.stdout + rebuilt.stderr)
    assert rebuilt.returncode == 0, output[-4000:]
    assert f"Deleted the servers of sandbox-c01: {', '.join(NODES)}" in output
    assert "4/4 cluster labs passed" in output
    assert ready_nodes() == ALL_READY
    assert status_row() == [
        "sandbox-c01",
        "3/3",
        "3/3",
        "autoscaling:ok",
        "scheduling:ok",
        "spark:ok",
        "jupyterhub:ok",
        "1/1",
        "yes",
    ]
    assert the_learners_card() == card
    login = log_in_with(card)
    assert login.returncode == 0, login.stderr
    assert login.stdout.split() == ["learner01", *(f"node/{node}" for node in NODES)]
