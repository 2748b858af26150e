# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of playbooks/converged.yml: whether a run may trust or leave a
record of a converged cluster, and whether one cluster may be skipped
(module_utils/converged.py decides)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.atelier.kube.plugins.module_utils import converged


def converge_run_kind(run_tags, skip_tags) -> str:
    """full, read-only or partial (module_utils/converged.py run_kind)."""
    return converged.run_kind(run_tags, skip_tags)


def converge_decision(records, cluster, digest, node_problems=None) -> dict:
    """records: host -> its record's text (None when absent); node_problems:
    atelier.kube.node_problems' lines, None when the nodes could not be read."""
    if not isinstance(records, dict):
        raise AnsibleFilterError(
            f"converge_decision: expected host -> record text, got {records!r}"
        )
    return converged.decide(str(cluster), str(digest), records, node_problems)


class FilterModule:
    def filters(self):
        return {
            "converge_run_kind": converge_run_kind,
            "converge_decision": converge_decision,
        }
