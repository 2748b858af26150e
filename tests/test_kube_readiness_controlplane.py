"""atelier.kube's readiness modules run by ansible-playbook (check mode) against the
sandbox control plane (scripts/sandbox-apiserver.sh): a real kube-apiserver with its
aggregator, and kube-controller-manager with the HPA controller, of the pinned release.

It is a stand-in for a cluster: there are no nodes, so pods stay Pending, no Service has
a ready endpoint, and no metrics backend runs. What is checked here is what the modules
see and say when the lab is NOT ready, in the words the real controllers use, plus the
states the control plane can reach for real: a local APIService Available, and an HPA
rescaling its target to minReplicas (a SuccessfulRescale event). A ready HPA with metric
values, and a served custom metric, need nodes (unit tests cover their decisions)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, ansible_env, wait_for
from kubernetes import client

pytestmark = pytest.mark.controlplane

IMAGE = "registry.invalid/podinfo:6.14.1"  # never pulled: there is no node


@pytest.fixture(scope="module")
def namespace(api: client.ApiClient) -> Iterator[str]:
    name = f"atelier-ready-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": name}})
    wait_for(lambda: core.list_namespaced_service_account(name).items, "the default SA", timeout=90)
    yield name
    core.delete_namespace(name)


def deployment(name: str, replicas: int, cpu_request: str | None = "1m") -> dict:
    labels = {"app": name}
    container = {"name": "podinfo", "image": IMAGE}
    if cpu_request:
        container["resources"] = {"requests": {"cpu": cpu_request, "memory": "32Mi"}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }


def hpa(name: str, target: str, metrics: list[dict], min_replicas: int = 2) -> dict:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
            "minReplicas": min_replicas,
            "maxReplicas": 10,
            "metrics": metrics,
        },
    }


CPU_AND_MEMORY = [
    {"type": "Resource",
     "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}},
    {"type": "Resource",
     "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "200Mi"}}},
]  # fmt: skip
HTTP_REQUESTS = [
    {"type": "Pods", "pods": {"metric": {"name": "http_requests"},
                              "target": {"type": "AverageValue", "averageValue": "10"}}},
]  # fmt: skip


def create(api: client.ApiClient, namespace: str, obj: dict) -> None:
    kind = obj["kind"]
    if kind == "Deployment":
        client.AppsV1Api(api).create_namespaced_deployment(namespace, obj)
    elif kind == "HorizontalPodAutoscaler":
        client.AutoscalingV2Api(api).create_namespaced_horizontal_pod_autoscaler(namespace, obj)
    elif kind == "Service":
        client.CoreV1Api(api).create_namespaced_service(namespace, obj)
    else:
        raise AssertionError(kind)


def hpa_condition(api: client.ApiClient, namespace: str, name: str, kind: str):
    status = (
        client.AutoscalingV2Api(api)
        .read_namespaced_horizontal_pod_autoscaler(name, namespace)
        .status
    )
    return next((c for c in status.conditions or [] if c.type == kind), None)


def play(
    tmp_path: Path, kubeconfig: Path, tasks: list[dict], check: bool = True
) -> tuple[list[dict], str]:
    """Runs the tasks in a playbook on localhost (check mode unless told) with the
    project's ansible.cfg; returns each task's result and the run's output."""
    for task in tasks:
        module = next(key for key in task if key.startswith("atelier.kube."))
        task[module].setdefault("kubeconfig", str(kubeconfig))
        task["ignore_errors"] = True
    playbook = tmp_path / f"play-{uuid.uuid4().hex[:6]}.yml"
    playbook.write_text(
        yaml.safe_dump(
            [{"name": "Readiness modules", "hosts": "localhost", "gather_facts": False,
              "tasks": tasks}],
            sort_keys=False,
        )
    )  # fmt: skip
    env = ansible_env()
    env.update(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_CALLBACK_RESULT_FORMAT="json")
    args = ["ansible-playbook", "-i", "localhost,", "-c", "local",
            "-e", f"ansible_python_interpreter={sys.executable}", str(playbook)]  # fmt: skip
    if check:
        args.append("--check")
    done = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.stdout.startswith("{"), done.stderr[-3000:]
    output = json.loads(done.stdout)
    results = [task["hosts"]["localhost"] for task in output["plays"][0]["tasks"]]
    return results, done.stdout


