# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of playbooks/status.yml: one status row per cluster, and its table."""

from __future__ import annotations

import json

from ansible.errors import AnsibleFilterError

COLUMNS = ("cluster", "servers", "nodes", "labs", "accounts", "ready")


def _learner_names(learners) -> list[str]:
    return [item if isinstance(item, str) else item["name"] for item in learners]


def _ready_nodes(nodes_result: dict) -> tuple[int, int] | None:
    """(Ready, total) from `kubectl get nodes -o json`, None when it did not answer."""
    if nodes_result.get("rc") != 0 or not nodes_result.get("stdout"):
        return None
    try:
        items = json.loads(nodes_result["stdout"])["items"]
    except (ValueError, KeyError, TypeError):
        return None
    ready = sum(
        any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in node["status"].get("conditions", [])
        )
        for node in items
    )
    return ready, len(items)


def _lab_states(labs, deployments: set[str] | None, verify: dict, workloads: dict) -> list[dict]:
    states = []
    for lab in labs:
        expected = workloads.get(lab, [])
        if deployments is None:
            deployed = None
        else:
            deployed = bool(expected) and all(name in deployments for name in expected)
        result = (verify.get("labs") or {}).get(lab)
        states.append(
            {
                "lab": lab,
                "deployed": deployed,
                "verified": None if result is None else bool(result.get("passed")),
                "reason": "" if result is None else str(result.get("reason", "")),
            }
        )
    return states


def _collect(hosts) -> dict[str, dict]:
    """What the probes of each cluster's hosts found."""
    clusters: dict[str, dict] = {}
    for host in hosts:
        row = clusters.setdefault(
            host["cluster"],
            {
                "hosts": 0,
                "up": 0,
                "nodes": None,
                "deployments": None,
                "labs": [],
                "learners": [],
                "accounts": None,
                "problems": [],
            },
        )
        row["hosts"] += 1
        ping = host.get("ping") or {}
        if ping and not ping.get("unreachable") and not ping.get("failed"):
            row["up"] += 1
        else:
            state = host.get("server_state") or "unknown"
            row["problems"].append(f"{host['host']} unreachable (server {state})")
        row["nodes"] = _ready_nodes(host.get("nodes") or {}) or row["nodes"]
        deployments = host.get("deployments") or {}
        if deployments.get("rc") == 0:
            row["deployments"] = set(deployments.get("stdout", "").split())
        row["labs"] = row["labs"] or list(host.get("labs") or [])
        row["learners"] = row["learners"] or _learner_names(host.get("learners") or [])
        passwd = host.get("passwd") or {}
        if "ansible_facts" in passwd:
            present = set(passwd["ansible_facts"].get("getent_passwd", {}))
            row["accounts"] = [name for name in row["learners"] if name in present]
    return clusters


def _problems(row: dict, labs: list[dict]) -> list[str]:
    problems = list(row["problems"])
    if row["nodes"] is None:
        problems.append("the control plane's API did not answer")
    elif row["nodes"][0] < row["hosts"]:
        problems.append(f"{row['nodes'][0]} of {row['hosts']} nodes Ready")
    for lab in labs:
        if lab["deployed"] is False:
            problems.append(f"lab {lab['lab']} not deployed")
        elif lab["verified"] is None:
            problems.append(f"lab {lab['lab']} never verified")
        elif not lab["verified"]:
            problems.append(f"lab {lab['lab']} failed verify: {lab['reason']}")
    if row["accounts"] is None:
        problems.append("learner accounts unknown (login host unreachable)")
    elif len(row["accounts"]) < len(row["learners"]):
        missing = sorted(set(row["learners"]) - set(row["accounts"]))
        problems.append("missing learner accounts: " + ", ".join(missing))
    return problems


def cluster_status(hosts, verify_results=None, lab_workloads=None):
    """Group the per-host probes of status.yml into one row per cluster.

    hosts: [{host, cluster, server_state, labs, learners, ping, nodes,
    deployments, passwd}] with the registered results as Ansible gave them;
    verify_results: {cluster: verify.yml's JSON}; lab_workloads: {lab:
    ["namespace/name", ...]} the Deployments that show a lab is deployed.
    """
    if not isinstance(hosts, list):
        raise AnsibleFilterError(
            f"cluster_status: expected a list of hosts, got {type(hosts).__name__}"
        )
    rows = []
    for name, row in sorted(_collect(hosts).items()):
        verify = (verify_results or {}).get(name) or {}
        labs = _lab_states(row["labs"], row["deployments"], verify, lab_workloads or {})
        problems = _problems(row, labs)
        accounts = row["accounts"]
        rows.append(
            {
                "cluster": name,
                "servers": f"{row['up']}/{row['hosts']}",
                "nodes": "-" if row["nodes"] is None else f"{row['nodes'][0]}/{row['hosts']}",
                "labs": labs,
                "accounts": "-" if accounts is None else f"{len(accounts)}/{len(row['learners'])}",
                "ready": not problems,
                "problems": problems,
            }
        )
    return rows


def _lab_cell(labs: list[dict]) -> str:
    marks = []
    for lab in labs:
        if lab["deployed"] is False:
            mark = "absent"
        elif lab["verified"] is None:
            mark = "unverified"
        else:
            mark = "ok" if lab["verified"] else "FAILED"
        marks.append(f"{lab['lab']}:{mark}")
    return " ".join(marks) or "-"


def status_table(rows) -> list[str]:
    """Text table of cluster_status rows (a list of lines, for debug output)."""
    cells = [
        [
            row["cluster"],
            row["servers"],
            row["nodes"],
            _lab_cell(row["labs"]),
            row["accounts"],
            "yes" if row["ready"] else "NO",
        ]
        for row in rows
    ]
    header = [column.upper() for column in COLUMNS]
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(value.ljust(width) for value, width in zip(line, widths, strict=True)).rstrip()
        for line in [header, *cells]
    ]
    for row in rows:
        lines.extend(f"{row['cluster']}: {problem}" for problem in row["problems"])
    ready = sum(row["ready"] for row in rows)
    lines.append(f"{ready} of {len(rows)} clusters ready")
    return lines


class FilterModule:
    def filters(self):
        return {"cluster_status": cluster_status, "status_table": status_table}
