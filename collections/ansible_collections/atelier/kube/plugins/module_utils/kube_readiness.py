# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is it ready? The pure decisions of the readiness modules (apiservice_ready,
hpa_ready, custom_metric_served, hpa_scale_out).

Every function here takes API objects as the API returns them (plain dicts
from JSON: autoscaling/v2 HorizontalPodAutoscaler, apiregistration.k8s.io/v1
APIService, custom.metrics.k8s.io MetricValueList, v1 Pod and Event) and
returns what a trainer needs: ready or not, and why not, in the words the
Kubernetes controllers use (condition reasons and messages). Nothing here talks
to an API server; polling and the client live in kube_api.py and the modules.

Reason strings come from upstream (Kubernetes v1.34):
- APIService Available (kube-aggregator, status/remote_available_controller.go):
  Passed, Local, ServiceNotFound, ServiceAccessError, ServicePortError,
  EndpointsAccessError, EndpointsNotFound, MissingEndpoints, FailedDiscoveryCheck.
- HPA (pkg/controller/podautoscaler/horizontal.go): AbleToScale
  SucceededGetScale/ReadyForNewScale/SucceededRescale/ScaleUpStabilized/
  ScaleDownStabilized (True), FailedGetScale/FailedUpdateScale (False);
  ScalingActive ValidMetricFound (True), FailedGetResourceMetric,
  FailedGetPodsMetric, FailedGetObjectMetric, FailedGetExternalMetric,
  FailedGetContainerResourceMetric, InvalidSelector, AmbiguousSelector,
  ScalingDisabled (False); ScalingLimited TooFewReplicas/TooManyReplicas (True),
  DesiredWithinRange (False).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

UNKNOWN = "<unknown>"

# A metric's source key in MetricSpec/MetricStatus, by its type.
METRIC_SOURCE_KEYS = {
    "Resource": "resource",
    "Pods": "pods",
    "Object": "object",
    "External": "external",
    "ContainerResource": "containerResource",
}

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
# An APIService is named <version>.<group>; the core group's is "v1." (empty group).
_APISERVICE_NAME = re.compile(r"^v[0-9]+((alpha|beta)[0-9]+)?\.([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$")

_SUFFIXES = {
    "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
    "P": 1e15, "E": 1e18, "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40,
    "Pi": 2.0**50, "Ei": 2.0**60,
}  # fmt: skip
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)$")


# ---------------------------------------------------------------- arguments


def name_problem(field: str, value: object, kind: str = "subdomain") -> str | None:
    """Why value is not a valid Kubernetes name for field, or None."""
    if not isinstance(value, str) or not value:
        return f"{field}: must be a non-empty string"
    if kind == "label" and not _DNS_LABEL.match(value):
        return (
            f"{field}: '{value}' is not a valid namespace name (lower case letters, digits "
            "and '-', at most 63 characters)"
        )
    if kind == "subdomain" and not _DNS_SUBDOMAIN.match(value):
        return (
            f"{field}: '{value}' is not a valid object name (lower case letters, digits, "
            "'-' and '.')"
        )
    if kind == "apiservice" and not _APISERVICE_NAME.match(value):
        return (
            f"{field}: '{value}' is not an APIService name (<version>.<group>, e.g. "
            "v1beta1.metrics.k8s.io, or v1. for the core group)"
        )
    return None


def timing_problems(timeout: object, poll_interval: object) -> list[str]:
    problems = []
    if timeout is None or timeout < 0:
        problems.append(f"timeout: must be 0 (check once) or more seconds, got {timeout}")
    if poll_interval is None or poll_interval <= 0:
        problems.append(f"poll_interval: must be more than 0 seconds, got {poll_interval}")
    return problems


# ---------------------------------------------------------------- values


