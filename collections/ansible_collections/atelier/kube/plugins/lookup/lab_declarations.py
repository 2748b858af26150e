# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: lab_declarations
author: kube-atelier developers (@kube-atelier)
short_description: The declarations of labs, rendered with the host's variables
description:
  - Reads C(roles/lab_<name>/meta/lab.yml), the plug-in contract of a lab role
    (its name, the workloads status.yml checks, the links the login cards print,
    the fact its verify sets and the figure the cohort summary prints), and
    renders its Jinja with the role's defaults overlaid by the current
    variables, so an override (cohort C(vars:), host or extra vars) is what
    the declaration says.
  - Labs are found in the configured roles paths, then in the project's own
    C(roles/) folder.
options:
  _terms:
    description: Lab names (C(autoscaling), ...). None gives every lab found.
    required: false
notes:
  - An unknown lab name or a malformed declaration fails with the file and
    what is wrong.
"""

EXAMPLES = r"""
- name: The declarations of this cluster's labs
  ansible.builtin.set_fact:
    lab_declarations: "{{ lookup('atelier.kube.lab_declarations', *atelier_labs, wantlist=True) }}"
"""

RETURN = r"""
_list:
  description: One rendered declaration per lab, in the order asked.
  type: list
  elements: dict
"""

import os

from ansible import constants as C
from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible_collections.atelier.kube.plugins.plugin_utils import lab_catalog


def roles_paths() -> list[str]:
    return [*C.DEFAULT_ROLES_PATH, str(lab_catalog.project_roles_dir())]


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        labs = lab_catalog.discover(roles_paths())
        names = [str(term) for term in terms] or sorted(labs)
        declarations = []
        for name in names:
            if name not in labs:
                raise AnsibleLookupError(
                    f"lab '{name}' has no role lab_{name} with {lab_catalog.DECLARATION}"
                    f" (labs found: {', '.join(sorted(labs)) or 'none'})"
                )
            role = labs[name]
            try:
                lab_catalog.load(name, role)
            except ValueError as error:
                raise AnsibleLookupError(str(error)) from None
            declarations.append(self._render(role, variables or {}))
        return declarations

    def _render(self, role, variables):
        declaration = self._loader.load_from_file(
            str(role / lab_catalog.DECLARATION), trusted_as_template=True
        )
        defaults_file = role / "defaults" / "main.yml"
        defaults = {}
        if os.path.isfile(defaults_file):
            defaults = self._loader.load_from_file(str(defaults_file), trusted_as_template=True)
        scope = {**(defaults or {}), **variables, "role_path": str(role)}
        templar = self._templar.copy_with_new_env(available_variables=scope)
        return templar.template(declaration)
