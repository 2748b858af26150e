"""The cohort status rows and table (playbooks/status.yml), from registered
results shaped as Ansible registers them and lab declarations shaped as
roles/lab_*/meta/lab.yml renders."""

from __future__ import annotations

import json

from ansible_collections.atelier.kube.plugins.filter.status import cluster_status, status_table

DECLARATIONS = [
    {
        "name": "autoscaling",
        "workloads": [
            {"kind": "Deployment", "namespace": "kube-system", "name": "metrics-server"},
            {"kind": "Deployment", "namespace": "default", "name": "podinfo"},
        ],
    }
]


def nodes_json(*ready: bool, created=("2026-12-01T08:00:00Z",)) -> dict:
    """Nodes as `kubectl get nodes -o json` lists them; the first is the
    control plane (created first), each next one created a minute later."""
    items = [
        {
            "metadata": {"creationTimestamp": created[0][:14] + f"{index:02d}" + created[0][16:]},
            "status": {"conditions": [{"type": "Ready", "status": "True" if r else "False"}]},
        }
        for index, r in enumerate(ready)
    ]
    return {"rc": 0, "stdout": json.dumps({"items": items})}


def deployment(name: str, ready: int = 1, replicas: int = 1) -> dict:
    namespace, name = name.split("/")
    return {
        "kind": "Deployment",
        "metadata": {"namespace": namespace, "name": name},
        "spec": {"replicas": replicas},
        "status": {"readyReplicas": ready} if ready else {},
    }


def cluster(
    name="k8s-c01", *, up=(True, True, True), nodes=None, workloads=None, accounts=("alice",)
):
    hosts = []
    for index, reachable in enumerate(up, start=1):
        host = {
            "host": f"{name}-n{index}",
            "cluster": name,
            "server_state": "active",
            "labs": ["autoscaling"],
            "learners": [{"name": "alice"}],
            "declarations": DECLARATIONS if index == 1 else [],
            "ping": {"ping": "pong"} if reachable else {"unreachable": True, "msg": "timed out"},
            "nodes": {},
            "workloads": {},
            "passwd": {},
        }
        if index == 1 and reachable:
            host["nodes"] = nodes if nodes is not None else nodes_json(True, True, True)
            items = (
                workloads
                if workloads is not None
                else [deployment("kube-system/metrics-server"), deployment("default/podinfo")]
            )
            host["workloads"] = {"rc": 0, "stdout": json.dumps({"items": items})}
            host["passwd"] = {
                "ansible_facts": {"getent_passwd": {name: [] for name in ("root", *accounts)}}
            }
        hosts.append(host)
    return hosts


def test_a_verified_cluster_is_ready():
    verify = {
        "k8s-c01": {"labs": {"autoscaling": {"passed": True, "ended": "2026-12-01T10:00:00Z"}}}
    }
    [row] = cluster_status(cluster(), verify)
    assert row["ready"], row["problems"]
    assert (row["servers"], row["nodes"], row["accounts"]) == ("3/3", "3/3", "1/1")
    [lab] = row["labs"]
    assert (lab["lab"], lab["deployed"], lab["ready"], lab["verified"], lab["mark"]) == (
        "autoscaling", True, True, True, "ok",
    )  # fmt: skip
    assert lab["verified_at"] == "2026-12-01T10:00:00Z"


def test_each_missing_piece_is_named():
    hosts = cluster(
        nodes=nodes_json(True, False, True),
        workloads=[deployment("kube-system/metrics-server")],
        accounts=(),
    )
    [row] = cluster_status(hosts, {})
    assert not row["ready"]
    assert row["problems"] == [
        "2 of 3 nodes Ready",
        "lab autoscaling not deployed: deployment default/podinfo missing",
        "missing learner accounts: alice",
    ]
    assert row["labs"][0]["mark"] == "absent"


def test_a_deployed_lab_whose_pods_are_not_ready_is_not_ok_even_if_it_passed_verify():
    hosts = cluster(
        workloads=[deployment("kube-system/metrics-server"), deployment("default/podinfo", ready=0)]
    )
    verify = {"k8s-c01": {"labs": {"autoscaling": {"passed": True}}}}
    [row] = cluster_status(hosts, verify)
    assert row["labs"][0]["mark"] == "not-ready"
    assert row["problems"] == ["lab autoscaling not Ready: deployment default/podinfo"]


