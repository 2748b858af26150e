# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cohort file as an Ansible inventory."""

from __future__ import annotations

DOCUMENTATION = r"""
name: cohort
short_description: A kube-atelier cohort file as an inventory
description:
  - Reads a cohort file (C(cohort.yml), or a file ending in C(.cohort.yml)) that
    describes a training cohort, validates all of it first (one line per
    problem, naming the field, the bad value and what is allowed), and lists the planned
    hosts C(<cohort>-c<NN>-n<N>) with their groups and variables, offline.
  - With O(fetch_addresses), reads the cohort's servers (found by their
    C(atelier_cohort) metadata) from the cloud once and adds their addresses.
  - The cohort fields are documented in the project's docs/cohort-file.md; they
    are declared here with type C(raw) because the plugin validates them itself.
version_added: 0.1.0
author: kube-atelier developers (@kube-atelier)
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: Marks the file as a cohort file.
    required: true
    type: str
    choices: [atelier.kube.cohort, cohort]
  cohort:
    description: The cohort's DNS-safe name, part of every host and resource name.
    type: raw
  cloud:
    description: The clouds.yaml entry of the cohort's OpenStack cloud.
    type: raw
  region:
    description: The cloud region, when the cloud has several.
    type: raw
  learners:
    description: A count of learners, or a list of names or of mappings (name, email,
      ssh_public_key).
    type: raw
  learners_per_cluster:
    description: Learners sharing one cluster (default 1).
    type: raw
  nodes_per_cluster:
    description: Servers per cluster, 1 to 10 (default 3); node 1 is the control plane and
      login host.
    type: raw
  image:
    description: Server image (default Featured-Ubuntu24).
    type: raw
  ssh_user:
    description: The image's login user (default ubuntu).
    type: raw
  flavors:
    description: Flavor per node role, keys control_plane and worker.
    type: raw
  network:
    description: Cohort network, keys cidr (default 10.42.0.0/16) and external_network
      (default public).
    type: raw
  floating_ip_for_all_nodes:
    description: Give every node a floating IP, not only login hosts (default false).
    type: raw
  allowed_cidrs:
    description: Networks allowed to reach SSH, the Kubernetes API and the lab ports.
    type: raw
  labs:
    description: >-
      Enabled labs: the names of the lab roles (roles/lab_<name> with a
      meta/lab.yml) found in the roles paths.
    type: raw
  kubernetes_version:
    description: Kubernetes release, 1.MINOR or 1.MINOR.PATCH.
    type: raw
  pod_cidr:
    description: Pod network of every cluster; must not overlap the cohort network.
    type: raw
  service_cidr:
    description: Service network of every cluster; must not overlap the others.
    type: raw
  vars:
    description: Variables for every host of the cohort.
    type: raw
  host_overrides:
    description: Variables per planned host name (e.g. a podman connection in the sandbox).
    type: raw
  fetch_addresses:
    description: Read the cohort's servers from the cloud and add their addresses.
    type: bool
    default: false
    env:
      - name: ATELIER_COHORT_FETCH_ADDRESSES
  strict_cloud:
    description:
      - Fail when the cloud cannot be read. When false (the default), warn and list the
        planned hosts without addresses, so a cohort can be planned offline.
    type: bool
    default: false
"""

EXAMPLES = r"""
# inventories/k8s-nov/cohort.yml
plugin: atelier.kube.cohort
cohort: k8s-nov
cloud: jetstream2
learners: [alice, bob, {name: carol, email: carol@example.org}]
nodes_per_cluster: 3
allowed_cidrs: [198.51.100.0/24]
labs: [autoscaling]
fetch_addresses: true
"""

import os

from ansible import constants as C
from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible_collections.atelier.kube.plugins.module_utils.cohort_schema import (
    CohortProblems,
    plan,
    validate,
)
from ansible_collections.atelier.kube.plugins.plugin_utils import lab_catalog

