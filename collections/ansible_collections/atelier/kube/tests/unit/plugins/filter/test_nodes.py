"""No green run with a node missing: which inventory hosts are not Ready nodes
of their cluster, and why a worker's kubelet belongs to another cluster."""

from __future__ import annotations

import base64
import json

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.atelier.kube.plugins.filter.nodes import (
    kubelet_cluster_differences,
    node_problems,
    volumes_on_node,
)

CA_A = "-----BEGIN CERTIFICATE-----\nMIIBcluster-a\n-----END CERTIFICATE-----\n"
CA_B = "-----BEGIN CERTIFICATE-----\nMIIBcluster-b\n-----END CERTIFICATE-----\n"


def node(name: str, status: str | None = "True", reason: str = "", message: str = "") -> dict:
    conditions = [
        {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory"}
    ]
    if status is not None:
        conditions.append({"type": "Ready", "status": status, "reason": reason, "message": message})
    return {"kind": "Node", "metadata": {"name": name}, "status": {"conditions": conditions}}


def kubeconfig(server: str, ca: str) -> str:
    data = base64.b64encode(ca.encode()).decode()
    return (
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n"
        f"    certificate-authority-data: {data}\n    server: {server}\n  name: ''\n"
        "contexts: []\nusers: []\n"
    )


HOSTS = ["demo-c01-n1", "demo-c01-n2", "demo-c01-n3"]


def test_a_cluster_whose_every_host_is_a_ready_node_has_no_problem():
    listed = json.dumps({"kind": "NodeList", "items": [node(name) for name in reversed(HOSTS)]})
    assert node_problems(listed, HOSTS) == []


def test_the_workers_of_a_lost_control_plane_are_missing_though_every_node_is_ready():
    # After the control-plane server was made anew: only it registered, Ready.
    problems = node_problems({"items": [node("demo-c01-n1")]}, HOSTS)
    assert [line.split(":")[0] for line in problems] == ["demo-c01-n2", "demo-c01-n3"]
    assert "not a node of this cluster" in problems[0]
    assert "another control plane" in problems[0]


def test_a_not_ready_node_is_named_with_the_kubelets_reason_and_message():
    nodes = [
        node("demo-c01-n1"),
        node(
            "demo-c01-n2",
            "False",
            "KubeletNotReady",
            "container runtime network not ready: cni plugin not initialized",
        ),
        node("demo-c01-n3", None),
    ]
    assert node_problems(nodes, HOSTS) == [
        "demo-c01-n2: NotReady (KubeletNotReady: container runtime network not ready:"
        " cni plugin not initialized)",
        "demo-c01-n3: registered, no Ready condition yet",
    ]


def test_a_node_of_another_name_does_not_stand_in_for_a_missing_host():
    assert node_problems([node("old-worker")], ["demo-c01-n2"])[0].startswith(
        "demo-c01-n2: not a node"
    )


@pytest.mark.parametrize(
    ("nodes", "expected", "message"),
    [
        ("not json", HOSTS, "not kubectl's JSON"),
        ({"kind": "NodeList"}, HOSTS, "expected a NodeList"),
        ([], "demo-c01-n1", "expected a list of host names, got 'demo-c01-n1'"),
    ],
)
def test_what_is_not_a_node_list_or_a_host_list_is_refused(nodes, expected, message):
    with pytest.raises(AnsibleFilterError, match=message):
        node_problems(nodes, expected)


def test_a_kubelet_of_this_cluster_differs_in_nothing():
    here = kubeconfig("https://10.0.0.5:6443", CA_A)
    assert kubelet_cluster_differences(here, kubeconfig("https://10.0.0.5:6443", CA_A)) == []


def test_a_kubelet_of_the_lost_control_plane_is_told_by_its_endpoint_and_its_ca():
    old = kubeconfig("https://10.0.0.5:6443", CA_A)
    assert kubelet_cluster_differences(old, kubeconfig("https://10.0.0.9:6443", CA_B)) == [
        "its kubelet talks to https://10.0.0.5:6443, the control plane is https://10.0.0.9:6443",
        "its kubelet trusts another cluster's CA",
    ]


def test_a_control_plane_made_anew_at_the_same_address_is_told_by_its_ca():
    old = kubeconfig("https://10.0.0.5:6443", CA_A)
    assert kubelet_cluster_differences(old, kubeconfig("https://10.0.0.5:6443", CA_B)) == [
        "its kubelet trusts another cluster's CA"
    ]


def test_a_kubeconfig_without_a_cluster_is_refused_saying_which():
    with pytest.raises(AnsibleFilterError, match=r"the worker's kubelet\.conf is not a kubeconfig"):
        kubelet_cluster_differences("clusters: []", kubeconfig("https://10.0.0.5:6443", CA_A))


# Two volumes as local-path left them on the sandbox cluster (kubectl get pv
# -o json, trimmed to the fields read): the hub's database on n3, a learner's
# claim on n2.
def local_path_volume(name: str, claim: str, host: str) -> dict:
    return {
        "kind": "PersistentVolume",
        "metadata": {"name": name},
        "spec": {
            "claimRef": {"kind": "PersistentVolumeClaim", "name": claim, "namespace": "jupyterhub"},
            "hostPath": {"path": f"/opt/local-path-provisioner/{name}_jupyterhub_{claim}",
                         "type": "DirectoryOrCreate"},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": [host]},
            ]}]}},
            "storageClassName": "local-path",
        },
    }  # fmt: skip


VOLUMES = {
    "kind": "List",
    "items": [
        local_path_volume("pvc-8168aad1", "hub-db-dir", "demo-c01-n3"),
        local_path_volume("pvc-7b4682e1", "claim-learner01", "demo-c01-n2"),
    ],
}


def test_the_volumes_of_a_lost_node_are_those_only_it_can_mount():
    assert volumes_on_node(json.dumps(VOLUMES), "demo-c01-n3") == [
        {"volume": "pvc-8168aad1", "namespace": "jupyterhub", "claim": "hub-db-dir"}
    ]
    assert volumes_on_node(VOLUMES, "demo-c01-n1") == []


def test_a_volume_any_node_may_mount_is_not_one_nodes_disk():
    network = {"metadata": {"name": "pvc-cinder"}, "spec": {"csi": {"driver": "cinder.csi"}}}
    zone = local_path_volume("pvc-zone", "data", "demo-c01-n3")
    zone["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"].append(
        {"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In",
                               "values": ["nova"]}]}
    )  # fmt: skip
    two_hosts = local_path_volume("pvc-two", "shared", "demo-c01-n3")
    two_hosts["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0][
        "values"
    ].append("demo-c01-n2")
    assert volumes_on_node([network, zone, two_hosts], "demo-c01-n3") == []


def test_an_unbound_volume_of_the_node_has_no_claim():
    volume = local_path_volume("pvc-released", "gone", "demo-c01-n3")
    del volume["spec"]["claimRef"]
    assert volumes_on_node([volume], "demo-c01-n3") == [
        {"volume": "pvc-released", "namespace": "", "claim": ""}
    ]


@pytest.mark.parametrize(
    ("volumes", "node", "words"),
    [
        ("{not json", "demo-c01-n3", "not kubectl's JSON"),
        ({"items": "nope"}, "demo-c01-n3", "PersistentVolumeList"),
        (VOLUMES, "", "expected a node name"),
    ],
)
def test_bad_input_names_what_was_expected(volumes, node, words):
    with pytest.raises(AnsibleFilterError, match=words):
        volumes_on_node(volumes, node)
