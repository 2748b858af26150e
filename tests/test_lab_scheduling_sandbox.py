"""The scheduling lab on the sandbox cluster: checks for the main-job tests to
call once the lab is enabled in inventories/sandbox (`labs: [autoscaling,
scheduling]`) and its verify recorded by playbooks/verify.yml. Each takes the
main-job module's helpers (kubectl on the control plane, a command on a node as
a learner) and the cluster's verify result, so it is wired with a line per
check, e.g.

    def test_the_scheduling_lab_passed_verify(main_job):
        test_lab_scheduling_sandbox.verify_passed(json.loads(VERIFY_RESULT.read_text()))

Nothing here is collected by pytest on its own (no test_ function): the sandbox
cluster is brought up once, by tests/test_sandbox_main_job.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from subprocess import CompletedProcess

Kubectl = Callable[..., CompletedProcess]
LABEL = "kube-atelier.io/lab=scheduling"
WORKERS = ["sandbox-c01-n2", "sandbox-c01-n3"]


def verify_passed(result: dict) -> None:
    """Verify placed each test pod on the coldest worker (the last by name in round
    1, the first in rounds 2 and 3), recorded the time to schedule, and the first
    pod printed pi."""
    lab = result["labs"]["scheduling"]
    assert lab["passed"], lab
    assert lab["workers"] == len(WORKERS)
    assert lab["placements"] == {
        "podpi-verify-1": WORKERS[-1],
        "podpi-verify-2": WORKERS[0],
        "podpi-verify-3": WORKERS[0],
    }, lab
    assert lab["placed_on"].startswith(f"{WORKERS[-1]} (celsius=20, scheduled in ")
    assert all(0 <= s < 60 for s in lab["schedule_seconds"].values()), lab
    assert any("Pending for" in check for check in lab["checks"]), lab["checks"]
    assert any("its output begins 3.14159" in check for check in lab["checks"]), lab["checks"]


def verify_left_nothing(kubectl: Kubectl) -> None:
    """After verify: no test pod, no temperature annotation, the scheduler at 1."""
    pods = kubectl("get", "pods", "-A", "-l", LABEL, "-o", "name")
    assert pods.returncode == 0 and pods.stdout == "", pods.stdout + pods.stderr
    nodes = json.loads(kubectl("get", "nodes", "-o", "json").stdout)["items"]
    annotated = [
        n["metadata"]["name"]
        for n in nodes
        if "nerdalize/temp" in n["metadata"].get("annotations", {})
    ]
    assert annotated == []
    replicas = kubectl(
        "-n",
        "kube-system",
        "get",
        "deployment",
        "heat-scheduler",
        "-o",
        "jsonpath={.spec.replicas}",
    )
    assert replicas.stdout == "1", replicas.stdout + replicas.stderr


def scheduler_runs_as_designed(kubectl: Kubectl) -> None:
    """2/2 Ready on a worker, the cluster's own kube-scheduler image, its own
    service account (no cluster-admin binding anywhere for it)."""
    pod = json.loads(
        kubectl(
            "-n", "kube-system", "get", "pods", "-l", "component=heat-scheduler", "-o", "json"
        ).stdout
    )["items"][0]
    assert all(c["ready"] for c in pod["status"]["containerStatuses"]), pod["status"]
    assert pod["spec"]["nodeName"] in WORKERS
    assert pod["spec"]["serviceAccountName"] == "heat-scheduler"
    static = json.loads(
        kubectl(
            "-n", "kube-system", "get", "pods", "-l", "component=kube-scheduler", "-o", "json"
        ).stdout
    )["items"][0]
    assert pod["spec"]["containers"][0]["image"] == static["spec"]["containers"][0]["image"]
    bindings = json.loads(kubectl("get", "clusterrolebindings", "-o", "json").stdout)["items"]
    for binding in bindings:
        if binding["roleRef"]["name"] == "cluster-admin":
            subjects = binding.get("subjects") or []
            ours = {("heat-scheduler", "kube-system"), ("default", "kube-system")}
            assert not any((s.get("name"), s.get("namespace")) in ours for s in subjects), binding


def learner_runs_the_slides(on_learner: Callable[..., CompletedProcess], kubectl: Kubectl) -> None:
    """learner01's ~/heat-scheduler, after the lab's Reset: the slides' commands as
    CHANGES.md gives them, podpi9 on the coldest worker, the extender's log line,
    then the slides' Reset leaving no annotation and no pod of the lab."""
    listing = on_learner("ls", "heat-scheduler", "heat-scheduler/deployments")
    assert listing.returncode == 0, listing.stderr
    assert {"CHANGES.md", "heat_extender.py", "podpi.yaml", "heat-scheduler.yaml"} <= set(
        listing.stdout.split()
    )
    steps = [
        f"kubectl annotate nodes {WORKERS[0]} nerdalize/temp=40",
        f"kubectl annotate nodes {WORKERS[1]} nerdalize/temp=20",
        "kubectl create -f deployments/scheduler-policy-config.yaml",
        "kubectl create -f deployments/heat-scheduler.yaml",
        "kubectl -n kube-system rollout status deployment/heat-scheduler --timeout=180s",
        "kubectl create -f deployments/podpi.yaml",
        "kubectl wait --for=jsonpath={.spec.nodeName} pod/podpi9 --timeout=120s",
    ]
    for step in steps:
        done = on_learner(f"cd heat-scheduler && {step}")
        assert done.returncode == 0, (step, done.stdout, done.stderr)
    node = kubectl("get", "pod", "podpi9", "-o", "jsonpath={.spec.nodeName}").stdout
    assert node == WORKERS[1]
    log = kubectl("-n", "kube-system", "logs", "deployment/heat-scheduler", "-c", "extender").stdout
    assert (
        f"Chose node with lowest temperature {WORKERS[1]} (celsius=20) for pod default/podpi9"
        in log
    )
    for step in (
        "kubectl delete pod podpi9",
        "kubectl delete -f deployments/heat-scheduler.yaml"
        " -f deployments/scheduler-policy-config.yaml",
        "kubectl annotate nodes --all nerdalize/temp-",
    ):
        done = on_learner(f"cd heat-scheduler && {step}")
        assert done.returncode == 0, (step, done.stdout, done.stderr)


def reset_left_nothing(kubectl: Kubectl) -> None:
    """After `-e lab_scheduling_state=absent`: no object of the lab, no annotation."""
    kinds = "deployments,configmaps,serviceaccounts,clusterrolebindings,rolebindings,pods"
    left = kubectl("get", kinds, "-A", "-l", LABEL, "-o", "name")
    assert left.returncode == 0 and left.stdout == "", left.stdout + left.stderr
    nodes = json.loads(kubectl("get", "nodes", "-o", "json").stdout)["items"]
    assert not any("nerdalize/temp" in n["metadata"].get("annotations", {}) for n in nodes)
