# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: converge_digest
author: kube-atelier developers (@kube-atelier)
short_description: The digest of what a run's outcome depends on, on the control node
description:
  - sha256 of the files under the given paths (a folder's top-level C(secrets)
    and C(artifacts) left out, a cohort folder's outputs) and of the run's
    extra vars as given on its command line.
  - C(playbooks/converged.yml) adds a cluster's servers to it; the record of a
    converged cluster on each of its nodes holds the result, and the next run
    skips the cluster when every node holds the same.
  - Reads files on the control node only.
options:
  _terms:
    description: Files and folders whose content the run depends on.
    type: list
    elements: path
    required: true
"""

EXAMPLES = r"""
- name: Digest the project's roles and the cohort's folder
  ansible.builtin.set_fact:
    converge_inputs: >-
      {{ lookup('atelier.kube.converge_digest', playbook_dir ~ '/../roles', inventory_dir) }}
"""

RETURN = r"""
_raw:
  description: The hex sha256.
  type: list
  elements: str
"""

from ansible import context
from ansible.plugins.lookup import LookupBase
from ansible_collections.atelier.kube.plugins.module_utils import converged


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        extra_vars = [str(item) for item in context.CLIARGS.get("extra_vars", ())]
        return [converged.inputs_digest([str(term) for term in terms], extra_vars)]
