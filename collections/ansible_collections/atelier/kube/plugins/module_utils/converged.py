# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""May a run skip a cluster that a run converged before? The decisions behind
playbooks/converged.yml and the record that playbooks/converged_record.yml
leaves on every node, as pure functions (nothing here reads a node or a
cluster):

- inputs_digest: what a run's outcome depends on, on the control node (the
  project's roles, playbooks, plugins and pins, the cohort's folder without
  its secrets and artifacts, the run's extra vars); the playbook adds the
  cluster's servers (a server made anew has another id);
- run_kind: whether a run may trust and leave records (a full run), keeps
  them (a read-only one) or forgets them (a run of some stages only);
- decide: skip the cluster only when every node holds a record of that very
  digest and every node is a Ready Node of the cluster; else say why not.
"""

from __future__ import annotations

import hashlib
import json
import os

from ansible_collections.atelier.kube.plugins.module_utils.node_image import tree_digest

# A cohort's folder also holds what runs write: never an input.
COHORT_OUTPUTS = ("secrets", "artifacts")
# Tags that prove or report and change nothing a later run builds on.
READ_ONLY_TAGS = ("verify",)


def _file_digest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def inputs_digest(
    paths: list[str], extra_vars: list[str] | tuple = (), exclude=COHORT_OUTPUTS
) -> str:
    """sha256 of the files under each path (a folder's top-level entries named
    in exclude left out) and of the run's extra vars, as given on its command
    line. A path that does not exist counts as such, not as an error."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(os.path.basename(os.path.normpath(path)).encode() + b"\0")
        if os.path.isfile(path):
            digest.update(_file_digest(path).encode())
        elif os.path.isdir(path):
            for entry in sorted(os.listdir(path)):
                if entry in exclude:
                    continue
                full = os.path.join(path, entry)
                digest.update(entry.encode() + b"\0")
                digest.update(
                    (tree_digest(full) if os.path.isdir(full) else _file_digest(full)).encode()
                )
        else:
            digest.update(b"missing")
        digest.update(b"\0")
    digest.update(json.dumps(list(extra_vars)).encode())
    return digest.hexdigest()


def run_kind(run_tags, skip_tags) -> str:
    """full: every converging stage (no --tags; --skip-tags of read-only stages
    only), the only run that may trust a record or leave one; read-only: only
    read-only stages (--tags verify), which keeps the records; partial: any
    other, which may change what the last full run left and forgets them."""
    run_tags, skip_tags = list(run_tags or []), set(skip_tags or [])
    if run_tags == ["all"] and not skip_tags - set(READ_ONLY_TAGS):
        return "full"
    if run_tags and not set(run_tags) - set(READ_ONLY_TAGS):
        return "read-only"
    return "partial"


def record_digest(text: str | None) -> str | None:
    """The digest a node's record holds, None when it has none or it is unreadable."""
    if not text:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    return record.get("digest") if isinstance(record, dict) else None


def decide(cluster: str, digest: str, records: dict, node_problems: list[str] | None) -> dict:
    """records: host -> its record's text (None when absent); node_problems:
    the lines of atelier.kube.node_problems, None when the nodes could not be
    read. Returns converged (bool) and reason (one line for the trainer)."""
    missing = sorted(host for host, text in records.items() if record_digest(text) is None)
    stale = sorted(
        host
        for host, text in records.items()
        if host not in missing and record_digest(text) != digest
    )
    if not records:
        why = "no node of it in this run"
    elif missing:
        why = f"no record of a converged run on {', '.join(missing)}"
    elif stale:
        why = f"the inputs changed since the last converged run ({', '.join(stale)})"
    elif node_problems is None:
        why = "its nodes could not be read"
    elif node_problems:
        why = f"not every node is Ready ({node_problems[0]})"
    else:
        return {
            "converged": True,
            "reason": f"{cluster}: converged before with the same inputs, its nodes Ready: skipped"
            " (verify still runs; -e atelier_reconverge=true converges it anyway)",
        }
    return {"converged": False, "reason": f"{cluster}: converges ({why})"}
