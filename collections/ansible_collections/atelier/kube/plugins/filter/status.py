# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of playbooks/status.yml: one status row per cluster, and its table."""

from __future__ import annotations

import json
from datetime import datetime

from ansible.errors import AnsibleFilterError

COLUMNS = ("cluster", "servers", "nodes", "labs", "accounts", "ready")


def _learner_names(learners) -> list[str]:
    return [item if isinstance(item, str) else item["name"] for item in learners]


def _kubectl_items(result: dict) -> list | None:
    """The items of a registered `kubectl get ... -o json`, None when it did not answer."""
    if result.get("rc") != 0 or not result.get("stdout"):
        return None
    try:
        return json.loads(result["stdout"])["items"]
    except (ValueError, KeyError, TypeError):
        return None


def _ready_nodes(nodes_result: dict) -> tuple[int, int] | None:
    """(Ready, total) from `kubectl get nodes -o json`, None when it did not answer."""
    items = _kubectl_items(nodes_result)
    if items is None:
        return None
    ready = sum(
        any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in node["status"].get("conditions", [])
        )
        for node in items
    )
    return ready, len(items)


def _timestamp(text) -> datetime | None:
    """An RFC 3339 time as the API and verify.yml write it (2026-12-01T10:00:00Z)."""
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def _cluster_born(nodes_result: dict) -> str | None:
    """When the cluster's control plane was made: its oldest Node's creation
    (kubeadm init registers the control-plane node first; joins come later)."""
    items = _kubectl_items(nodes_result)
    stamps = [
        (_timestamp(stamp), stamp)
        for stamp in ((node.get("metadata") or {}).get("creationTimestamp") for node in items or [])
        if stamp and _timestamp(stamp)
    ]
    return min(stamps)[1] if stamps else None


def _workload_state(item: dict) -> bool:
    """Ready for a Deployment, StatefulSet or DaemonSet; present for any other kind."""
    kind, spec, status = item.get("kind"), item.get("spec") or {}, item.get("status") or {}
    if kind in ("Deployment", "StatefulSet"):
        return status.get("readyReplicas", 0) >= spec.get("replicas", 1)
    if kind == "DaemonSet":
        return status.get("numberReady", 0) >= status.get("desiredNumberScheduled", 1)
    return True


def _workloads(result: dict) -> dict[tuple[str, str, str], bool] | None:
    """{(kind, namespace, name): ready} from `kubectl get <kinds> -A -o json`,
    None when it did not answer."""
    items = _kubectl_items(result)
    if items is None:
        return None
    return {
        (
            str(item.get("kind", "")).lower(),
            item["metadata"].get("namespace", ""),
            item["metadata"]["name"],
        ): _workload_state(item)
        for item in items
    }


def _lab_states(
    labs, declarations: dict, workloads: dict | None, verify: dict, born: str | None
) -> list[dict]:
    states = []
    for lab in labs:
        expected = [
            (str(w["kind"]).lower(), str(w.get("namespace") or ""), str(w["name"]))
            for w in (declarations.get(lab) or {}).get("workloads") or []
        ]
        if workloads is None:
            deployed = ready = None
        else:
            deployed = all(key in workloads for key in expected)
            ready = deployed and all(workloads[key] for key in expected)
        missing = [] if workloads is None else [k for k in expected if not workloads.get(k)]
        result = (verify.get("labs") or {}).get(lab)
        # A result of a cluster that was since made anew says nothing of this one.
        ended = _timestamp((result or {}).get("ended", ""))
        stale = bool(born and ended and ended < _timestamp(born))
        states.append(
            {
                "lab": lab,
                "deployed": deployed,
                "ready": ready,
                "not_ready": [f"{kind} {ns}/{name}" for kind, ns, name in missing],
                "verified": None if result is None else bool(result.get("passed")),
                "reason": "" if result is None else str(result.get("reason", "")),
                "verified_at": "" if result is None else str(result.get("ended", "")),
                "stale": stale,
                "cluster_born": born or "",
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
                "born": None,
                "workloads": None,
                "labs": [],
                "declarations": {},
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
        row["born"] = _cluster_born(host.get("nodes") or {}) or row["born"]
        workloads = _workloads(host.get("workloads") or {})
        row["workloads"] = workloads if workloads is not None else row["workloads"]
        row["labs"] = row["labs"] or list(host.get("labs") or [])
        for declaration in host.get("declarations") or []:
            row["declarations"][declaration["name"]] = declaration
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
            problems.append(f"lab {lab['lab']} not deployed: {', '.join(lab['not_ready'])} missing")
        elif lab["ready"] is False:
            problems.append(f"lab {lab['lab']} not Ready: {', '.join(lab['not_ready'])}")
        elif lab["verified"] is None:
            problems.append(f"lab {lab['lab']} never verified")
        elif lab["stale"]:
            problems.append(
                f"lab {lab['lab']} last verified {lab['verified_at']}, before this cluster's"
                f" control plane was made ({lab['cluster_born']}): stale, run verify"
            )
        elif not lab["verified"]:
            problems.append(f"lab {lab['lab']} failed verify: {lab['reason']}")
    if row["accounts"] is None:
        problems.append("learner accounts unknown (login host unreachable)")
    elif len(row["accounts"]) < len(row["learners"]):
        missing = sorted(set(row["learners"]) - set(row["accounts"]))
        problems.append("missing learner accounts: " + ", ".join(missing))
    return problems


def cluster_status(hosts, verify_results=None):
    """Group the per-host probes of status.yml into one row per cluster.

    hosts: [{host, cluster, server_state, labs, learners, declarations, ping,
    nodes, workloads, passwd}] with the registered results as Ansible gave
    them (declarations: the labs' rendered meta/lab.yml, whose workloads say
    the lab is deployed and Ready); verify_results: {cluster: verify.yml's JSON}.
    """
    if not isinstance(hosts, list):
        raise AnsibleFilterError(
            f"cluster_status: expected a list of hosts, got {type(hosts).__name__}"
        )
    rows = []
    for name, row in sorted(_collect(hosts).items()):
        verify = (verify_results or {}).get(name) or {}
        labs = _lab_states(row["labs"], row["declarations"], row["workloads"], verify, row["born"])
        for lab in labs:
            lab["mark"] = _mark(lab)
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


def _mark(lab: dict) -> str:
    if lab["deployed"] is False:
        return "absent"
    if lab["ready"] is False:
        return "not-ready"
    if lab["verified"] is None:
        return "unverified"
    if lab["stale"]:
        return "stale"
    return "ok" if lab["verified"] else "FAILED"


def _lab_cell(labs: list[dict]) -> str:
    return " ".join(f"{lab['lab']}:{lab['mark']}" for lab in labs) or "-"


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