def test_local_apiservices_are_available(tmp_path, kubeconfig):
    started = time.monotonic()
    (result,), _ = play(
        tmp_path, kubeconfig,
        [{"name": "Local APIs", "atelier.kube.apiservice_ready":
          {"names": ["v1.", "v1.apps", "v2.autoscaling"], "timeout": 30}}],
    )  # fmt: skip
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert [(a["name"], a["available"], a["reason"]) for a in result["apiservices"]] == [
        ("v1.", True, "Local"),
        ("v1.apps", True, "Local"),
        ("v2.autoscaling", True, "Local"),
    ]
    assert result["unavailable"] == []
    assert time.monotonic() - started < 60


@pytest.fixture
def aggregated(api: client.ApiClient, namespace: str) -> Iterator[dict[str, str]]:
    """Two APIServices of groups of their own (so nothing else on the control plane
    uses them): one on a Service whose pods never run, one on a Service that does not
    exist. Deleted at the end, before the namespace: an unavailable APIService stalls
    the deletion of namespaces."""
    suffix = uuid.uuid4().hex[:6]
    create(api, namespace, deployment("metrics-backend", 1))
    create(api, namespace, {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "metrics-backend"},
        "spec": {"selector": {"app": "metrics-backend"},
                 "ports": [{"name": "https", "port": 443, "targetPort": 4443}]},
    })  # fmt: skip
    registration = client.ApiregistrationV1Api(api)
    names = {}
    for key, service in (("no_endpoints", "metrics-backend"), ("no_service", "nothing-here")):
        group = f"{key.replace('_', '-')}-{suffix}.atelier.test"
        names[key] = f"v1beta1.{group}"
        registration.create_api_service({
            "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
            "metadata": {"name": names[key]},
            "spec": {"group": group, "version": "v1beta1", "insecureSkipTLSVerify": True,
                     "groupPriorityMinimum": 100, "versionPriority": 100,
                     "service": {"namespace": namespace, "name": service, "port": 443}},
        })  # fmt: skip
    try:
        yield names
    finally:
        for name in names.values():
            registration.delete_api_service(name)


def test_unavailable_apiservices_fail_with_the_aggregators_reasons(
    tmp_path, kubeconfig, aggregated, namespace
):
    names = [aggregated["no_endpoints"], aggregated["no_service"], "v1.apps"]
    started = time.monotonic()
    (result,), _ = play(
        tmp_path, kubeconfig,
        [{"name": "Aggregated APIs", "atelier.kube.apiservice_ready":
          {"names": names, "timeout": 8, "poll_interval": 1}}],
    )  # fmt: skip
    took = time.monotonic() - started
    assert result["failed"] is True
    by_name = {a["name"]: a for a in result["apiservices"]}
    assert by_name[aggregated["no_endpoints"]]["reason"] == "MissingEndpoints"
    assert by_name[aggregated["no_endpoints"]]["message"] == (
        f'endpointslices for service/metrics-backend in "{namespace}" have no addresses '
        'with port name "https"'
    )
    assert by_name[aggregated["no_endpoints"]]["service"] == f"{namespace}/metrics-backend"
    assert by_name[aggregated["no_service"]]["reason"] == "ServiceNotFound"
    assert by_name["v1.apps"]["available"] is True
    assert result["unavailable"] == names[:2]
    assert result["msg"].startswith("2 of 3 APIServices not Available after 8s: ")
    assert f"{aggregated['no_endpoints']}: MissingEndpoints (endpointslices for" in result["msg"]
    assert (
        f"{aggregated['no_service']}: ServiceNotFound (service/nothing-here in" in (result["msg"])
    )
    assert 8 <= result["elapsed"] < 20
    assert took < 60


