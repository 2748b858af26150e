#!/usr/bin/python
# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Watch an HPA until it scales out (or back in) and report how long it took."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hpa_scale_out
short_description: Watch an HPA until it scales out or back in, and time it
description:
  - Watches a HorizontalPodAutoscaler (C(autoscaling/v2)) every
    O(poll_interval) seconds until its replica count (see O(measure)) is above
    O(replicas_above) (scale-out; the default, with the HPA's C(minReplicas) as
    threshold) or at most O(replicas_at_most) (scale-in), for at most
    O(timeout) seconds.
  - Returns the time it took, counted from O(since) when given (when the load
    started) or else from the module's start, and the HPA's events since then,
    with the C(SuccessfulRescale) ones split into new size and reason (for
    example C(cpu resource utilization (percentage of request) above target)).
  - It does not make the load; start it before (for example C(hey) run
    asynchronously from the login host) and pass its start time as O(since).
  - On timeout, fails with the replica count reached, the HPA's
    C(ScalingActive) and C(AbleToScale) conditions and its last events.
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
    description: Namespace of the HPA.
    type: str
    default: default
  replicas_above:
    description:
      - For a scale-out, wait until the count is more than this. Defaults to the HPA's
        C(minReplicas) when neither this nor O(replicas_at_most) is given.
    type: int
  replicas_at_most:
    description: For a scale-in, wait until the count is this or less.
    type: int
  measure:
    description:
      - Which count to watch. C(desired) is the HPA's decision
        (C(status.desiredReplicas), set when it rescales the target);
        C(current) is C(status.currentReplicas) (the target's pods as the HPA
        last saw them); C(ready) counts the target's Ready pods.
    type: str
    choices: [desired, current, ready]
    default: desired
  since:
    description:
      - When the load started, RFC 3339 (C(2026-11-25T09:00:00Z), as
        C(ansible_date_time.iso8601) gives it) or seconds since the epoch.
        RV(elapsed) counts from it and RV(events) start there. Defaults to the module's start.
    type: str
  timeout:
    description: Seconds to wait; C(0) checks once.
    type: int
    default: 300
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
- name: Note when the load starts
  ansible.builtin.set_fact:
    load_started: "{{ now(utc=true).strftime('%Y-%m-%dT%H:%M:%SZ') }}"

- name: Wait for podinfo to scale above its minimum
  atelier.kube.hpa_scale_out:
    kubeconfig: "{{ cluster_admin_kubeconfig }}"
    name: podinfo
    since: "{{ load_started }}"
    timeout: 300
  register: scale_out

- name: Report it
  ansible.builtin.debug:
    msg: >-
      {{ scale_out.replicas.desired }} replicas after {{ scale_out.elapsed }} s:
      {{ scale_out.rescales | map(attribute='why') | list }}

- name: Optionally wait for the scale-in (5 minutes of stabilisation by default)
  atelier.kube.hpa_scale_out:
    kubeconfig: "{{ cluster_admin_kubeconfig }}"
    name: podinfo
    replicas_at_most: 2
    timeout: 600
"""

RETURN = r"""
reached:
  description: Whether the count crossed the threshold.
  returned: always
  type: bool
count:
  description: The last value of the watched count (O(measure)).
  returned: always
  type: int
threshold:
  description: C(above N) or C(at most N).
  returned: always
  type: str
replicas:
  description: The HPA's C(min), C(max), C(current) and C(desired) counts at the last check.
  returned: always
  type: dict
