# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the lab stages (playbooks/labs.yml, verify.yml): which labs a run
takes, and the cohort's verify summary. A lab is its role (docs/labs.md)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


def labs_to_run(enabled, stage: str, run_tags=("all",), skip_tags=()) -> list[str]:
    """The enabled labs this run takes in `stage` (labs or verify): all of them
    when the run's tags select the stage (or everything), else those named by
    a tag (`--tags autoscaling`); never one named in --skip-tags."""
    if not isinstance(enabled, list):
        raise AnsibleFilterError(f"labs_to_run: expected the list of enabled labs, got {enabled!r}")
    run_tags, skip_tags = set(run_tags or ("all",)), set(skip_tags or ())
    whole_stage = bool({"all", stage} & run_tags)
    return [lab for lab in enabled if lab not in skip_tags and (whole_stage or lab in run_tags)]


def _figure(result: dict, declaration: dict) -> str:
    figure = (declaration.get("verify") or {}).get("figure")
    if not figure or result.get(figure["key"]) in (None, ""):
        return ""
    return ", " + str(figure["text"]).replace("{}", str(result[figure["key"]]))


def verify_summary(login_hosts) -> dict:
    """One line per cluster and lab from the login hosts' verify results.

    login_hosts: their variables after playbooks/verify.yml's first play:
    atelier_cluster_name, atelier_verify_results ({lab: {passed, reason,
    ...}}) and atelier_lab_declarations (the rendered meta/lab.yml of each
    lab, for its figure). Returns {lines, failed, passed, total}; the first
    line counts the cluster labs that passed.
    """
    if not isinstance(login_hosts, list):
        raise AnsibleFilterError(
            f"verify_summary: expected a list of login hosts' variables, got {login_hosts!r}"
        )
    lines, failed = [], []
    for host in sorted(login_hosts, key=lambda item: item["atelier_cluster_name"]):
        cluster = host["atelier_cluster_name"]
        declarations = {item["name"]: item for item in host.get("atelier_lab_declarations") or []}
        for lab, result in sorted((host.get("atelier_verify_results") or {}).items()):
            if result.get("passed"):
                line = f"{cluster} {lab}: passed{_figure(result, declarations.get(lab, {}))}"
            else:
                line = f"{cluster} {lab}: FAILED ({result.get('reason') or 'no reason given'})"
                failed.append(line)
            lines.append(line)
    total = len(lines)
    return {
        "lines": [f"{total - len(failed)}/{total} cluster labs passed", *lines],
        "failed": failed,
        "passed": total - len(failed),
        "total": total,
    }


class FilterModule:
    def filters(self):
        return {"labs_to_run": labs_to_run, "verify_summary": verify_summary}