def test_unregistered_apiservice_is_named(tmp_path, kubeconfig):
    (result,), _ = play(
        tmp_path, kubeconfig,
        [{"name": "Not registered", "atelier.kube.apiservice_ready":
          {"names": ["v1beta1.absent.atelier.test"], "timeout": 0}}],
    )  # fmt: skip
    assert result["msg"] == (
        "1 of 1 APIServices not Available after 0s: v1beta1.absent.atelier.test: NotFound "
        "(no APIService named v1beta1.absent.atelier.test is registered)"
    )


def test_hpa_without_metrics_or_nodes_names_the_controllers_reasons(
    tmp_path, kubeconfig, api, namespace
):
    create(api, namespace, deployment("podinfo", 2))
    create(api, namespace, hpa("podinfo", "podinfo", CPU_AND_MEMORY))
    create(api, namespace, deployment("web", 2))
    create(api, namespace, hpa("web-custom", "web", HTTP_REQUESTS))
    for name in ("podinfo", "web-custom"):
        wait_for(lambda n=name: hpa_condition(api, namespace, n, "ScalingActive"),
                 f"the HPA controller's conditions on {name}", timeout=90)  # fmt: skip
    results, _ = play(
        tmp_path, kubeconfig,
        [{"name": "CPU and memory", "atelier.kube.hpa_ready":
          {"name": "podinfo", "namespace": namespace, "timeout": 3, "poll_interval": 1}},
         {"name": "Custom", "atelier.kube.hpa_ready":
          {"name": "web-custom", "namespace": namespace, "timeout": 0}},
         {"name": "Without pods", "atelier.kube.hpa_ready":
          {"name": "podinfo", "namespace": namespace, "timeout": 0, "wait_for_pods": False}},
         {"name": "No such HPA", "atelier.kube.hpa_ready":
          {"name": "absent", "namespace": namespace, "timeout": 0}}],
    )  # fmt: skip
    cpu, custom, without_pods, absent = results
    assert cpu["failed"] is True
    assert cpu["msg"].startswith(
        f"HPA {namespace}/podinfo not ready after 3s: ScalingActive=False "
        "(FailedGetResourceMetric): the HPA was unable to compute the replica count: "
    )
    assert "unable to fetch metrics from resource metrics API" in cpu["msg"]
    assert cpu["conditions"]["ScalingActive"]["reason"] == "FailedGetResourceMetric"
    assert cpu["conditions"]["AbleToScale"]["status"] == "True"
    assert [m["display"] for m in cpu["metrics"]] == ["cpu: <unknown>/80%",
                                                      "memory: <unknown>/200Mi"]  # fmt: skip
    assert cpu["replicas"]["min"] == 2 and cpu["replicas"]["current"] == 2
    assert cpu["target"] == "Deployment/podinfo"
    assert (cpu["pods"]["wanted"], cpu["pods"]["ready"], cpu["pods"]["total"]) == (2, 0, 2)
    assert all("Unschedulable" in line for line in cpu["pods"]["not_ready"])
    assert "0 of 2 wanted pods of the target are Ready: podinfo-" in cpu["msg"]
    assert cpu["elapsed"] >= 3

    assert custom["conditions"]["ScalingActive"]["reason"] == "FailedGetPodsMetric"
    assert "unable to fetch metrics from custom metrics API" in custom["msg"]
    assert custom["metrics"][0]["display"] == "<unknown>/10"

    assert without_pods["pods"] is None
    assert "wanted pods" not in without_pods["msg"]
    assert "FailedGetResourceMetric" in without_pods["msg"]

    assert (
        absent["msg"]
        == f"HPA {namespace}/absent not ready after 0s: no HPA absent in namespace {namespace}"
    )


