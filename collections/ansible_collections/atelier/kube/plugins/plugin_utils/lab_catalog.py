# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The labs a project has: every role lab_<name> that carries a declaration,
meta/lab.yml (the plug-in contract, docs/labs.md). Pure Python: the inventory
plugin reads the lab names from here to check a cohort's labs:, the lookup
atelier.kube.lab_declarations renders the declarations for a host."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

DECLARATION = "meta/lab.yml"
ROLE_PREFIX = "lab_"
LAB_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
KEYS = {"name", "title", "workloads", "links", "verify", "client", "images"}
WORKLOAD_KEYS = {"kind", "namespace", "name"}
LINK_KEYS = {"label", "port", "path"}


def project_roles_dir() -> Path:
    """The roles folder of the project this collection sits in."""
    # collections/ansible_collections/atelier/kube/plugins/plugin_utils/<this file>
    return Path(__file__).resolve().parents[6] / "roles"


def discover(roles_paths) -> dict[str, Path]:
    """{lab name: role folder} for every lab_<name>/meta/lab.yml, the first
    roles path that has a lab winning (as Ansible finds roles)."""
    labs: dict[str, Path] = {}
    for path in roles_paths:
        base = Path(path)
        if not base.is_dir():
            continue
        for declaration in sorted(base.glob(f"{ROLE_PREFIX}*/{DECLARATION}")):
            role = declaration.parents[1]
            labs.setdefault(role.name[len(ROLE_PREFIX) :], role)
    return labs


def problems(lab: str, data) -> list[str]:
    """What is wrong with a declaration's shape (its values may be Jinja)."""
    where = f"roles/{ROLE_PREFIX}{lab}/{DECLARATION}"
    if not isinstance(data, dict):
        return [f"{where}: is not a mapping of {', '.join(sorted(KEYS))}"]
    found = []
    for key in sorted(set(data) - KEYS):
        found.append(
            f"{where}: '{key}' is not a declaration key (allowed: {', '.join(sorted(KEYS))})"
        )
    if data.get("name") != lab:
        found.append(f"{where}: name '{data.get('name')}' must be the role's lab name '{lab}'")
    for key, allowed, required in (
        ("workloads", WORKLOAD_KEYS, WORKLOAD_KEYS),
        ("links", LINK_KEYS, {"label", "port"}),
    ):
        items = data.get(key, [])
        if not isinstance(items, list):
            found.append(f"{where}: {key} is not a list")
            continue
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not required <= set(item) or set(item) - allowed:
                found.append(
                    f"{where}: {key}[{index}] {item!r} needs {', '.join(sorted(required))}"
                    f" (allowed: {', '.join(sorted(allowed))})"
                )
    images = data.get("images", [])
    # A list of references, or Jinja that renders to one (from the role's defaults).
    if not isinstance(images, (list, str)) or (
        isinstance(images, list) and not all(isinstance(image, str) for image in images)
    ):
        found.append(f"{where}: images is not a list of image references: {images!r}")
    verify = data.get("verify")
    if not isinstance(verify, dict) or not isinstance(verify.get("result"), str):
        found.append(f"{where}: verify needs result, the fact its tasks/verify.yml sets")
    elif "figure" in verify and not (
        isinstance(verify["figure"], dict) and {"key", "text"} <= set(verify["figure"])
    ):
        found.append(f"{where}: verify.figure needs key and text")
    return found


def load(lab: str, role: Path) -> dict:
    """A declaration as written (not rendered), checked."""
    with open(role / DECLARATION, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    found = problems(lab, data)
    if found:
        raise ValueError("\n".join(found))
    return data
