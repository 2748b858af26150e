#!/usr/bin/python
# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait until APIServices are Available."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: apiservice_ready
short_description: Wait until APIServices are Available
description:
  - Waits until every named APIService (C(apiregistration.k8s.io/v1)) has the
    condition C(Available=True), polling all of them every O(poll_interval)
    seconds for at most O(timeout) seconds.
  - On timeout, fails with each unavailable APIService's condition reason and
    message as the aggregator set them, for example C(MissingEndpoints) (no
    ready pod behind the Service), C(ServiceNotFound), C(FailedDiscoveryCheck)
    (the backend answers, but not as an API server), or C(NotFound) when no
    such APIService is registered.
  - Reads only; runs the same in check mode.
version_added: 0.1.0
author: kube-atelier developers (@kube-atelier)
extends_documentation_fragment:
  - atelier.kube.kube_auth
options:
  names:
    description:
      - APIService names, C(<version>.<group>), e.g. C(v1beta1.metrics.k8s.io).
    type: list
    elements: str
    required: true
  timeout:
    description: Seconds to wait for all of them; C(0) checks once.
    type: int
    default: 120
  poll_interval:
    description: Seconds between two checks.
    type: float
    default: 2.0
attributes:
  check_mode:
    description: Reads only, so it runs the same in check mode.
    support: full
"""

EXAMPLES = r"""
- name: The resource and custom metrics APIs answer
  atelier.kube.apiservice_ready:
    kubeconfig: "{{ cluster_admin_kubeconfig }}"
    names:
      - v1beta1.metrics.k8s.io
      - v1beta1.custom.metrics.k8s.io
    timeout: 180
  register: metrics_apis

- name: Show why one is not available (after a failure with ignore_errors)
  ansible.builtin.debug:
    msg: "{{ metrics_apis.apiservices | map(attribute='reason') }}"
"""

RETURN = r"""
apiservices:
  description: One entry per name, in the order given, as last seen.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: APIService name.
      type: str
    available:
      description: Whether its C(Available) condition is C(True).
      type: bool
    status:
      description: The condition's status (C(True), C(False), C(Unknown)), or C(Missing).
      type: str
    reason:
      description:
        - The condition's reason (C(Passed), C(Local), C(MissingEndpoints), ...),
          or C(NotFound).
      type: str
    message:
      description: The condition's message.
      type: str
    service:
      description: The backing Service as C(namespace/name); null for a local APIService.
      type: str
unavailable:
  description: Names of the APIServices not Available.
  returned: always
  type: list
  elements: str
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
    assess_apiservice,
    describe_apiservice,
    name_problem,
    timing_problems,
    wait_until,
)

PATH = "/apis/apiregistration.k8s.io/v1/apiservices/{}"


def main():
    module = AnsibleModule(
        argument_spec={
            **AUTH_ARG_SPEC,
            "names": {"type": "list", "elements": "str", "required": True},
            **wait_options(120, 2.0),
        },
        supports_check_mode=True,
    )
    names = module.params["names"]
    problems = timing_problems(module.params["timeout"], module.params["poll_interval"])
    if not names:
        problems.append("names: give at least one APIService name")
    problems.extend(
        p for p in (name_problem(f"names[{i}]", n, "apiservice") for i, n in enumerate(names)) if p
    )
    if len(set(names)) != len(names):
        problems.append("names: a name is listed twice")
    if problems:
        module.fail_json(msg="; ".join(problems))

    api = connect(module)

    def one(name):
        try:
            return assess_apiservice(name, api.get_or_none(PATH.format(name)))
        except KubeHTTPError as error:
            if error.fatal:
                raise
            return {
                "name": name,
                "available": False,
                "status": "Unknown",
                "reason": f"HTTP {error.status}",
                "message": error.message,
                "service": None,
            }

    def check():
        results = [one(name) for name in names]
        return all(r["available"] for r in results), results

    with failing_on_api_errors(module, api):
        done, results, elapsed, _attempts = wait_until(
            check, module.params["timeout"], module.params["poll_interval"]
        )
    unavailable = [r for r in results if not r["available"]]
    result = {
        "changed": False,
        "apiservices": results,
        "unavailable": [r["name"] for r in unavailable],
        "elapsed": round(elapsed, 1),
    }
    if not done:
        module.fail_json(
            msg=f"{len(unavailable)} of {len(results)} APIServices not Available after "
            f"{round(elapsed)}s: " + "; ".join(describe_apiservice(r) for r in unavailable),
            **result,
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
