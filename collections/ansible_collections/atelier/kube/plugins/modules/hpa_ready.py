#!/usr/bin/python
# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait until a HorizontalPodAutoscaler is ready to act."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hpa_ready
short_description: Wait until a HorizontalPodAutoscaler is ready to act
description:
  - Waits until the HPA (C(autoscaling/v2)) is ready to act, polling every
    O(poll_interval) seconds for at most O(timeout) seconds.
  - Ready means that its conditions C(ScalingActive) and C(AbleToScale) are
    C(True), that every metric of C(spec.metrics) has a current value (none is
    C(<unknown>) in C(kubectl get hpa)), and, with O(wait_for_pods), that as
    many pods of the scale target (found through its C(/scale) subresource's
    selector) are Ready as the target wants.
  - On timeout, fails with what is missing in the HPA controller's own words,
    for example C(ScalingActive=False (FailedGetResourceMetric)) with
    C(missing request for cpu) or C(unable to fetch metrics from custom metrics
    API), and why pods are not Ready (unschedulable, image pull, probe).
  - Reads only; runs the same in check mode.
version_added: 0.1.0
author: kube-atelier developers (@kube-atelier)
extends_documentation_fragment:
  - atelier.kube.kube_auth
options:
  name:
    description: Name of the HPA.
    type: str
    required: true
  namespace:
    description: Namespace of the HPA and its target.
    type: str
    default: default
  wait_for_pods:
    description: Also wait until the target's pods are Ready.
    type: bool
    default: true
  timeout:
    description: Seconds to wait; C(0) checks once.
    type: int
    default: 180
  poll_interval:
    description: Seconds between two checks (the HPA controller syncs every 15 s by default).
    type: float
    default: 5.0
attributes:
  check_mode:
    description: Reads only, so it runs the same in check mode.
    support: full
"""

EXAMPLES = r"""
- name: The podinfo HPA has its metrics and its pods
  atelier.kube.hpa_ready:
    kubeconfig: "{{ cluster_admin_kubeconfig }}"
    name: podinfo
    namespace: default
    timeout: 300
  register: podinfo_hpa

- name: Report its metrics as kubectl get hpa shows them
  ansible.builtin.debug:
    msg: >-
      {{ podinfo_hpa.metrics | map(attribute='display') | join(', ') }}
      ({{ podinfo_hpa.replicas.current }} replicas)
"""

RETURN = r"""
ready:
  description: Whether the HPA was ready to act at the last check.
  returned: always
  type: bool
problems:
  description: Why it is not ready, one line each (empty when ready).
  returned: always
  type: list
  elements: str
conditions:
  description: The HPA's conditions by type (C(AbleToScale), C(ScalingActive), C(ScalingLimited)).
  returned: always
  type: dict
  sample:
    ScalingActive:
      status: "False"
      reason: FailedGetResourceMetric
      message: >-
        the HPA was unable to compute the replica count: failed to get cpu utilization:
        missing request for cpu in container podinfo of Pod podinfo-5d7f8b9c4-x2x9z
metrics:
  description: One entry per metric of C(spec.metrics), in order.
  returned: always
  type: list
  elements: dict
  contains:
    type:
      description: C(Resource), C(Pods), C(Object), C(External) or C(ContainerResource).
      type: str
    name:
      description: The resource (C(cpu), C(memory)) or the metric's name (C(http_requests)).
      type: str
    target:
      description:
        - The metric's target as in the spec (C(type), C(averageUtilization),
          C(averageValue), C(value)).
      type: dict
    current:
      description:
        - The current value as in the status (C(averageUtilization), C(averageValue),
          C(value)); null when unknown.
      type: dict
    known:
      description: Whether there is a current value.
      type: bool
    display:
      description:
        - "Current/target as C(kubectl get hpa) prints them, e.g. C(cpu: 3%/80%), C(911m/10)."
      type: str
replicas:
  description: The HPA's C(min), C(max), C(current) and C(desired) replica counts.
  returned: always
  type: dict
  sample: {min: 2, max: 10, current: 2, desired: 2}
pods:
  description:
    - The target's pods (C(wanted), C(total), C(ready), C(ok), C(not_ready) reasons).
    - Null without O(wait_for_pods) or when the target could not be read.
  returned: always
  type: dict
target:
  description: The scale target, C(kind/name).
  returned: when the HPA exists
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
    TargetReader,
    connect,
    failing_on_api_errors,
    hpa_path,
    wait_options,
)
from ansible_collections.atelier.kube.plugins.module_utils.kube_readiness import (
    assess_hpa,
    assess_pods,
    name_problem,
    timing_problems,
    wait_until,
)


def main():
    module = AnsibleModule(
        argument_spec={
            **AUTH_ARG_SPEC,
            "name": {"type": "str", "required": True},
            "namespace": {"type": "str", "default": "default"},
            "wait_for_pods": {"type": "bool", "default": True},
            **wait_options(180, 5.0),
        },
        supports_check_mode=True,
    )
    params = module.params
    problems = timing_problems(params["timeout"], params["poll_interval"])
    problems += [
        p
        for p in (
            name_problem("name", params["name"]),
            name_problem("namespace", params["namespace"], "label"),
        )
        if p
    ]
    if problems:
        module.fail_json(msg="; ".join(problems))
    namespace, name = params["namespace"], params["name"]
    api = connect(module)
    reader = TargetReader(api)

    def check():
        try:
            hpa = api.get_or_none(hpa_path(namespace, name))
            if hpa is None:
                report = assess_hpa({})
                report["problems"] = [f"no HPA {name} in namespace {namespace}"]
                report["ready"] = False
                return False, report
            pods, target_problem = None, None
            if params["wait_for_pods"]:
                scale, pod_list, target_problem = reader.read(namespace, hpa)
                if not target_problem:
                    wanted = (scale.get("spec") or {}).get("replicas") or 0
                    pods = assess_pods(pod_list, wanted)
            report = assess_hpa(hpa, pods)
        except KubeHTTPError as error:
            if error.fatal:
                raise
            report = assess_hpa({})
            report["problems"] = [str(error)]
            report["ready"] = False
            return False, report
        ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        report["target"] = f"{ref.get('kind')}/{ref.get('name')}"
        if target_problem:
            report["problems"].append(target_problem)
            report["ready"] = False
        return report["ready"], report

    with failing_on_api_errors(module, api):
        done, report, elapsed, _attempts = wait_until(
            check, params["timeout"], params["poll_interval"]
        )
    result = {"changed": False, "elapsed": round(elapsed, 1), **report}
    if not done:
        module.fail_json(
            msg=f"HPA {namespace}/{name} not ready after {round(elapsed)}s: "
            + "; ".join(report["problems"]),
            **result,
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