def test_custom_metric_not_served_without_an_adapter(tmp_path, kubeconfig, namespace):
    (result,), _ = play(
        tmp_path, kubeconfig,
        [{"name": "http_requests", "atelier.kube.custom_metric_served":
          {"metric": "http_requests", "namespace": namespace, "selector": "app=podinfo",
           "timeout": 0}}],
    )  # fmt: skip
    assert result["failed"] is True
    assert result["path"] == (
        f"/apis/custom.metrics.k8s.io/v1beta1/namespaces/{namespace}/pods/*/http_requests"
    )
    assert "HTTP 404" in result["msg"]
    assert result["metric_values"] == []
    # The selector picks the podinfo pods, none of which is Ready: none is expected.
    assert result["expected_pods"] == []


def test_scale_out_to_min_replicas_is_timed_with_its_event(tmp_path, kubeconfig, api, namespace):
    # One replica under an HPA of minReplicas 2: the HPA controller rescales it to 2
    # (no metrics needed), as it would scale out under load.
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
    create(api, namespace, deployment("scaled", 1))
    create(api, namespace, hpa("scaled", "scaled", CPU_AND_MEMORY, min_replicas=2))
    results, _ = play(
        tmp_path, kubeconfig,
        [{"name": "Scale-out", "atelier.kube.hpa_scale_out":
          {"name": "scaled", "namespace": namespace, "replicas_above": 1, "since": since,
           "timeout": 90, "poll_interval": 1}},
         {"name": "Above the minimum (never, without metrics)", "atelier.kube.hpa_scale_out":
          {"name": "scaled", "namespace": namespace, "timeout": 2, "poll_interval": 1}},
         {"name": "Ready pods (never, without nodes)", "atelier.kube.hpa_scale_out":
          {"name": "scaled", "namespace": namespace, "replicas_above": 1, "measure": "ready",
           "timeout": 0}},
         {"name": "Scale-in check", "atelier.kube.hpa_scale_out":
          {"name": "scaled", "namespace": namespace, "replicas_at_most": 2, "timeout": 0}}],
    )  # fmt: skip
    out, above_min, ready, scale_in = results
    assert not out.get("failed"), out
    assert out["changed"] is False
    assert (out["reached"], out["count"], out["threshold"]) == (True, 2, "above 1")
    assert out["replicas"]["desired"] == 2
    assert 0 < out["elapsed"] < 90
    (rescale,) = out["rescales"]
    assert rescale["new_size"] == 2
    assert rescale["why"] == "Current number of replicas below Spec.MinReplicas"
    assert rescale["message"] == (
        "New size: 2; reason: Current number of replicas below Spec.MinReplicas"
    )
    assert client.AppsV1Api(api).read_namespaced_deployment("scaled", namespace).spec.replicas == 2

    assert above_min["failed"] is True
    assert above_min["threshold"] == "above 2"
    assert above_min["msg"].startswith(f"HPA {namespace}/scaled: desired replicas ")
    assert "not above 2 after" in above_min["msg"]

    assert ready["failed"] is True
    assert ready["count"] == 0
    assert "ready replicas 0, not above 1" in ready["msg"]

    assert not scale_in.get("failed"), scale_in
    assert scale_in["threshold"] == "at most 2"


def test_outside_check_mode_the_same_and_nothing_changes(tmp_path, kubeconfig):
    results, _ = play(
        tmp_path, kubeconfig,
        [{"name": "Local APIs", "atelier.kube.apiservice_ready": {"names": ["v1.apps"]}},
         {"name": "Unreachable", "atelier.kube.apiservice_ready":
          {"names": ["v1.apps"], "host": "https://127.0.0.1:9", "timeout": 0}}],
        check=False,
    )  # fmt: skip
    local, unreachable = results
    assert local["changed"] is False and not local.get("failed")
    assert unreachable["msg"] == (
        "cannot reach the Kubernetes API at https://127.0.0.1:9: Connection refused"
    )