def test_other_kinds_count_when_present():
    declarations = [
        {"name": "demo", "workloads": [{"kind": "ConfigMap", "namespace": "d", "name": "x"}]}
    ]
    hosts = cluster(workloads=[{"kind": "ConfigMap", "metadata": {"namespace": "d", "name": "x"}}])
    for host in hosts:
        host["labs"] = ["demo"]
    hosts[0]["declarations"] = declarations
    [row] = cluster_status(hosts, {"k8s-c01": {"labs": {"demo": {"passed": True}}}})
    assert row["ready"], row["problems"]


def test_a_failed_verify_gives_its_reason():
    verify = {
        "k8s-c01": {
            "labs": {
                "autoscaling": {"passed": False, "reason": "HPA podinfo: missing request for cpu"}
            }
        }
    }
    [row] = cluster_status(cluster(), verify)
    assert row["problems"] == [
        "lab autoscaling failed verify: HPA podinfo: missing request for cpu"
    ]


def test_an_unreachable_login_host_leaves_the_cluster_unknown_not_ready():
    [row] = cluster_status(cluster(up=(False, True, True)), {})
    assert row["servers"] == "2/3" and row["nodes"] == "-" and row["accounts"] == "-"
    assert "k8s-c01-n1 unreachable (server active)" in row["problems"]
    assert "the control plane's API did not answer" in row["problems"]


def test_table_lists_clusters_in_order_and_counts_the_ready_ones():
    verify = {"k8s-c02": {"labs": {"autoscaling": {"passed": True}}}}
    rows = cluster_status(cluster("k8s-c02") + cluster("k8s-c01"), verify)
    lines = status_table(rows)
    assert lines[0].split() == ["CLUSTER", "SERVERS", "NODES", "LABS", "ACCOUNTS", "READY"]
    assert lines[1].split() == ["k8s-c01", "3/3", "3/3", "autoscaling:unverified", "1/1", "NO"]
    assert lines[2].split() == ["k8s-c02", "3/3", "3/3", "autoscaling:ok", "1/1", "yes"]
    assert lines[-1] == "1 of 2 clusters ready"


def test_a_verify_result_older_than_the_control_plane_is_stale_never_ok():
    # The control-plane server was lost, the re-run made a new cluster at
    # 11:00; the last verify passed at 10:00 on the cluster that is gone.
    verify = {
        "k8s-c01": {"labs": {"autoscaling": {"passed": True, "ended": "2026-12-01T10:00:00Z"}}}
    }
    hosts = cluster(nodes=nodes_json(True, True, True, created=("2026-12-01T11:00:00Z",)))
    [row] = cluster_status(hosts, verify)
    [lab] = row["labs"]
    assert (lab["mark"], lab["stale"], lab["cluster_born"]) == (
        "stale",
        True,
        "2026-12-01T11:00:00Z",
    )
    assert not row["ready"]
    assert row["problems"] == [
        "lab autoscaling last verified 2026-12-01T10:00:00Z, before this cluster's control plane"
        " was made (2026-12-01T11:00:00Z): stale, run verify"
    ]
    assert "autoscaling:stale" in status_table([row])[1]


def test_a_worker_that_joined_after_verify_does_not_make_the_result_stale():
    # The cluster was made at 08:00 (its oldest node), verified at 10:00; a
    # worker lost and recreated at 10:30 is a newer node of the same cluster.
    nodes = nodes_json(True, True, created=("2026-12-01T08:00:00Z",))
    listed = json.loads(nodes["stdout"])
    listed["items"].append(
        {
            "metadata": {"creationTimestamp": "2026-12-01T10:30:00Z"},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]},
        }
    )
    verify = {
        "k8s-c01": {"labs": {"autoscaling": {"passed": True, "ended": "2026-12-01T10:00:00Z"}}}
    }
    hosts = cluster(nodes={"rc": 0, "stdout": json.dumps(listed)})
    [row] = cluster_status(hosts, verify)
    assert row["labs"][0]["mark"] == "ok" and row["ready"], row["problems"]
