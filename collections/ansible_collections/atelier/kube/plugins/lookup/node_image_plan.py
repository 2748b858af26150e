# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: node_image_plan
author: kube-atelier developers (@kube-atelier)
short_description: The name, digest and properties of a cohort's baked node image
description:
  - Lists what goes into the node image C(playbooks/image.yml) bakes for a
    cohort (the node roles' files, the enabled labs' roles, the Kubernetes
    version, the base image, the cohort's vars, the preloaded and pulled
    images) as components, each with a short digest, and derives the image's
    digest, its name and its properties from them.
  - Reads files on the control node only; calls no cloud.
options:
  cohort:
    description: The cohort's checked spec (C(atelier_cohort_spec)).
    type: dict
    required: true
  preload:
    description:
      - The image archives preloaded into the image
        (items of container_runtime_preload_images).
    type: list
    elements: dict
    default: []
  pull:
    description: The image references pulled into the image from their registries.
    type: list
    elements: str
    default: []
  prefix:
    description: The image name's prefix.
    type: str
    default: kube-atelier-node
"""

EXAMPLES = r"""
- name: Plan the cohort's node image
  ansible.builtin.set_fact:
    image_plan: >-
      {{ lookup('atelier.kube.node_image_plan',
                cohort=atelier_cohort_spec, preload=image_preload_images) }}
"""

RETURN = r"""
_raw:
  description:
    - name, digest, components (name -> value or short digest)
      and properties (for the image service).
  type: dict
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible_collections.atelier.kube.plugins.module_utils import node_image
from ansible_collections.atelier.kube.plugins.plugin_utils import lab_catalog


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        cohort = self.get_option("cohort")
        roles_dir = lab_catalog.project_roles_dir()
        roles = list(node_image.NODE_ROLES) + [f"lab_{lab}" for lab in cohort.get("labs", [])]
        folders = {role: str(roles_dir / role) for role in roles}
        missing = [role for role, folder in folders.items() if not (roles_dir / role).is_dir()]
        if missing:
            raise AnsibleLookupError(
                f"node_image_plan: no role {', '.join(missing)} in {roles_dir}"
            )
        parts = node_image.components(
            kubernetes_version=cohort["kubernetes_version"],
            base_image=cohort["image"],
            labs=cohort.get("labs", []),
            role_folders=folders,
            settings=cohort.get("vars", {}),
            preload=self.get_option("preload") or [],
            pull=[str(ref) for ref in self.get_option("pull") or []],
        )
        image_digest = node_image.digest(parts)
        return [
            {
                "name": node_image.image_name(
                    self.get_option("prefix"), cohort["kubernetes_version"], image_digest
                ),
                "digest": image_digest,
                "components": parts,
                "properties": node_image.properties(parts, image_digest, cohort["cohort"]),
            }
        ]