elapsed:
  description:
    - Seconds from O(since) (or the module's start) to the check that saw the
      threshold crossed, or to the timeout.
  returned: always
  type: float
metrics:
  description: The HPA's metrics at the last check, as M(atelier.kube.hpa_ready) returns them.
  returned: always
  type: list
  elements: dict
events:
  description: The HPA's events since O(since), oldest first.
  returned: always
  type: list
  elements: dict
  contains:
    type:
      description: C(Normal) or C(Warning).
      type: str
    reason:
      description: C(SuccessfulRescale), C(FailedGetResourceMetric), ...
      type: str
    message:
      description: The event's message.
      type: str
    count:
      description: How many times it happened.
      type: int
    time:
      description: When it last happened (UTC, RFC 3339).
      type: str
rescales:
  description:
    - The C(SuccessfulRescale) events of RV(events), with C(new_size) (int) and
      C(why) (the controller's reason) added.
  returned: always
  type: list
  elements: dict
"""

import re
import time

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
    assess_pods,
    conditions_by_type,
    hpa_events,
    hpa_metrics,
    hpa_replicas,
    name_problem,
    parse_time,
    replicas_measured,
    scale_reached,
    timing_problems,
    wait_until,
)

EPOCH_SECONDS = re.compile(r"^[0-9]+(\.[0-9]+)?$")


def _check_params(params: dict, started_wall: float) -> tuple[list[str], float]:
    """Problems with the arguments, and since as epoch seconds."""
    problems = timing_problems(params["timeout"], params["poll_interval"])
    problems += [
        p
        for p in (
            name_problem("name", params["name"]),
            name_problem("namespace", params["namespace"], "label"),
        )
        if p
    ]
    for key in ("replicas_above", "replicas_at_most"):
        if params[key] is not None and params[key] < 0:
            problems.append(f"{key}: must be 0 or more, got {params[key]}")
    since = started_wall
    if params["since"]:
        # Ansible hands a number over as a string (the option is a str): digits
        # are epoch seconds, anything else an RFC 3339 time.
        text = params["since"].strip()
        parsed = float(text) if EPOCH_SECONDS.match(text) else parse_time(text)
        if parsed is None:
            problems.append(
                f"since: '{params['since']}' is neither an RFC 3339 time "
                "(2026-11-25T09:00:00Z) nor seconds since the epoch"
            )
        elif parsed > started_wall + 60:
            problems.append(f"since: '{params['since']}' is in the future")
        else:
            since = parsed
    return problems, since


def _tolerant(check, state: dict):
    """check, with an API error that waiting may cure (5xx, 404) noted as not yet."""

    def wrapped():
        try:
            return check()
        except KubeHTTPError as error:
            if error.fatal:
                raise
            state["problem"] = str(error)
            return False, None

    return wrapped


def _failure_reasons(state: dict, hpa: dict, events: list[dict]) -> list[str]:
    why = [state["problem"]] if state.get("problem") else []
    why += [
        f"{kind}={c['status']} ({c['reason']}): {c['message']}"
        for kind, c in conditions_by_type(hpa).items()
        if kind in ("ScalingActive", "AbleToScale")
    ]
    why += [f"event {e['reason']}: {e['message']}" for e in events[-3:]]
    return why


def main():
    module = AnsibleModule(
        argument_spec={
            **AUTH_ARG_SPEC,
            "name": {"type": "str", "required": True},
            "namespace": {"type": "str", "default": "default"},
            "replicas_above": {"type": "int"},
            "replicas_at_most": {"type": "int"},
            "measure": {
                "type": "str",
                "choices": ["desired", "current", "ready"],
                "default": "desired",
            },
            "since": {"type": "str"},
            **wait_options(300, 5.0),
        },
        mutually_exclusive=[("replicas_above", "replicas_at_most")],
        supports_check_mode=True,
    )
    started_wall = time.time()
    params = module.params
    problems, since = _check_params(params, started_wall)
    if problems:
        module.fail_json(msg="; ".join(problems))

    namespace, name, measure = params["namespace"], params["name"], params["measure"]
    above, at_most = params["replicas_above"], params["replicas_at_most"]
    api = connect(module)
    reader = TargetReader(api)
    state = {}

    def check():
        hpa = api.get_or_none(hpa_path(namespace, name))
        if hpa is None:
            state["problem"] = f"no HPA {name} in namespace {namespace}"
            return False, None
        state["hpa"] = hpa
        threshold_above = above
        if above is None and at_most is None:
            threshold_above = hpa_replicas(hpa)["min"]
        state["threshold"] = (
            f"above {threshold_above}" if threshold_above is not None else f"at most {at_most}"
        )
        ready = None
        if measure == "ready":
            _scale, pods, problem = reader.read(namespace, hpa)
            state["problem"] = problem
            ready = assess_pods(pods, 0)["ready"]
        count = replicas_measured(hpa, measure, ready)
        state["count"] = count
        reached = scale_reached(count, threshold_above, at_most)
        state["reached_at"] = time.time()
        return reached, count

    with failing_on_api_errors(module, api):
        done = wait_until(_tolerant(check, state), params["timeout"], params["poll_interval"])[0]
        event_list = api.get(
            f"/api/v1/namespaces/{namespace}/events",
            {
                "fieldSelector": "involvedObject.kind=HorizontalPodAutoscaler,"
                f"involvedObject.name={name}"
            },
        )
    events = hpa_events(event_list.get("items") or [], since)
    hpa = state.get("hpa") or {}
    result = {
        "changed": False,
        "reached": done,
        "count": state.get("count", 0),
        "threshold": state.get("threshold", ""),
        "replicas": hpa_replicas(hpa),
        "elapsed": round(state.get("reached_at", time.time()) - since, 1),
        "metrics": hpa_metrics(hpa),
        "events": events,
        "rescales": [e for e in events if e["reason"] == "SuccessfulRescale"],
    }
    if not done:
        why = _failure_reasons(state, hpa, events)
        module.fail_json(
            msg=f"HPA {namespace}/{name}: {measure} replicas {result['count']}, not "
            f"{result['threshold']} after {round(result['elapsed'])}s"
            + (": " + "; ".join(why) if why else ""),
            **result,
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