def parse_quantity(text: object) -> float | None:
    """A Kubernetes quantity ("911m", "200Mi", "3", "1.5k") as a number, or None."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    if not isinstance(text, str):
        return None
    match = _QUANTITY.match(text.strip())
    if not match:
        return None
    try:
        return float(match.group(1)) * _SUFFIXES[match.group(2)]
    except ValueError:
        return None


def parse_time(text: object) -> float | None:
    """An RFC 3339 time from the API (or Ansible's iso8601) as epoch seconds, or None."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    if not isinstance(text, str) or not text:
        return None
    value = text.strip().replace("Z", "+00:00")
    # Python 3.10 fromisoformat takes at most 6 fraction digits (MicroTime has 6).
    value = re.sub(r"(\.\d{6})\d+", r"\1", value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def conditions_by_type(obj: dict | None) -> dict[str, dict]:
    """status.conditions as {type: {status, reason, message}}."""
    conditions = ((obj or {}).get("status") or {}).get("conditions") or []
    return {
        c.get("type"): {
            "status": c.get("status"),
            "reason": c.get("reason") or "",
            "message": c.get("message") or "",
        }
        for c in conditions
        if isinstance(c, dict) and c.get("type")
    }


def _describe_condition(kind: str, condition: dict | None) -> str:
    if not condition:
        return f"{kind}: not reported yet"
    text = f"{kind}={condition['status']}"
    if condition.get("reason"):
        text += f" ({condition['reason']})"
    if condition.get("message"):
        text += f": {condition['message']}"
    return text


# ---------------------------------------------------------------- APIService


def assess_apiservice(name: str, apiservice: dict | None) -> dict:
    """Whether one APIService is Available, with the aggregator's reason and message.

    apiservice is the object, or None when the API answered 404 for it."""
    if apiservice is None:
        return {
            "name": name,
            "available": False,
            "status": "Missing",
            "reason": "NotFound",
            "message": f"no APIService named {name} is registered",
            "service": None,
        }
    spec = apiservice.get("spec") or {}
    service = spec.get("service")
    where = f"{service.get('namespace')}/{service.get('name')}" if service else None
    condition = conditions_by_type(apiservice).get("Available")
    if not condition:
        return {
            "name": name,
            "available": False,
            "status": "Unknown",
            "reason": "NoCondition",
            "message": "the aggregator has not set the Available condition yet",
            "service": where,
        }
    return {
        "name": name,
        "available": condition["status"] == "True",
        "status": condition["status"],
        "reason": condition["reason"],
        "message": condition["message"],
        "service": where,
    }


def describe_apiservice(result: dict) -> str:
    text = f"{result['name']}: {result['reason'] or result['status']}"
    if result.get("message"):
        text += f" ({result['message']})"
    return text


# ---------------------------------------------------------------- HPA metrics


def metric_name(entry: dict) -> str:
    """The name a metric goes by: the resource (cpu, memory) or the metric's name."""
    source = entry.get(METRIC_SOURCE_KEYS.get(entry.get("type"), "")) or {}
    if entry.get("type") in ("Resource", "ContainerResource"):
        return source.get("name") or ""
    return (source.get("metric") or {}).get("name") or ""


def _value_text(values: dict | None, utilization: bool) -> str | None:
    if not values:
        return None
    if utilization:
        if values.get("averageUtilization") is None:
            return None
        return f"{values['averageUtilization']}%"
    for key in ("averageValue", "value"):
        if values.get(key) is not None:
            return str(values[key])
    return None


def hpa_metrics(hpa: dict) -> list[dict]:
    """Each metric of spec.metrics with its target and current value, as `kubectl get
    hpa` shows them. status.currentMetrics[i] belongs to spec.metrics[i] (the
    controller fills them by index and leaves an empty entry when it could not
    get a metric): a missing or empty entry is kubectl's <unknown>."""
    specs = (hpa.get("spec") or {}).get("metrics") or []
    statuses = (hpa.get("status") or {}).get("currentMetrics") or []
    metrics = []
    for index, spec in enumerate(specs):
        kind = spec.get("type") or ""
        key = METRIC_SOURCE_KEYS.get(kind, "")
        source = spec.get(key) or {}
        target = source.get("target") or {}
        utilization = target.get("type") == "Utilization" or (
            kind in ("Resource", "ContainerResource") and "averageUtilization" in target
        )
        status = statuses[index] if index < len(statuses) else {}
        current = None
        if isinstance(status, dict) and status.get("type") == kind:
            current = (status.get(key) or {}).get("current")
        target_text = _value_text(target, utilization) or "<auto>"
        current_text = _value_text(current, utilization)
        name = metric_name(spec)
        prefix = f"{name}: " if kind in ("Resource", "ContainerResource") else ""
        display = f"{prefix}{current_text or UNKNOWN}/{target_text}"
        if kind in ("Object", "External") and target.get("averageValue") is not None:
            display += " (avg)"
        metrics.append(
            {
                "type": kind,
                "name": name,
                "target": target,
                "current": current if current_text is not None else None,
                "known": current_text is not None,
                "display": display,
            }
        )
    return metrics


# ---------------------------------------------------------------- pods


def pod_is_ready(pod: dict) -> bool:
    return conditions_by_type(pod).get("Ready", {}).get("status") == "True"


def pod_counts(pod: dict) -> bool:
    """Whether a pod belongs to the workload's current set (not terminating or finished)."""
    metadata = pod.get("metadata") or {}
    phase = (pod.get("status") or {}).get("phase")
    return not metadata.get("deletionTimestamp") and phase not in ("Succeeded", "Failed")


def pod_problem(pod: dict) -> str | None:
    """Why a pod is not Ready, in the words of its status, or None when it is."""
    if pod_is_ready(pod):
        return None
    status = pod.get("status") or {}
    name = (pod.get("metadata") or {}).get("name", "?")
    conditions = conditions_by_type(pod)
    scheduled = conditions.get("PodScheduled")
    if scheduled and scheduled["status"] != "True":
        why = f"{scheduled['reason']}: {scheduled['message']}"
        return f"{name}: {status.get('phase', 'Pending')}, not scheduled ({why})"
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        for key in ("waiting", "terminated"):
            if state.get(key) and state[key].get("reason"):
                detail = state[key].get("message") or ""
                why = state[key]["reason"] + (f": {detail}" if detail else "")
                return f"{name}: container {container.get('name')} {key} ({why})"
        if container.get("ready") is False and "running" in state:
            return (
                f"{name}: container {container.get('name')} running but not ready (readiness probe)"
            )
    ready = conditions.get("Ready")
    if ready and ready.get("reason"):
        why = ready["reason"] + (f": {ready['message']}" if ready["message"] else "")
        return f"{name}: not ready ({why})"
    return f"{name}: {status.get('phase') or 'no status yet'}, not ready"


def assess_pods(pods: list[dict], wanted: int) -> dict:
    """Whether at least `wanted` of the workload's pods are Ready."""
    current = [pod for pod in pods if pod_counts(pod)]
    ready = [pod for pod in current if pod_is_ready(pod)]
    problems = [problem for problem in (pod_problem(pod) for pod in current) if problem]
    return {
        "wanted": wanted,
        "total": len(current),
        "ready": len(ready),
        "ok": len(ready) >= max(wanted, 1),
        "not_ready": problems,
    }


# ---------------------------------------------------------------- HPA


def hpa_replicas(hpa: dict) -> dict:
    spec = hpa.get("spec") or {}
    status = hpa.get("status") or {}
    return {
        "min": spec.get("minReplicas", 1),
        "max": spec.get("maxReplicas"),
        "current": status.get("currentReplicas", 0),
        "desired": status.get("desiredReplicas", 0),
    }


def assess_hpa(hpa: dict, pods: dict | None = None) -> dict:
    """Whether an HPA is ready to act: AbleToScale and ScalingActive True, every
    metric has a current value, and (when pods is given, from assess_pods) the
    target's pods are Ready. problems lists each reason it is not, most telling
    first (the controller's condition reason and message)."""
    conditions = conditions_by_type(hpa)
    metrics = hpa_metrics(hpa)
    problems = []
    if not conditions:
        problems.append(
            "the HPA controller has not reported on it yet (no status conditions; "
            "is kube-controller-manager running?)"
        )
    else:
        for kind in ("ScalingActive", "AbleToScale"):
            condition = conditions.get(kind)
            if not condition or condition["status"] != "True":
                problems.append(_describe_condition(kind, condition))
    if not metrics:
        problems.append("the HPA has no metrics in spec.metrics")
    unknown = [metric for metric in metrics if not metric["known"]]
    if unknown:
        problems.append(
            "no current value (<unknown>) for "
            + ", ".join(f"{m['type']} metric {m['name'] or '?'}" for m in unknown)
        )
    if pods is not None and not pods["ok"]:
        text = f"{pods['ready']} of {max(pods['wanted'], 1)} wanted pods of the target are Ready"
        if pods["not_ready"]:
            text += ": " + "; ".join(pods["not_ready"][:5])
            if len(pods["not_ready"]) > 5:
                text += f"; and {len(pods['not_ready']) - 5} more"
        problems.append(text)
    return {
        "ready": not problems,
        "problems": problems,
        "conditions": conditions,
        "metrics": metrics,
        "replicas": hpa_replicas(hpa),
        "pods": pods,
    }


def scale_target_path(namespace: str, ref: dict, plural: str) -> str:
    """API path of the /scale subresource of the HPA's scaleTargetRef."""
    api_version = ref.get("apiVersion") or "v1"
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    return f"{base}/namespaces/{namespace}/{plural}/{ref.get('name')}/scale"


def plural_for_kind(discovery: dict, kind: str) -> str | None:
    """The resource name of kind in an APIResourceList (GET /apis/<group>/<version>)."""
    for resource in discovery.get("resources") or []:
        if resource.get("kind") == kind and "/" not in resource.get("name", "/"):
            return resource["name"]
    return None


# ---------------------------------------------------------------- scale-out


def replicas_measured(hpa: dict, measure: str, ready_pods: int | None = None) -> int:
    """The replica count that `measure` names: the HPA's desired or current count,
    or the number of Ready pods of its target."""
    if measure == "ready":
        return ready_pods or 0
    return hpa_replicas(hpa)[measure] or 0


def scale_reached(count: int, above: int | None = None, at_most: int | None = None) -> bool:
    """Scale-out: count > above; scale-in: count <= at_most."""
    if above is not None:
        return count > above
    if at_most is not None:
        return count <= at_most
    raise ValueError("one of above or at_most is needed")


_RESCALE = re.compile(r"^New size: (\d+); reason: (.*?)(?:; error: (.*))?$", re.S)


def event_time(event: dict) -> float | None:
    """When an Event last happened (lastTimestamp, series, eventTime, creation)."""
    series = event.get("series") or {}
    for value in (
        event.get("lastTimestamp"),
        series.get("lastObservedTime"),
        event.get("eventTime"),
        event.get("firstTimestamp"),
        (event.get("metadata") or {}).get("creationTimestamp"),
    ):
        parsed = parse_time(value)
        if parsed is not None:
            return parsed
    return None


def hpa_events(events: list[dict], since: float | None = None) -> list[dict]:
    """The HPA's events (v1 Event list items), oldest first, last seen at or after
    since (epoch seconds); SuccessfulRescale/FailedRescale messages ("New size: 4;
    reason: cpu resource utilization (percentage of request) above target") are
    split into new_size and why."""
    result = []
    for event in events:
        when = event_time(event)
        # The API keeps whole seconds in lastTimestamp: compare at that resolution.
        if since is not None and when is not None and when < int(since):
            continue
        message = event.get("message") or ""
        entry = {
            "type": event.get("type"),
            "reason": event.get("reason"),
            "message": message,
            "count": event.get("count") or ((event.get("series") or {}).get("count")) or 1,
            "time": datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            if when is not None
            else None,
            "epoch": when,
        }
        match = (
            _RESCALE.match(message)
            if entry["reason"] in ("SuccessfulRescale", "FailedRescale")
            else None
        )
        if match:
            entry["new_size"] = int(match.group(1))
            entry["why"] = match.group(2)
        result.append(entry)
    result.sort(key=lambda e: e["epoch"] if e["epoch"] is not None else 0.0)
    return result


# ---------------------------------------------------------------- custom metrics


def custom_metric_values(metric_list: dict) -> list[dict]:
    """The items of a custom.metrics.k8s.io MetricValueList (v1beta1: metricName;
    v1beta2: metric.name) as {pod, namespace, kind, metric, value, number, timestamp}."""
    values = []
    for item in metric_list.get("items") or []:
        described = item.get("describedObject") or {}
        values.append(
            {
                "pod": described.get("name"),
                "namespace": described.get("namespace"),
                "kind": described.get("kind"),
                "metric": item.get("metricName") or (item.get("metric") or {}).get("name"),
                "value": item.get("value"),
                "number": parse_quantity(item.get("value")),
                "timestamp": item.get("timestamp"),
            }
        )
    return values


def assess_custom_metric(
    metric_list: dict, expected_pods: list[str] | None = None, min_pods: int = 1
) -> dict:
    """Whether a pods metric is served for every expected pod (and at least
    min_pods pods), each with a value."""
    values = custom_metric_values(metric_list)
    served = {value["pod"] for value in values if value["number"] is not None}
    problems = []
    if len(served) < min_pods:
        problems.append(f"values for {len(served)} pods, at least {min_pods} wanted")
    missing = sorted(set(expected_pods or []) - served)
    if missing:
        problems.append("no value for pods " + ", ".join(missing))
    unparsable = [v for v in values if v["number"] is None]
    if unparsable:
        problems.append(
            "values that are not quantities: "
            + ", ".join(f"{v['pod']}={v['value']!r}" for v in unparsable)
        )
    return {"ready": not problems, "problems": problems, "values": values}


# ---------------------------------------------------------------- polling


def wait_until(check, timeout: float, poll_interval: float, clock=time.monotonic, sleep=time.sleep):
    """Call check() until it returns (True, value) or timeout seconds have passed;
    check runs at least once, and once more at the deadline. Returns
    (done, value, elapsed seconds, attempts): value is check's last result."""
    started = clock()
    attempts = 0
    while True:
        attempts += 1
        done, value = check()
        elapsed = clock() - started
        if done or elapsed >= timeout:
            return done, value, elapsed, attempts
        sleep(max(0.0, min(poll_interval, timeout - elapsed)))