PLUGIN_OPTIONS = (
    "plugin",
    "fetch_addresses",
    "strict_cloud",
    "compose",
    "groups",
    "keyed_groups",
    "strict",
    "leading_separator",
    "use_extra_vars",
    "cache",
    "cache_plugin",
    "cache_timeout",
    "cache_connection",
    "cache_prefix",
)


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "atelier.kube.cohort"

    def verify_file(self, path):
        return super().verify_file(path) and (
            path.endswith(("/cohort.yml", "/cohort.yaml", ".cohort.yml", ".cohort.yaml"))
            or path in ("cohort.yml", "cohort.yaml")
        )

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        # Like the yaml inventory: the trainer wrote this file, so its Jinja is
        # trusted (vars: and compose: may template other variables).
        raw = self.loader.load_from_file(path, cache="none", trusted_as_template=True)
        if not isinstance(raw, dict):
            raise AnsibleParserError(f"{path}: the cohort file must be a mapping of fields")
        try:
            labs = lab_catalog.discover(
                [*C.DEFAULT_ROLES_PATH, str(lab_catalog.project_roles_dir())]
            )
            spec = validate(raw, other_keys=PLUGIN_OPTIONS, labs=labs)
        except CohortProblems as problems:
            lines = "\n  ".join(problems.problems)
            raise AnsibleParserError(
                f"{path}: {len(problems.problems)} problem(s):\n  {lines}"
            ) from None
        except Exception as error:  # a bug must still read as a message, not a traceback
            raise AnsibleParserError(
                f"{path}: could not validate the cohort file: {error}"
            ) from None

        self._read_config_data(path)
        layout = plan(spec)
        servers = self._servers(spec, path, cache) if self.get_option("fetch_addresses") else {}
        self._populate(spec, layout, servers, os.path.dirname(os.path.abspath(path)))

    # -- cloud -------------------------------------------------------------
    def _servers(self, spec: dict, path: str, cache: bool) -> dict:
        """The cohort's servers by name, from the cache or one list call."""
        cache_key = self.get_cache_key(path) + "_" + spec["cohort"]
        caching = self.get_option("cache")
        if caching and cache:
            try:
                return self._cache[cache_key]
            except KeyError:
                pass
        try:
            servers = self._list_servers(spec)
        except Exception as error:
            message = (
                f"cloud '{spec['cloud']}': could not list the servers "
                f"of cohort '{spec['cohort']}': {str(error).rstrip('.')}"
            )
            if self.get_option("strict_cloud"):
                raise AnsibleParserError(message) from None
            self.display.warning(message + "; listing the planned hosts without addresses")
            return {}
        if caching:
            self._cache[cache_key] = servers
        return servers

    @staticmethod
    def _list_servers(spec: dict) -> dict:
        import openstack  # noqa: PLC0415 (only when the cloud is asked)

        conn = openstack.connect(cloud=spec["cloud"], region_name=spec["region"])
        found = {}
        for server in conn.compute.servers(details=True):
            if (server.metadata or {}).get("atelier_cohort") != spec["cohort"]:
                continue
            private, public = None, None
            for network_name, addresses in (server.addresses or {}).items():
                for address in addresses:
                    if address.get("version") != 4:
                        continue
                    if address.get("OS-EXT-IPS:type") == "floating":
                        public = address["addr"]
                    elif network_name == f"{spec['cohort']}-net":
                        private = address["addr"]
            found[server.name] = {
                "id": server.id,
                "status": (server.status or "").lower(),
                "private_ip": private,
                "public_ip": public,
            }
        return found

    # -- inventory ---------------------------------------------------------
    def _populate(self, spec: dict, layout: dict, servers: dict, cohort_dir: str) -> None:
        # The key provisioning registers as the servers' keypair
        # (playbooks/tasks/cohort_key.yml), for the nodes and their jump host.
        ssh_key = os.path.join(cohort_dir, "secrets", "id_ed25519")
        cohort_group = self.inventory.add_group(layout["cohort_group"])
        self.inventory.set_variable(cohort_group, "atelier_cohort_spec", spec)
        for key, value in spec["vars"].items():
            self.inventory.set_variable(cohort_group, key, value)
        for parent, children in (("k8s_cluster", ("control_plane", "workers")),):
            self.inventory.add_group(parent)
            for child in children:
                self.inventory.add_group(child)
                self.inventory.add_child(parent, child)
        self.inventory.add_group("login_hosts")
        # Empty unless the cohort bakes its node image (playbooks/image.yml).
        self.inventory.add_group("image_builders")
        # Filled during a run by playbooks/converged.yml: the clusters the
        # converging stages skip (their hosts: patterns leave this group out).
        self.inventory.add_group("converged")
        login_public = {}
        for host in layout["hosts"]:
            server = servers.get(host["name"])
            if server and host["vars"]["atelier_node_role"] == "control_plane":
                login_public[host["vars"]["atelier_cluster"]] = server["public_ip"]

        for host in layout["hosts"]:
            name = host["name"]
            self.inventory.add_host(name, group=cohort_group)
            for group in host["groups"]:
                self.inventory.add_group(group)
                self.inventory.add_host(name, group=group)
            hostvars = dict(
                host["vars"], atelier_cohort_dir=cohort_dir, ansible_ssh_private_key_file=ssh_key
            )
            server = servers.get(name)
            if server:
                hostvars.update(
                    atelier_server_id=server["id"],
                    atelier_server_state=server["status"],
                    atelier_private_ip=server["private_ip"],
                    atelier_public_ip=server["public_ip"],
                    ansible_host=server["public_ip"] or server["private_ip"],
                )
                jump = login_public.get(hostvars.get("atelier_cluster"))
                if not server["public_ip"] and jump:
                    # Workers have no floating IP: reach them through their login host,
                    # with the cohort's key (a ProxyJump hop would not be given it).
                    hostvars["ansible_ssh_common_args"] = (
                        f"-o ProxyCommand='ssh -i {ssh_key} -o StrictHostKeyChecking=no"
                        f" -W %h:%p {spec['ssh_user']}@{jump}'"
                    )
            hostvars.update(spec["host_overrides"].get(name, {}))
            for key, value in hostvars.items():
                self.inventory.set_variable(name, key, value)
            strict = self.get_option("strict")
            self._set_composite_vars(self.get_option("compose"), hostvars, name, strict=strict)
            self._add_host_to_composed_groups(
                self.get_option("groups"), hostvars, name, strict=strict
            )
            self._add_host_to_keyed_groups(
                self.get_option("keyed_groups"), hostvars, name, strict=strict
            )
