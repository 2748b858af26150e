"""The heat-scheduler's placement with the real kube-scheduler of the pinned release
and the role's own KubeSchedulerConfiguration, against the sandbox control plane
(scripts/sandbox-apiserver.sh): kube-scheduler and heat_extender.py run as local
processes, and the nodes are Node objects with no kubelet behind them.

What is real: the scheduler binary and its reading of the configuration, the
extender/v1 requests it sends (whole Node objects), the extender's answers, the
bindings and the Scheduled events it writes. What is a stand-in: the nodes (Node
objects, Ready for the half minute before the node controller gives up on them;
no pod runs); the extender's port (a free one instead of 8100) and the scheduler's
kubeconfig (the admin one instead of its service account), the two lines of the
configuration the test changes. The pod itself running, and the scheduler and
extender as a pod, are shown on the sandbox cluster."""

from __future__ import annotations

import datetime
import socket
import ssl
import subprocess
import sys
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest
import yaml
from conftest import ROOT, run, wait_for
from kubernetes import client

pytestmark = pytest.mark.controlplane

ROLE = ROOT / "roles/lab_scheduling"
ROLE_VARS = yaml.safe_load((ROLE / "vars/main.yml").read_text())
STAND_IN_TAINT = {"key": "kube-atelier.io/stand-in", "value": "true", "effect": "NoSchedule"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Log:
    """A process's output, read as it comes."""

    def __init__(self, process: subprocess.Popen):
        self.lines: list[str] = []
        threading.Thread(target=self._read, args=(process,), daemon=True).start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self.lines.append(line)

    def text(self) -> str:
        return "".join(self.lines)


@pytest.fixture(scope="module")
def heat_scheduler(kubeconfig: Path, tmp_path_factory) -> Iterator[dict]:
    """kube-scheduler with the role's configuration, and the extender beside it."""
    work = tmp_path_factory.mktemp("heat-scheduler")
    extender_port, secure_port = free_port(), free_port()
    config = yaml.safe_load(
        jinja2.Template(
            ROLE_VARS["lab_scheduling_config"], undefined=jinja2.StrictUndefined
        ).render(**ROLE_VARS)
    )
    assert config["extenders"][0]["urlPrefix"] == "http://127.0.0.1:8100"
    config["extenders"][0]["urlPrefix"] = f"http://127.0.0.1:{extender_port}"
    config["clientConnection"] = {"kubeconfig": str(kubeconfig)}
    (work / "config.yaml").write_text(yaml.safe_dump(config))

    bin_dir = run(["scripts/build-k8s-artifacts.sh", "--bin-dir"]).stdout.strip()
    extender = subprocess.Popen(
        [sys.executable, "-u", str(ROLE / "files/heat_extender.py"), f"--port={extender_port}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    scheduler = subprocess.Popen(
        [f"{bin_dir}/kube-scheduler", f"--config={work / 'config.yaml'}",
         "--bind-address=127.0.0.1", f"--secure-port={secure_port}", "--v=2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    logs = {"extender": Log(extender), "scheduler": Log(scheduler)}
    unverified = ssl._create_unverified_context()  # noqa: S323 (its own self-signed certificate)

    def healthy() -> bool:
        assert scheduler.poll() is None, logs["scheduler"].text()[-3000:]
        try:
            url = f"https://127.0.0.1:{secure_port}/healthz"
            with urllib.request.urlopen(url, context=unverified, timeout=2) as answer:
                return answer.read() == b"ok"
        except OSError:
            return False

    wait_for(healthy, "kube-scheduler's /healthz on its secure port", timeout=60)
    yield logs
    for process in (scheduler, extender):
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(api: client.ApiClient) -> Iterator[dict]:
    """A namespace and three Node objects: a (40), b (20), c (no annotation)."""
    core = client.CoreV1Api(api)
    prefix = f"heat-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": prefix}})
    wait_for(lambda: core.list_namespaced_service_account(prefix).items, "the default SA", 90)
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    nodes = {f"{prefix}-{x}": t for x, t in (("a", "40"), ("b", "20"), ("c", None))}
    for name, temp in nodes.items():
        resources = {"cpu": "4", "memory": "8Gi", "pods": "110"}
        core.create_node({
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name},
                         "annotations": {"nerdalize/temp": temp} if temp else {}},
            "spec": {"taints": [STAND_IN_TAINT]},
        })  # fmt: skip
        core.patch_node_status(name, {"status": {
            "capacity": resources, "allocatable": resources,
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "a stand-in", "lastHeartbeatTime": now,
                            "lastTransitionTime": now}],
        }})  # fmt: skip
    yield {"namespace": prefix, "nodes": list(nodes)}
    for pod in core.list_namespaced_pod(prefix).items:  # bound to no kubelet: no grace
        core.delete_namespaced_pod(pod.metadata.name, prefix, grace_period_seconds=0)
    for name in nodes:
        core.delete_node(name)
    core.delete_namespace(prefix)


