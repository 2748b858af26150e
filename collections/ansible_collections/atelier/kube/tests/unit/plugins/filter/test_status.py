"""The cohort status rows and table (playbooks/status.yml), from registered
results shaped as Ansible registers them."""

from __future__ import annotations

import json

from ansible_collections.atelier.kube.plugins.filter.status import cluster_status, status_table

WORKLOADS = {"autoscaling": ["kube-system/metrics-server", "default/podinfo"]}


def nodes_json(*ready: bool) -> dict:
    items = [
        {"status": {"conditions": [{"type": "Ready", "status": "True" if r else "False"}]}}
        for r in ready
    ]
    return {"rc": 0, "stdout": json.dumps({"items": items})}


def cluster(
    name="k8s-c01", *, up=(True, True, True), nodes=None, deployments=None, accounts=("alice",)
):
    hosts = []
    for index, reachable in enumerate(up, start=1):
        host = {
            "host": f"{name}-n{index}",
            "cluster": name,
            "server_state": "active",
            "labs": ["autoscaling"],
            "learners": [{"name": "alice"}],
            "ping": {"ping": "pong"} if reachable else {"unreachable": True, "msg": "timed out"},
            "nodes": {},
            "deployments": {},
            "passwd": {},
        }
        if index == 1 and reachable:
            host["nodes"] = nodes if nodes is not None else nodes_json(True, True, True)
            listed = (
                deployments
                if deployments is not None
                else ["kube-system/metrics-server", "default/podinfo"]
            )
            host["deployments"] = {"rc": 0, "stdout": "\n".join(listed)}
            host["passwd"] = {
                "ansible_facts": {"getent_passwd": {name: [] for name in ("root", *accounts)}}
            }
        hosts.append(host)
    return hosts


def test_a_verified_cluster_is_ready():
    verify = {"k8s-c01": {"labs": {"autoscaling": {"passed": True}}}}
    [row] = cluster_status(cluster(), verify, WORKLOADS)
    assert row["ready"], row["problems"]
    assert (row["servers"], row["nodes"], row["accounts"]) == ("3/3", "3/3", "1/1")
    assert row["labs"] == [{"lab": "autoscaling", "deployed": True, "verified": True, "reason": ""}]


def test_each_missing_piece_is_named():
    hosts = cluster(
        nodes=nodes_json(True, False, True), deployments=["kube-system/metrics-server"], accounts=()
    )
    [row] = cluster_status(hosts, {}, WORKLOADS)
    assert not row["ready"]
    assert row["problems"] == [
        "2 of 3 nodes Ready",
        "lab autoscaling not deployed",
        "missing learner accounts: alice",
    ]


def test_a_failed_verify_gives_its_reason():
    verify = {
        "k8s-c01": {
            "labs": {
                "autoscaling": {"passed": False, "reason": "HPA podinfo: missing request for cpu"}
            }
        }
    }
    [row] = cluster_status(cluster(), verify, WORKLOADS)
    assert row["problems"] == [
        "lab autoscaling failed verify: HPA podinfo: missing request for cpu"
    ]


def test_an_unreachable_login_host_leaves_the_cluster_unknown_not_ready():
    [row] = cluster_status(cluster(up=(False, True, True)), {}, WORKLOADS)
    assert row["servers"] == "2/3" and row["nodes"] == "-" and row["accounts"] == "-"
    assert "k8s-c01-n1 unreachable (server active)" in row["problems"]
    assert "the control plane's API did not answer" in row["problems"]


def test_table_lists_clusters_in_order_and_counts_the_ready_ones():
    verify = {"k8s-c02": {"labs": {"autoscaling": {"passed": True}}}}
    rows = cluster_status(cluster("k8s-c02") + cluster("k8s-c01"), verify, WORKLOADS)
    lines = status_table(rows)
    assert lines[0].split() == ["CLUSTER", "SERVERS", "NODES", "LABS", "ACCOUNTS", "READY"]
    assert lines[1].split() == ["k8s-c01", "3/3", "3/3", "autoscaling:unverified", "1/1", "NO"]
    assert lines[2].split() == ["k8s-c02", "3/3", "3/3", "autoscaling:ok", "1/1", "yes"]
    assert lines[-1] == "1 of 2 clusters ready"
