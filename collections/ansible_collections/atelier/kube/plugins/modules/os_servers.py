#!/usr/bin/python
# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Create or delete many OpenStack servers at once."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: os_servers
short_description: Create or delete many OpenStack servers at once
description:
  - Converges on a set of servers named by the caller. Missing servers are
    created concurrently; one list call per poll watches all of them until they
    are ACTIVE. A server that ends in ERROR is deleted and created again up to
    O(retries) times. Transient API errors (connection errors, HTTP 5xx, 409,
    429) are retried; a quota refusal is reported for the server that hit it.
  - Duplicates of a name (left by a create that timed out but went through) are
    removed, so a re-run converges on exactly one server per name.
  - Floating IPs are attached to the servers that ask for one, and deleted with
    their server.
  - With O(state=absent), deletes the named servers, or every server whose
    metadata carries all of O(match_metadata).
  - Takes the connection options of the C(openstack.cloud) collection. It is
    in the action group C(group/atelier.kube.openstack), which extends
    C(group/openstack.cloud.openstack), so C(module_defaults) set for the
    former apply to the modules of both collections.
version_added: 0.1.0
author: kube-atelier developers (@kube-atelier)
extends_documentation_fragment:
  - openstack.cloud.openstack
options:
  servers:
    description: The servers wanted (O(state=present)), or whose names to delete (O(state=absent)).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Server name, unique in the project.
        type: str
        required: true
      flavor:
        description: Flavor name or ID.
        type: str
      image:
        description: Image name or ID.
        type: str
      network:
        description: Network name or ID the server gets its port on.
        type: str
      key_name:
        description: Keypair to inject.
        type: str
      security_groups:
        description: Security group names.
        type: list
        elements: str
        default: []
      metadata:
        description: Server metadata (used to find a cohort's servers again).
        type: dict
        default: {}
      floating_ip:
        description: Attach a floating IP from O(external_network).
        type: bool
        default: false
  state:
    description: Whether the servers should exist.
    type: str
    choices: [present, absent]
    default: present
  match_metadata:
    description: With O(state=absent), also delete every server whose metadata has all these items.
    type: dict
    default: {}
  keep_floating_ips:
    description:
      - With O(state=absent), detach the servers' floating IPs instead of deleting them. A server
        of the same name created later gets its address back (a rebuilt cluster's login host keeps
        the address its learners' cards print). Without it, such kept addresses are deleted too.
    type: bool
    default: false
  external_network:
    description: Network floating IPs come from.
    type: str
  workers:
    description: How many API calls run at once.
    type: int
    default: 10
  retries:
    description: How many more tries a server (ERROR) or an API call (transient error) gets.
    type: int
    default: 2
  timeout:
    description: Seconds to wait for the servers to become ACTIVE (or be gone).
    type: int
    default: 900
  poll_interval:
    description: Seconds between two list calls while waiting.
    type: float
    default: 2.0
requirements:
  - openstacksdk >= 1.0
"""

EXAMPLES = r"""
- name: Create the servers of a cohort
  atelier.kube.os_servers:
    cloud: jetstream2
    external_network: public
    servers:
      - name: demo-c01-n1
        flavor: m3.medium
        image: Featured-Ubuntu24
        network: demo-net
        key_name: demo
        security_groups: [demo-cluster]
        metadata: {atelier_cohort: demo, atelier_cluster: "01"}
        floating_ip: true

- name: Delete every server of the cohort, wherever its name came from
  atelier.kube.os_servers:
    cloud: jetstream2
    state: absent
    match_metadata: {atelier_cohort: demo}
"""

RETURN = r"""
servers:
  description: One entry per wanted server, in the order given (O(state=present)).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Server name.
      type: str
    id:
      description: Server ID; null when it could not be created.
      type: str
    status:
      description: C(active), C(failed), C(would be created), or the server's status in lower case.
      type: str
    private_ip:
      description: Fixed IPv4 address on the server's network.
      type: str
    public_ip:
      description: Floating IP, when one was asked for.
      type: str
    created:
      description: Whether this run created it.
      type: bool
    attempts:
      description: Create calls made for it in this run.
      type: int
    error:
      description: Why it is not ACTIVE, or what failed around it.
      type: str
deleted:
  description: Names of the servers deleted (O(state=absent)).
  returned: always
  type: list
  elements: str
failed_servers:
  description: The entries of RV(servers) that are not ACTIVE, with their reason.
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.atelier.kube.plugins.module_utils.server_fleet import (
    Fleet,
    FleetError,
    ServerSpec,
    describe_error,
)
from ansible_collections.openstack.cloud.plugins.module_utils.openstack import OpenStackModule

SERVER_OPTIONS = {
    "name": {"type": "str", "required": True},
    "flavor": {"type": "str"},
    "image": {"type": "str"},
    "network": {"type": "str"},
    "key_name": {"type": "str", "no_log": False},
    "security_groups": {"type": "list", "elements": "str", "default": []},
    "metadata": {"type": "dict", "default": {}},
    "floating_ip": {"type": "bool", "default": False},
}


class OsServersModule(OpenStackModule):
    argument_spec = {
        "servers": {"type": "list", "elements": "dict", "default": [], "options": SERVER_OPTIONS},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "match_metadata": {"type": "dict", "default": {}},
        "keep_floating_ips": {"type": "bool", "default": False},
        "external_network": {"type": "str"},
        "workers": {"type": "int", "default": 10},
        "retries": {"type": "int", "default": 2},
        "timeout": {"type": "int", "default": 900},
        "poll_interval": {"type": "float", "default": 2.0},
    }
    module_kwargs = {"supports_check_mode": True}

    def _check_servers(self) -> None:
        """Name every server entry that lacks what a create needs, before any call."""
        problems = []
        seen = set()
        for index, server in enumerate(self.params["servers"]):
            if server["name"] in seen:
                problems.append(f"servers[{index}].name: '{server['name']}' is listed twice")
            seen.add(server["name"])
            if self.params["state"] == "present":
                problems.extend(
                    f"servers[{index}].{key}: missing (needed to create '{server['name']}')"
                    for key in ("flavor", "image", "network")
                    if not server[key]
                )
            if server["floating_ip"] and not self.params["external_network"]:
                problems.append(f"servers[{index}].floating_ip: true needs external_network")
        if problems:
            self.fail_json(msg="; ".join(problems))

    def run(self):
        self._check_servers()
        fleet = Fleet(
            self.conn,
            workers=self.params["workers"],
            timeout=self.params["timeout"],
            poll_interval=self.params["poll_interval"],
            retries=self.params["retries"],
            external_network=self.params["external_network"],
            check_mode=self.check_mode,
        )
        try:
            if self.params["state"] == "absent":
                names = {server["name"] for server in self.params["servers"]}
                deleted = fleet.ensure_absent(
                    names, self.params["match_metadata"], self.params["keep_floating_ips"]
                )
                self.exit_json(
                    changed=fleet.changed, deleted=deleted, servers=[], failed_servers=[]
                )
            specs = [ServerSpec(**server) for server in self.params["servers"]]
            outcomes = [outcome.as_dict() for outcome in fleet.ensure_present(specs)]
        except FleetError as error:
            self.fail_json(msg=str(error), changed=fleet.changed)
        except Exception as error:
            self.fail_json(msg="OpenStack API: " + describe_error(error), changed=fleet.changed)
        failed = [
            o for o in outcomes if o["status"] not in ("active", "would be created") or o["error"]
        ]
        result = {
            "changed": fleet.changed,
            "servers": outcomes,
            "deleted": [],
            "failed_servers": failed,
        }
        if failed:
            reasons = "; ".join(f"{o['name']}: {o['error'] or o['status']}" for o in failed)
            self.fail_json(
                msg=f"{len(failed)} of {len(outcomes)} servers not ready: {reasons}", **result
            )
        self.exit_json(**result)


def main():
    module = OsServersModule()
    module()


if __name__ == "__main__":
    main()
