#!/usr/bin/python
# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snapshot a server into an image of the image service, or delete images by name."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: os_server_image
short_description: Snapshot an OpenStack server into a named image, or delete images by name
description:
  - With O(state=present), asks the compute service for a snapshot of
    O(server) (Nova's createImage) named O(name), with O(properties) on the
    image, and waits until the image service says it is C(active).
  - An active image of that name whose C(kube_atelier_digest) property equals
    the one in O(properties) is kept as it is (no change). Any other image of
    that name (a snapshot a failed run left queued, or an older bake) is
    deleted first, so exactly one image of the name remains.
  - O(upload) writes the image's data from a file on the host running the
    module, for a compute service that creates the snapshot's record but
    writes no data into it (the sandbox cloud's fake driver, whose machines
    are podman containers committed by the caller).
  - With O(state=absent), deletes every image named O(name), whatever its
    status (the clean-up after a failed bake).
  - Takes the connection options of the C(openstack.cloud) collection
    (C(group/atelier.kube.openstack)).
version_added: 0.1.0
author: kube-atelier developers (@kube-atelier)
extends_documentation_fragment:
  - openstack.cloud.openstack
options:
  name:
    description: The image's name.
    type: str
    required: true
  server:
    description: Name or ID of the server to snapshot (O(state=present)).
    type: str
  properties:
    description: Image properties (strings of up to 255 characters).
    type: dict
    default: {}
  upload:
    description: A file whose content becomes the image's data (see above).
    type: path
  disk_format:
    description: The image's disk format when O(upload) is given.
    type: str
    default: raw
  container_format:
    description: The image's container format when O(upload) is given.
    type: str
    default: bare
  state:
    description: present (snapshot) or absent (delete every image of the name).
    type: str
    choices: [present, absent]
    default: present
  timeout:
    description: Seconds to wait for the image to be active.
    type: int
    default: 1800
"""

EXAMPLES = r"""
- name: Snapshot the builder
  atelier.kube.os_server_image:
    cloud: jetstream2
    server: k8s-2026-image-builder
    name: kube-atelier-node-k8s-v1.34-0123456789ab
    properties: {kube_atelier_digest: 0123456789ab...}
"""

RETURN = r"""
image:
  description: The image (id, name, status, size, properties); empty with O(state=absent).
  returned: always
  type: dict
deleted:
  description: IDs of the images deleted.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.atelier.kube.plugins.module_utils.server_fleet import describe_error
from ansible_collections.atelier.kube.plugins.module_utils.server_image import (
    SnapshotError,
    Snapshotter,
)
from ansible_collections.openstack.cloud.plugins.module_utils.openstack import OpenStackModule


class OsServerImageModule(OpenStackModule):
    argument_spec = {
        "name": {"type": "str", "required": True},
        "server": {"type": "str"},
        "properties": {"type": "dict", "default": {}},
        "upload": {"type": "path"},
        "disk_format": {"type": "str", "default": "raw"},
        "container_format": {"type": "str", "default": "bare"},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "timeout": {"type": "int", "default": 1800},
    }
    module_kwargs = {
        "supports_check_mode": True,
        "required_if": [("state", "present", ["server"])],
    }

    def run(self):
        snapshots = Snapshotter(
            self.conn, timeout=self.params["timeout"], check_mode=self.check_mode
        )
        try:
            if self.params["state"] == "absent":
                deleted = snapshots.ensure_absent(self.params["name"])
                self.exit_json(changed=bool(deleted), image={}, deleted=deleted)
            changed, image, deleted = snapshots.ensure_present(
                self.params["server"],
                self.params["name"],
                self.params["properties"],
                upload=self.params["upload"],
                disk_format=self.params["disk_format"],
                container_format=self.params["container_format"],
            )
        except SnapshotError as error:
            self.fail_json(msg=str(error), changed=error.changed)
        except Exception as error:
            self.fail_json(msg="OpenStack API: " + describe_error(error), changed=True)
        self.exit_json(changed=changed, image=image, deleted=deleted)


def main():
    module = OsServerImageModule()
    module()


if __name__ == "__main__":
    main()
