"""The pure decisions of atelier.kube's readiness modules (module_utils/kube_readiness.py),
and the modules' argument checks, without an API server.

The objects are what the API returns (autoscaling/v2 HPA, apiregistration.k8s.io/v1
APIService, v1 Pod and Event, custom.metrics.k8s.io MetricValueList). Those marked
"captured" were read from the sandbox control plane (Kubernetes v1.34.4, real
kube-aggregator and HPA controller, no nodes); the others are built with the field
names and the reason/message strings of upstream's pkg/controller/podautoscaler
(horizontal.go, replica_calculator.go, metrics/client.go) for states that need
running pods and a metrics backend, which the sandbox control plane cannot have."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
from ansible_collections.atelier.kube.plugins.module_utils import kube_readiness as kr
from conftest import ROOT

PODINFO_METRICS = [
    {"type": "Resource",
     "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}},
    {"type": "Resource",
     "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "200Mi"}}},
]  # fmt: skip


def hpa(status: dict, metrics: list | None = None, name: str = "podinfo") -> dict:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "maxReplicas": 10,
            "minReplicas": 2,
            "metrics": copy.deepcopy(PODINFO_METRICS if metrics is None else metrics),
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
        },
        "status": status,
    }


def condition(kind: str, status: str, reason: str, message: str) -> dict:
    return {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": "2026-11-25T08:56:48Z",
    }


ABLE = condition(
    "AbleToScale", "True", "SucceededGetScale",
    "the HPA controller was able to get the target's current scale",
)  # fmt: skip
ACTIVE = condition(
    "ScalingActive", "True", "ValidMetricFound",
    "the HPA was able to successfully calculate a replica count from cpu resource "
    "utilization (percentage of request)",
)  # fmt: skip
LIMITED = condition(
    "ScalingLimited",
    "False",
    "DesiredWithinRange",
    "the desired count is within the acceptable range",
)

# Captured: HPA podinfo (cpu 80 % + memory 200Mi) on a Deployment whose pods are
# Pending, with no metrics.k8s.io registered. The controller fills currentMetrics by
# index and leaves {"type": ""} for each metric it could not get.
CAPTURED_NO_METRICS_API = hpa(
    {
        "conditions": [
            ABLE,
            condition(
                "ScalingActive", "False", "FailedGetResourceMetric",
                "the HPA was unable to compute the replica count: failed to get cpu "
                "utilization: unable to get metrics for resource cpu: unable to fetch metrics "
                "from resource metrics API: the server could not find the requested resource "
                "(get pods.metrics.k8s.io)",
            ),
        ],
        "currentMetrics": [{"type": ""}, {"type": ""}],
        "currentReplicas": 2,
        "desiredReplicas": 0,
    }
)  # fmt: skip

# Captured: a Pods metric HPA (the lab's custom one) with no custom metrics API.
CAPTURED_NO_CUSTOM_METRICS_API = hpa(
    {
        "conditions": [
            ABLE,
            condition(
                "ScalingActive", "False", "FailedGetPodsMetric",
                "the HPA was unable to compute the replica count: unable to get metric "
                "http_requests: unable to fetch metrics from custom metrics API: no custom "
                "metrics API (custom.metrics.k8s.io) registered",
            ),
        ],
        "currentMetrics": [{"type": ""}],
        "currentReplicas": 2,
        "desiredReplicas": 0,
    },
    metrics=[{"type": "Pods", "pods": {"metric": {"name": "http_requests"},
                                       "target": {"type": "AverageValue", "averageValue": "10"}}}],
    name="podinfo-custom",
)  # fmt: skip

# Captured: both lab HPAs (podinfo-hpa.yaml and podinfo-hpa-custom.yaml) on the same
# Deployment, which the slides' order of commands makes easy to do.
CAPTURED_AMBIGUOUS = hpa(
    {
        "conditions": [
            ABLE,
            condition(
                "ScalingActive", "False", "AmbiguousSelector",
                "pods by selector app=podinfo are controlled by multiple HPAs: "
                "[default/podinfo-custom default/podinfo]",
            ),
        ],
        "currentMetrics": None,
        "currentReplicas": 2,
        "desiredReplicas": 0,
    }
)  # fmt: skip

# Built: what the controller writes when metrics-server answers but podinfo's container
# has no cpu request (replica_calculator.go: "missing request for %s in container %s of Pod %s").
MISSING_REQUEST = hpa(
    {
        "conditions": [
            ABLE,
            condition(
                "ScalingActive", "False", "FailedGetResourceMetric",
                "the HPA was unable to compute the replica count: failed to get cpu "
                "utilization: missing request for cpu in container podinfo of Pod "
                "podinfo-5d7f8b9c4-x2x9z",
            ),
        ],
        "currentMetrics": [
            {"type": ""},
            {"type": "Resource", "resource": {"name": "memory",
                                              "current": {"averageValue": "12918784"}}},
        ],
        "currentReplicas": 2,
        "desiredReplicas": 2,
    }
)  # fmt: skip

# Built: the idle lab, ready: both metrics known (kubectl: cpu: 3%/80%, memory: 12918784/200Mi).
READY = hpa(
    {
        "conditions": [ABLE | {"reason": "ReadyForNewScale",
                               "message": "recommended size matches current size"},
                       ACTIVE, LIMITED],
        "currentMetrics": [
            {"type": "Resource", "resource": {"name": "cpu",
                                              "current": {"averageUtilization": 3,
                                                          "averageValue": "0"}}},
            {"type": "Resource", "resource": {"name": "memory",
                                              "current": {"averageValue": "12918784"}}},
        ],
        "currentReplicas": 2,
        "desiredReplicas": 2,
        "lastScaleTime": "2026-11-25T08:40:00Z",
    }
)  # fmt: skip

# Built: cpu known, memory not (the controller scales on the valid metrics and keeps
# ScalingActive True: computeReplicasForMetrics with some invalid metrics, scaling up).
PARTIAL = hpa(
    {
        "conditions": [ABLE, ACTIVE, LIMITED],
        "currentMetrics": [READY["status"]["currentMetrics"][0], {"type": ""}],
        "currentReplicas": 2,
        "desiredReplicas": 3,
    }
)


def pod(name: str, ready: bool, **status) -> dict:
    conditions = [
        {"type": "PodScheduled", "status": "True"},
        {"type": "Ready", "status": "True" if ready else "False",
         **({} if ready else {"reason": "ContainersNotReady",
                              "message": "containers with unready status: [podinfo]"})},
    ]  # fmt: skip
    return {
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "podinfo"}},
        "status": {"phase": "Running", "conditions": conditions, **status},
    }


# Captured: a pod of the sandbox control plane (no nodes).
CAPTURED_PENDING_POD = {
    "metadata": {"name": "podinfo-dc8d6df88-6k4h5", "namespace": "default"},
    "status": {
        "conditions": [
            {"lastProbeTime": None, "lastTransitionTime": "2026-11-25T08:56:33Z",
             "message": "no nodes available to schedule pods", "observedGeneration": 1,
             "reason": "Unschedulable", "status": "False", "type": "PodScheduled"},
        ],
        "phase": "Pending",
        "qosClass": "Burstable",
    },
}  # fmt: skip


# ---------------------------------------------------------------- APIService


def test_apiservice_local_is_available():
    local = {
        "metadata": {"name": "v1.apps"},
        "spec": {"group": "apps", "version": "v1", "service": None},
        "status": {"conditions": [{"type": "Available", "status": "True", "reason": "Local",
                                   "message": "Local APIServices are always available"}]},
    }  # fmt: skip
    result = kr.assess_apiservice("v1.apps", local)
    assert result["available"] is True
    assert result["reason"] == "Local"
    assert result["service"] is None


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        # Captured from the sandbox control plane's kube-aggregator.
        ("MissingEndpoints",
         'endpointslices for service/metrics-server in "kube-system" have no addresses with '
         'port name "https"'),
        ("ServiceNotFound", 'service/metrics-server in "kube-system" is not present'),
        # remote_available_controller.go, when the backend answers badly.
        ("FailedDiscoveryCheck",
         "failing or missing response from https://10.96.0.20:443/apis/metrics.k8s.io/v1beta1: "
         "Get \"https://10.96.0.20:443/apis/metrics.k8s.io/v1beta1\": dial tcp 10.96.0.20:443: "
         "connect: connection refused"),
    ],
)  # fmt: skip
def test_apiservice_unavailable_keeps_the_aggregators_reason(reason, message):
    obj = {
        "metadata": {"name": "v1beta1.metrics.k8s.io"},
        "spec": {"service": {"namespace": "kube-system", "name": "metrics-server", "port": 443}},
        "status": {"conditions": [{"type": "Available", "status": "False",
                                   "reason": reason, "message": message}]},
    }  # fmt: skip
    result = kr.assess_apiservice("v1beta1.metrics.k8s.io", obj)
    assert result["available"] is False
    assert (result["reason"], result["message"]) == (reason, message)
    assert result["service"] == "kube-system/metrics-server"
    line = kr.describe_apiservice(result)
    assert line.startswith(f"v1beta1.metrics.k8s.io: {reason} (")
    assert message in line


def test_apiservice_missing_and_not_yet_checked():
    missing = kr.assess_apiservice("v1beta1.custom.metrics.k8s.io", None)
    assert (missing["available"], missing["reason"]) == (False, "NotFound")
    fresh = kr.assess_apiservice(
        "v1beta1.custom.metrics.k8s.io",
        {"spec": {"service": {"namespace": "monitoring", "name": "custom-metrics-apiserver"}}},
    )
    assert (fresh["available"], fresh["reason"]) == (False, "NoCondition")


# ---------------------------------------------------------------- HPA metrics


def test_metrics_display_as_kubectl_does():
    metrics = kr.hpa_metrics(READY)
    assert [m["display"] for m in metrics] == ["cpu: 3%/80%", "memory: 12918784/200Mi"]
    assert all(m["known"] for m in metrics)
    assert metrics[0]["current"]["averageUtilization"] == 3
    assert metrics[1]["target"] == {"type": "AverageValue", "averageValue": "200Mi"}


def test_empty_status_entries_are_unknown():
    metrics = kr.hpa_metrics(CAPTURED_NO_METRICS_API)
    assert [m["display"] for m in metrics] == ["cpu: <unknown>/80%", "memory: <unknown>/200Mi"]
    assert [m["current"] for m in metrics] == [None, None]
    custom = kr.hpa_metrics(CAPTURED_NO_CUSTOM_METRICS_API)
    assert custom[0]["display"] == "<unknown>/10"
    assert custom[0]["name"] == "http_requests"


def test_status_entries_belong_to_their_index():
    # memory's value sits at index 1: it must not be read as cpu's.
    metrics = kr.hpa_metrics(MISSING_REQUEST)
    assert [m["known"] for m in metrics] == [False, True]
    assert metrics[0]["display"] == "cpu: <unknown>/80%"


def test_no_status_yet_means_every_metric_unknown():
    metrics = kr.hpa_metrics(hpa({}))
    assert [m["known"] for m in metrics] == [False, False]


def test_pods_metric_known():
    served = copy.deepcopy(CAPTURED_NO_CUSTOM_METRICS_API)
    served["status"]["currentMetrics"] = [
        {"type": "Pods", "pods": {"metric": {"name": "http_requests"},
                                  "current": {"averageValue": "911m"}}}
    ]  # fmt: skip
    assert kr.hpa_metrics(served)[0]["display"] == "911m/10"


# ---------------------------------------------------------------- HPA readiness


def test_ready_hpa():
    report = kr.assess_hpa(READY, kr.assess_pods([pod("a", True), pod("b", True)], 2))
    assert report["ready"] is True
    assert report["problems"] == []
    assert report["replicas"] == {"min": 2, "max": 10, "current": 2, "desired": 2}
    assert report["conditions"]["ScalingLimited"]["reason"] == "DesiredWithinRange"


def test_no_metrics_api_names_the_controllers_reason():
    report = kr.assess_hpa(CAPTURED_NO_METRICS_API)
    assert report["ready"] is False
    first = report["problems"][0]
    assert first.startswith("ScalingActive=False (FailedGetResourceMetric): ")
    assert "unable to fetch metrics from resource metrics API" in first
    assert (
        "no current value (<unknown>) for Resource metric cpu, Resource metric memory"
        in (report["problems"])
    )


def test_missing_cpu_request():
    report = kr.assess_hpa(MISSING_REQUEST)
    assert report["ready"] is False
    assert "missing request for cpu in container podinfo" in report["problems"][0]
    assert report["problems"][1] == "no current value (<unknown>) for Resource metric cpu"


def test_custom_metrics_api_missing():
    report = kr.assess_hpa(CAPTURED_NO_CUSTOM_METRICS_API)
    assert "(FailedGetPodsMetric)" in report["problems"][0]
    assert "unable to fetch metrics from custom metrics API" in report["problems"][0]


def test_two_hpas_on_one_deployment():
    report = kr.assess_hpa(CAPTURED_AMBIGUOUS)
    assert report["problems"][0].startswith("ScalingActive=False (AmbiguousSelector): pods by")


def test_active_but_one_metric_unknown_is_not_ready():
    report = kr.assess_hpa(PARTIAL)
    assert report["problems"] == ["no current value (<unknown>) for Resource metric memory"]


def test_able_to_scale_false():
    failed = copy.deepcopy(READY)
    failed["status"]["conditions"][0] = condition(
        "AbleToScale", "False", "FailedGetScale",
        "the HPA controller was unable to get the target's current scale: "
        'deployments/scale.apps "podinfo" not found',
    )  # fmt: skip
    report = kr.assess_hpa(failed)
    assert report["problems"] == [
        "AbleToScale=False (FailedGetScale): the HPA controller was unable to get the target's "
        'current scale: deployments/scale.apps "podinfo" not found'
    ]


def test_scaling_disabled_when_target_at_zero():
    disabled = copy.deepcopy(READY)
    disabled["status"]["conditions"][1] = condition(
        "ScalingActive", "False", "ScalingDisabled",
        "scaling is disabled since the replica count of the target is zero",
    )  # fmt: skip
    assert kr.assess_hpa(disabled)["problems"][0].startswith(
        "ScalingActive=False (ScalingDisabled)"
    )


def test_not_yet_seen_by_the_controller():
    report = kr.assess_hpa(hpa({"currentReplicas": 0, "desiredReplicas": 0}))
    assert "has not reported on it yet" in report["problems"][0]


def test_pods_not_ready_are_named_with_their_reason():
    waiting = {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container"}
    crash = pod("podinfo-3", False, containerStatuses=[
        {"name": "podinfo", "ready": False, "state": {"waiting": waiting}}])  # fmt: skip
    probe = pod("podinfo-4", False, containerStatuses=[
        {"name": "podinfo", "ready": False, "state": {"running": {}}}])  # fmt: skip
    terminating = pod("old", False)
    terminating["metadata"]["deletionTimestamp"] = "2026-11-25T08:00:00Z"
    pods = kr.assess_pods(
        [pod("podinfo-1", True), CAPTURED_PENDING_POD, crash, probe, terminating], 2
    )
    assert (pods["ready"], pods["total"], pods["ok"]) == (1, 4, False)
    assert pods["not_ready"] == [
        "podinfo-dc8d6df88-6k4h5: Pending, not scheduled "
        "(Unschedulable: no nodes available to schedule pods)",
        "podinfo-3: container podinfo waiting "
        "(CrashLoopBackOff: back-off 40s restarting failed container)",
        "podinfo-4: container podinfo running but not ready (readiness probe)",
    ]
    report = kr.assess_hpa(READY, pods)
    assert report["problems"][0].startswith("1 of 2 wanted pods of the target are Ready: ")


def test_a_target_of_zero_wanted_still_needs_a_ready_pod():
    assert kr.assess_pods([], 0)["ok"] is False


# ---------------------------------------------------------------- scale target


def test_scale_path_from_discovery():
    discovery = {"resources": [
        {"name": "deployments", "kind": "Deployment"},
        {"name": "deployments/scale", "kind": "Scale"},
        {"name": "statefulsets", "kind": "StatefulSet"},
    ]}  # fmt: skip
    assert kr.plural_for_kind(discovery, "Deployment") == "deployments"
    assert kr.plural_for_kind(discovery, "Scale") is None
    ref = READY["spec"]["scaleTargetRef"]
    assert kr.scale_target_path("default", ref, "deployments") == (
        "/apis/apps/v1/namespaces/default/deployments/podinfo/scale"
    )
    rc = {"apiVersion": "v1", "kind": "ReplicationController", "name": "web"}
    assert kr.scale_target_path("lab", rc, "replicationcontrollers") == (
        "/api/v1/namespaces/lab/replicationcontrollers/web/scale"
    )


# ---------------------------------------------------------------- scale-out


def test_scale_thresholds():
    scaled = copy.deepcopy(READY)
    scaled["status"].update(currentReplicas=2, desiredReplicas=4)
    assert kr.replicas_measured(scaled, "desired") == 4
    assert kr.replicas_measured(scaled, "current") == 2
    assert kr.replicas_measured(scaled, "ready", 3) == 3
    assert kr.scale_reached(4, above=2) is True
    assert kr.scale_reached(2, above=2) is False
    assert kr.scale_reached(2, at_most=2) is True
    assert kr.scale_reached(3, at_most=2) is False
    with pytest.raises(ValueError):
        kr.scale_reached(3)


def event(reason: str, message: str, last: str | None, kind: str = "Normal", **extra) -> dict:
    return {
        "metadata": {"name": f"podinfo.{reason}", "creationTimestamp": last},
        "involvedObject": {"kind": "HorizontalPodAutoscaler", "name": "podinfo"},
        "reason": reason,
        "message": message,
        "type": kind,
        "count": 1,
        "firstTimestamp": last,
        "lastTimestamp": last,
        **extra,
    }


def test_rescale_events_since_the_load():
    events = [
        event("SuccessfulRescale",
              "New size: 4; reason: cpu resource utilization (percentage of request) above target",
              "2026-11-25T09:01:15Z"),
        event("SuccessfulRescale",
              "New size: 2; reason: Current number of replicas below Spec.MinReplicas",
              "2026-11-25T08:40:00Z"),  # before the load
        event("FailedGetResourceMetric", "failed to get cpu utilization: ...",
              "2026-11-25T09:00:30Z", kind="Warning", count=3),
        # events.k8s.io-style: no lastTimestamp, a MicroTime eventTime.
        event("SuccessfulRescale", "New size: 6; reason: All metrics below target", None,
              eventTime="2026-11-25T09:02:00.123456Z"),
    ]  # fmt: skip
    since = kr.parse_time("2026-11-25T09:00:00Z")
    result = kr.hpa_events(events, since)
    assert [e["reason"] for e in result] == [
        "FailedGetResourceMetric", "SuccessfulRescale", "SuccessfulRescale",
    ]  # fmt: skip
    assert result[0]["count"] == 3
    assert result[1]["new_size"] == 4
    assert result[1]["why"] == "cpu resource utilization (percentage of request) above target"
    assert result[1]["time"] == "2026-11-25T09:01:15Z"
    assert result[2]["new_size"] == 6
    assert "new_size" not in result[0]


def test_failed_rescale_message_is_split():
    failed = event(
        "FailedRescale",
        "New size: 5; reason: pods metric http_requests above target; error: Operation "
        "cannot be fulfilled on deployments.apps \"podinfo\": the object has been modified",
        "2026-11-25T09:00:00Z", kind="Warning",
    )  # fmt: skip
    (entry,) = kr.hpa_events([failed])
    assert (entry["new_size"], entry["why"]) == (5, "pods metric http_requests above target")


# ---------------------------------------------------------------- custom metrics

# Built like prometheus-adapter's answer (v1beta1 MetricValueList) for podinfo at idle.
METRIC_LIST = {
    "kind": "MetricValueList",
    "apiVersion": "custom.metrics.k8s.io/v1beta1",
    "metadata": {},
    "items": [
        {"describedObject": {"kind": "Pod", "namespace": "default",
                             "name": "podinfo-7d8b9c-abcde", "apiVersion": "/v1"},
         "metricName": "http_requests", "timestamp": "2026-11-25T09:00:00Z",
         "value": "911m", "selector": None},
        {"describedObject": {"kind": "Pod", "namespace": "default",
                             "name": "podinfo-7d8b9c-fghij", "apiVersion": "/v1"},
         "metricName": "http_requests", "timestamp": "2026-11-25T09:00:00Z",
         "value": "888m", "selector": None},
    ],
}  # fmt: skip


def test_custom_metric_served_for_expected_pods():
    report = kr.assess_custom_metric(
        METRIC_LIST, ["podinfo-7d8b9c-abcde", "podinfo-7d8b9c-fghij"], min_pods=2
    )
    assert report["ready"] is True
    assert [(v["pod"], v["value"], v["number"]) for v in report["values"]] == [
        ("podinfo-7d8b9c-abcde", "911m", pytest.approx(0.911)),
        ("podinfo-7d8b9c-fghij", "888m", pytest.approx(0.888)),
    ]


def test_custom_metric_missing_pod_and_too_few():
    report = kr.assess_custom_metric(METRIC_LIST, ["podinfo-7d8b9c-zzzzz"], min_pods=3)
    assert report["ready"] is False
    assert report["problems"] == [
        "values for 2 pods, at least 3 wanted",
        "no value for pods podinfo-7d8b9c-zzzzz",
    ]


def test_custom_metric_empty_list_and_v1beta2():
    empty = {"kind": "MetricValueList", "items": []}
    assert kr.assess_custom_metric(empty)["problems"] == ["values for 0 pods, at least 1 wanted"]
    v1beta2 = {"items": [{"describedObject": {"kind": "Pod", "name": "p"},
                          "metric": {"name": "http_requests", "selector": None},
                          "value": "10"}]}  # fmt: skip
    (value,) = kr.custom_metric_values(v1beta2)
    assert (value["metric"], value["number"]) == ("http_requests", 10.0)


# ---------------------------------------------------------------- small parsers


@pytest.mark.parametrize(
    ("text", "number"),
    [("911m", 0.911), ("200Mi", 200 * 2**20), ("3", 3.0), ("1.5k", 1500.0), ("12918784", 12918784),
     ("250u", 0.00025), ("1e3", 1000.0), (5, 5.0)],
)  # fmt: skip
def test_quantities(text, number):
    assert kr.parse_quantity(text) == pytest.approx(number)


@pytest.mark.parametrize("text", ["", "abc", "12 Mi", "1.2.3", None, True])
def test_not_quantities(text):
    assert kr.parse_quantity(text) is None


def test_times():
    assert kr.parse_time("2026-11-25T09:00:00Z") == kr.parse_time("2026-11-25T10:00:00+01:00")
    assert kr.parse_time("2026-11-25T09:00:00.123456789Z") == pytest.approx(
        kr.parse_time("2026-11-25T09:00:00Z") + 0.123456
    )
    assert kr.parse_time("1764061200") is None  # strings are times; numbers are epoch
    assert kr.parse_time(1764061200) == 1764061200.0
    assert kr.parse_time("yesterday") is None


@pytest.mark.parametrize(
    ("field", "value", "kind", "ok"),
    [("names[0]", "v1beta1.metrics.k8s.io", "apiservice", True),
     ("names[0]", "v1.", "apiservice", True),
     ("names[0]", "metrics.k8s.io", "apiservice", False),
     ("names[0]", "V1.apps", "apiservice", False),
     ("namespace", "default", "label", True),
     ("namespace", "Default", "label", False),
     ("namespace", "a.b", "label", False),
     ("name", "podinfo-custom", "subdomain", True),
     ("name", "podinfo_custom", "subdomain", False),
     ("name", "", "subdomain", False)],
)  # fmt: skip
def test_names(field, value, kind, ok):
    problem = kr.name_problem(field, value, kind)
    assert (problem is None) == ok
    if problem:
        assert problem.startswith(f"{field}: ")


def test_timing_problems():
    assert kr.timing_problems(0, 0.5) == []
    assert kr.timing_problems(-1, 0) == [
        "timeout: must be 0 (check once) or more seconds, got -1",
        "poll_interval: must be more than 0 seconds, got 0",
    ]


# ---------------------------------------------------------------- polling


class FakeClock:
    """A stand-in for time.monotonic/time.sleep: sleeping advances it."""

    def __init__(self):
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_wait_until_succeeds_on_a_later_check():
    fake = FakeClock()
    answers = iter([(False, "a"), (False, "b"), (True, "c")])
    done, value, elapsed, attempts = kr.wait_until(
        lambda: next(answers), 30, 2, fake.clock, fake.sleep
    )
    assert (done, value, elapsed, attempts) == (True, "c", 4.0, 3)


def test_wait_until_times_out_with_a_last_check_at_the_deadline():
    fake = FakeClock()
    done, value, elapsed, attempts = kr.wait_until(
        lambda: (False, fake.now), 5, 2, fake.clock, fake.sleep
    )
    assert done is False
    assert fake.sleeps == [2, 2, 1]
    assert (value, elapsed, attempts) == (105.0, 5.0, 4)


def test_timeout_zero_checks_once():
    fake = FakeClock()
    calls = []
    result = kr.wait_until(lambda: calls.append(1) or (False, None), 0, 2, fake.clock, fake.sleep)
    assert result[0] is False
    assert calls == [1]
    assert fake.sleeps == []


# ---------------------------------------------------------------- the modules' arguments

MODULES = ROOT / "collections/ansible_collections/atelier/kube/plugins/modules"


def run_module(module: str, args: dict, check_mode: bool = True) -> dict:
    """Runs a module as Ansible runs it (its file with an args file, ansible-test style),
    with no API server anywhere: these cases must fail before any connection."""
    payload = {"ANSIBLE_MODULE_ARGS": {**args, "_ansible_check_mode": check_mode}}
    done = subprocess.run(
        [sys.executable, str(MODULES / f"{module}.py")],
        input=json.dumps(payload), capture_output=True, text=True, timeout=60, check=False,
        env={"PYTHONPATH": str(ROOT / "collections"), "PATH": "/usr/bin:/bin",
             "HOME": str(ROOT), "KUBECONFIG": "/nonexistent/kubeconfig"},
    )  # fmt: skip
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    ("module", "args", "message"),
    [
        ("apiservice_ready", {"names": []}, "names: give at least one APIService name"),
        ("apiservice_ready", {"names": ["metrics"], "timeout": -5},
         "timeout: must be 0 (check once) or more seconds, got -5; names[0]: 'metrics' is not "
         "an APIService name"),
        ("apiservice_ready", {"names": ["v1.apps", "v1.apps"]}, "names: a name is listed twice"),
        ("apiservice_ready", {}, "missing required arguments: names"),
        ("hpa_ready", {"name": "podinfo", "namespace": "Lab 1"},
         "namespace: 'Lab 1' is not a valid namespace name"),
        ("hpa_ready", {"name": "podinfo", "poll_interval": 0},
         "poll_interval: must be more than 0 seconds, got 0"),
        ("hpa_ready", {"name": "podinfo", "timeout": "soon"}, "timeout"),
        ("custom_metric_served", {"metric": "pods/http_requests"},
         "metric: 'pods/http_requests' is not a metric name"),
        ("custom_metric_served", {"metric": "http_requests", "min_pods": -1},
         "min_pods: must be 0 or more, got -1"),
        ("custom_metric_served", {"metric": "http_requests", "api_version": "v2"},
         "api_version must be one of: v1beta1, v1beta2"),
        ("hpa_scale_out", {"name": "podinfo", "replicas_above": 2, "replicas_at_most": 2},
         "parameters are mutually exclusive: replicas_above|replicas_at_most"),
        ("hpa_scale_out", {"name": "podinfo", "since": "when the load started"},
         "since: 'when the load started' is neither an RFC 3339 time"),
        ("hpa_scale_out", {"name": "podinfo", "since": "2999-01-01T00:00:00Z"},
         "since: '2999-01-01T00:00:00Z' is in the future"),
        # Epoch seconds arrive as a string (now().timestamp() through a template).
        ("hpa_scale_out", {"name": "podinfo", "since": "32503680000.25"},
         "since: '32503680000.25' is in the future"),
        ("hpa_scale_out", {"name": "podinfo", "since": "1796112124.834303"},
         "kubeconfig (default $KUBECONFIG or ~/.kube/config): no file at /nonexistent/kubeconfig"),
        # Valid arguments, then the connection options are checked before any request.
        ("hpa_ready", {"name": "podinfo"},
         "kubeconfig (default $KUBECONFIG or ~/.kube/config): no file at /nonexistent/kubeconfig"),
        ("hpa_ready", {"name": "podinfo", "kubeconfig": "/nonexistent/admin.conf"},
         "kubeconfig: no file at /nonexistent/admin.conf"),
        ("apiservice_ready", {"names": ["v1.apps"], "host": "127.0.0.1:26443"},
         "host: '127.0.0.1:26443' must start with https:// or http://"),
        ("apiservice_ready", {"names": ["v1.apps"], "host": "https://127.0.0.1:26443",
                              "ca_cert": "/nonexistent/ca.crt"},
         "ca_cert: no file at /nonexistent/ca.crt"),
    ],
)  # fmt: skip
def test_bad_arguments_fail_with_a_message_naming_the_field(module, args, message):
    result = run_module(module, args)
    assert result.get("failed") is True
    assert message in result["msg"]


def test_a_kubeconfig_that_is_not_one(tmp_path):
    bad = tmp_path / "kubeconfig"
    bad.write_text("just: [a, list\n")
    result = run_module("apiservice_ready", {"names": ["v1.apps"], "kubeconfig": str(bad)})
    assert result["failed"] is True
    assert result["msg"].startswith(f"kubeconfig: {bad}")


def test_unreachable_api_names_the_host(tmp_path):
    # Port 9 on loopback: nothing listens there, so the connection is refused at once.
    result = run_module(
        "apiservice_ready",
        {"names": ["v1.apps"], "host": "https://127.0.0.1:9", "api_key": "t0ken",
         "validate_certs": False, "timeout": 0},
    )  # fmt: skip
    assert result["failed"] is True
    assert (
        result["msg"]
        == "cannot reach the Kubernetes API at https://127.0.0.1:9: Connection refused"
    )
    assert "t0ken" not in json.dumps(result)