def podpi(name: str) -> dict:
    """The learners' podpi.yaml, renamed, tolerating the stand-in nodes' taint."""
    template = (ROLE / "templates/heat-scheduler/deployments/podpi.yaml.j2").read_text()
    pod = next(
        d
        for d in yaml.safe_load_all(
            jinja2.Template(template, undefined=jinja2.StrictUndefined).render(
                lab_scheduling_header="#",
                lab_scheduling_podpi_name=name,
                lab_scheduling_scheduler_name=ROLE_VARS["lab_scheduling_scheduler_name"],
                lab_scheduling_images={"podpi": "registry.invalid/perl:never-pulled"},
                lab_scheduling_image_pull_policy="Never",
                lab_scheduling_podpi_digits=10,
            )
        )
        if d
    )
    pod["spec"]["tolerations"] = [{"key": STAND_IN_TAINT["key"], "operator": "Exists"}]
    return pod


def place(api, cluster, heat_scheduler, name: str) -> tuple[str, str]:
    """Creates the pod; its node, and the extender's log once it names the pod."""
    core = client.CoreV1Api(api)
    namespace = cluster["namespace"]
    core.create_namespaced_pod(namespace, podpi(name))
    node = wait_for(
        lambda: core.read_namespaced_pod(name, namespace).spec.node_name, f"{name} bound", 30
    )
    log = wait_for(
        lambda: (
            f"for pod {namespace}/{name}" in heat_scheduler["extender"].text()
            and heat_scheduler["extender"].text()
        ),
        f"the extender's decision on {name}",
        10,
    )
    return node, log


def annotate(api, node: str, value: str | None) -> None:
    client.CoreV1Api(api).patch_node(node, {"metadata": {"annotations": {"nerdalize/temp": value}}})


def test_the_coldest_node_is_chosen_and_the_event_names_heat_scheduler(
    api, cluster, heat_scheduler
):
    a, b, c = cluster["nodes"]
    node, log = place(api, cluster, heat_scheduler, "podpi9")
    assert node == b
    namespace = cluster["namespace"]
    assert f"Received node {a} with temperature 40" in log
    assert f"Received node {c} with no nerdalize/temp annotation" in log
    assert f"Chose node with lowest temperature {b} (celsius=20) for pod {namespace}/podpi9" in log

    core = client.CoreV1Api(api)
    events = wait_for(
        lambda: (
            core.list_namespaced_event(
                namespace, field_selector="involvedObject.name=podpi9,reason=Scheduled"
            ).items
        ),
        "the Scheduled event",
        15,
    )
    sources = {e.reporting_component or (e.source and e.source.component) for e in events}
    assert sources == {"heat-scheduler"}
    assert f"Successfully assigned {namespace}/podpi9 to {b}" in events[0].message


def test_a_node_made_colder_gets_the_next_pod(api, cluster, heat_scheduler):
    a, _, _ = cluster["nodes"]
    annotate(api, a, "10")
    node, log = place(api, cluster, heat_scheduler, "podpi10")
    assert node == a
    assert f"Chose node with lowest temperature {a} (celsius=10)" in log


def test_a_tie_keeps_both_and_a_non_number_counts_as_hot(api, cluster, heat_scheduler):
    a, b, c = cluster["nodes"]
    annotate(api, b, "10")
    annotate(api, c, "cold")
    node, log = place(api, cluster, heat_scheduler, "podpi11")
    assert node in {a, b}
    assert f"{c} with nerdalize/temp='cold' is not a number" in log
    assert any(
        f"tied at the lowest temperature {x}, {y} (celsius=10) for pod" in log
        for x, y in ((a, b), (b, a))
    )


def test_the_cluster_scheduler_leaves_heat_scheduler_pods_alone(api, cluster, heat_scheduler):
    """The control plane's own kube-scheduler runs too: it never takes these pods."""
    core = client.CoreV1Api(api)
    for pod in core.list_namespaced_pod(cluster["namespace"]).items:
        events = core.list_namespaced_event(
            cluster["namespace"],
            field_selector=f"involvedObject.name={pod.metadata.name},reason=Scheduled",
        ).items
        assert {e.reporting_component for e in events} == {"heat-scheduler"}
