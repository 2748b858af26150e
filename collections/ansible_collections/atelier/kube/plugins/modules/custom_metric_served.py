#!/usr/bin/python
# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait until the custom metrics API serves a pods metric for the expected pods."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: custom_metric_served
short_description: Wait until a custom metric is served for the expected pods
description:
  - Reads C(/apis/custom.metrics.k8s.io/<api_version>/namespaces/<namespace>/pods/*/<metric>),
    what C(kubectl get --raw) shows and what the HPA controller reads for a
    C(Pods) metric, optionally narrowed by a label selector, until it lists a
    value for every expected pod, polling every O(poll_interval) seconds for at
    most O(timeout) seconds.
  - The expected pods are O(pods) when given; otherwise, with O(selector), the
    Ready pods the selector picks (a pod that is not Ready is not scraped yet).
    At least O(min_pods) pods must have a value either way.
  - On timeout, fails with the API's answer (for example HTTP 404 when the
    adapter has no such metric or no APIService is registered, HTTP 503 when
    the APIService is not Available) or the pods that have no value.
  - Reads only; runs the same in check mode.
version_added: 0.1.0
author: kube-atelier developers (@kube-atelier)
extends_documentation_fragment:
  - atelier.kube.kube_auth
options:
  metric:
    description: The metric's name as the adapter exposes it (C(http_requests)).
    type: str
    required: true
  namespace:
    description: Namespace of the pods.
    type: str
    default: default
  selector:
    description:
      - Label selector of the pods (C(app=podinfo)); all pods of the namespace when not given.
    type: str
  pods:
    description: Names of pods that must have a value.
    type: list
    elements: str
  min_pods:
    description: How many pods at least must have a value.
    type: int
    default: 1
  api_version:
    description: Version of the custom metrics API to read.
    type: str
    choices: [v1beta1, v1beta2]
    default: v1beta1
  timeout:
    description: Seconds to wait; C(0) checks once.
    type: int
    default: 120
  poll_interval:
    description: Seconds between two checks.
    type: float
    default: 5.0
attributes:
  check_mode:
    description: Reads only, so it runs the same in check mode.
    support: full
"""

EXAMPLES = r"""
- name: Prometheus adapter serves http_requests for every ready podinfo pod
  atelier.kube.custom_metric_served:
    kubeconfig: "{{ cluster_admin_kubeconfig }}"
    metric: http_requests
    namespace: default
    selector: app=podinfo
    min_pods: 2
  register: http_requests

- name: Show the values (about 900m per pod at idle)
  ansible.builtin.debug:
    msg: "{{ http_requests.metric_values | items2dict(key_name='pod', value_name='value') }}"
"""

RETURN = r"""
metric_values:
  description: The metric's values, one per pod listed by the API.
  returned: always
  type: list
  elements: dict
  contains:
    pod:
      description: Pod name.
      type: str
    namespace:
      description: Pod namespace.
      type: str
    kind:
      description: Kind of the described object (C(Pod)).
      type: str
    metric:
      description: Metric name.
      type: str
    value:
      description: The value as the API gives it, a quantity (C(911m)).
      type: str
    number:
      description: The value as a number (C(0.911)); null when it is not a quantity.
      type: float
    timestamp:
      description: When the adapter computed it.
      type: str
expected_pods:
  description: The pods that had to have a value (from O(pods) or O(selector)).
  returned: always
  type: list
  elements: str
problems:
  description: Why the metric is not served as wanted (empty when it is).
  returned: always
  type: list
  elements: str
path:
  description: The API path read.
  returned: always
  type: str
elapsed:
  description: Seconds waited.
  returned: always
  type: float
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.atelier.kube.plugins.module_utils.kube_api import (
    AUTH_ARG_SPEC,
    KubeHTTPError,
    connect,
    failing_on_api_errors,
    wait_options,
)
from ansible_collections.atelier.kube.plugins.module_utils.kube_readiness import (
    assess_custom_metric,
    name_problem,
    pod_counts,
    pod_is_ready,
    timing_problems,
    wait_until,
)


def main():
    module = AnsibleModule(
        argument_spec={
            **AUTH_ARG_SPEC,
            "metric": {"type": "str", "required": True},
            "namespace": {"type": "str", "default": "default"},
            "selector": {"type": "str"},
            "pods": {"type": "list", "elements": "str"},
            "min_pods": {"type": "int", "default": 1},
            "api_version": {
                "type": "str",
                "choices": ["v1beta1", "v1beta2"],
                "default": "v1beta1",
            },
            **wait_options(120, 5.0),
        },
        supports_check_mode=True,
    )
    params = module.params
    problems = timing_problems(params["timeout"], params["poll_interval"])
    problems += [p for p in (name_problem("namespace", params["namespace"], "label"),) if p]
    metric = params["metric"]
    if not metric or "/" in metric or metric.strip() != metric:
        problems.append(f"metric: '{metric}' is not a metric name (e.g. http_requests)")
    if params["min_pods"] < 0:
        problems.append(f"min_pods: must be 0 or more, got {params['min_pods']}")
    problems += [
        p for p in (name_problem(f"pods[{i}]", n) for i, n in enumerate(params["pods"] or [])) if p
    ]
    if params["selector"] is not None and not params["selector"].strip():
        problems.append("selector: empty; leave it out to read every pod of the namespace")
    if problems:
        module.fail_json(msg="; ".join(problems))

    namespace = params["namespace"]
    group_version = f"custom.metrics.k8s.io/{params['api_version']}"
    path = f"/apis/{group_version}/namespaces/{namespace}/pods/*/{metric}"
    query = {"labelSelector": params["selector"]} if params["selector"] else {}
    api = connect(module)

    def expected_pods() -> list[str]:
        if params["pods"]:
            return list(params["pods"])
        if not params["selector"]:
            return []
        pods = api.get(f"/api/v1/namespaces/{namespace}/pods", query).get("items") or []
        return sorted(p["metadata"]["name"] for p in pods if pod_counts(p) and pod_is_ready(p))

    def check():
        expected = []
        try:
            expected = expected_pods()
            report = assess_custom_metric(api.get(path, query), expected, params["min_pods"])
        except KubeHTTPError as error:
            if error.fatal:
                raise
            report = {"ready": False, "values": [], "problems": [str(error)]}
        report["expected_pods"] = expected
        return report["ready"], report

    with failing_on_api_errors(module, api):
        done, report, elapsed, _attempts = wait_until(
            check, params["timeout"], params["poll_interval"]
        )
    result = {
        "changed": False,
        "path": path,
        "elapsed": round(elapsed, 1),
        "metric_values": report["values"],
        "expected_pods": report["expected_pods"],
        "problems": report["problems"],
    }
    if not done:
        module.fail_json(
            msg=f"custom metric {metric} not served for the pods in {namespace} after "
            f"{round(elapsed)}s: " + "; ".join(report["problems"]),
            **result,
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
