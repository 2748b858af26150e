# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The baked node image: what goes into it, the name and properties it gets,
and what differs between a baked image and the current roles and pins.

Pure Python (files are read, no cloud is called): the lookup that plans a bake
and the check before provisioning both use it, and tests call it as is.

What goes into an image is a list of named *components*, each with a short
digest: a role's files, a pinned value (the Kubernetes version), the list of
preloaded images. The image's digest is over all of them, and each one is
also kept as an image property, so a mismatch can be named component by
component rather than as one opaque hash."""

from __future__ import annotations

import hashlib
import json
import os
import re

PREFIX = "kube_atelier_"
# The roles a node runs in install-only mode when baked (playbooks/image.yml).
NODE_ROLES = ("node_base", "container_runtime", "kubeadm_cluster", "cni", "go_hey", "learner_tools")
SHORT = 12
# Glance keeps property values up to 255 characters.
MAX_PROPERTY = 255


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def tree_digest(folder: str) -> str:
    """sha256 of every file under folder (relative names and contents), in
    name order; caches, editor droppings and the role's documentation (its
    README and other Markdown) are not part of what an image holds, so an
    edit of them bakes nothing."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", ".pytest_cache"))
        for name in sorted(files):
            if name.endswith((".pyc", "~", ".swp", ".md")):
                continue
            path = os.path.join(root, name)
            digest.update(os.path.relpath(path, folder).encode() + b"\0")
            with open(path, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
            digest.update(b"\0")
    return digest.hexdigest()


def preload_identity(images: list[dict]) -> list[dict]:
    """What identifies each preloaded image: its reference and the archive's
    sha256, else its size and modification time (the sandbox's archives are
    rebuilt in place when their recipe changes)."""
    identity = []
    for item in sorted(images, key=lambda i: str(i.get("image", ""))):
        entry = {"image": str(item.get("image", ""))}
        if item.get("sha256"):
            entry["sha256"] = str(item["sha256"])
        elif item.get("src"):
            try:
                stat = os.stat(str(item["src"]))
                entry["file"] = f"{stat.st_size}:{int(stat.st_mtime)}"
            except OSError:
                entry["file"] = "missing"
        elif item.get("url"):
            entry["url"] = str(item["url"])
        identity.append(entry)
    return identity


def components(
    *,
    kubernetes_version: str,
    base_image: str,
    labs: list[str],
    role_folders: dict[str, str],
    settings: dict,
    preload: list[dict],
    pull: list[str],
) -> dict[str, str]:
    """Each thing that goes into the image, name -> value or short digest.
    Values a trainer recognises (versions, names) are kept as they are."""
    found = {
        "kubernetes_version": str(kubernetes_version),
        "base_image": str(base_image),
        "labs": ",".join(sorted(labs)),
        "settings": _sha(json.dumps(settings, sort_keys=True, default=str))[:SHORT],
        "preload": _sha(json.dumps(preload_identity(preload), sort_keys=True))[:SHORT],
        "pull": _sha(json.dumps(sorted(pull)))[:SHORT],
    }
    for role, folder in sorted(role_folders.items()):
        found[f"role_{role}"] = tree_digest(folder)[:SHORT]
    return found


def digest(parts: dict[str, str]) -> str:
    return _sha(json.dumps(parts, sort_keys=True))


def image_name(prefix: str, kubernetes_version: str, image_digest: str) -> str:
    """<prefix>-k8s-v1.34.4-<12 hex>: the version a trainer reads, the digest
    that tells two bakes apart."""
    version = str(kubernetes_version).lstrip("v")
    return f"{prefix}-k8s-v{version}-{image_digest[:SHORT]}"


def properties(parts: dict[str, str], image_digest: str, cohort: str) -> dict[str, str]:
    """The image's properties: every component, the digest, who baked it."""
    props = {f"{PREFIX}{name}": value[:MAX_PROPERTY] for name, value in parts.items()}
    props[f"{PREFIX}digest"] = image_digest
    props[f"{PREFIX}baked_by"] = cohort
    return props


def baked_by(images: list[dict], cohort: str) -> list[dict]:
    """The images (image service records, with their properties) that a
    cohort baked."""
    return [
        image
        for image in images or []
        if (image.get("properties") or {}).get(f"{PREFIX}baked_by") == cohort
    ]


def recorded_components(image_properties: dict) -> dict[str, str]:
    """The components an image's properties record (digest and baker aside)."""
    return {
        key[len(PREFIX) :]: str(value)
        for key, value in (image_properties or {}).items()
        if key.startswith(PREFIX) and key not in (f"{PREFIX}digest", f"{PREFIX}baked_by")
    }


def _describe(name: str) -> str:
    if name.startswith("role_"):
        return f"role {name[5:]} (its files)"
    return {
        "preload": "the preloaded image archives",
        "pull": "the images pulled from registries",
        "settings": "the cohort's vars",
    }.get(name, name)


def differences(image_properties: dict, wanted: dict[str, str]) -> list[str]:
    """One line per component that differs between an image and what the
    roles and pins want now; empty when the image matches."""
    recorded = recorded_components(image_properties)
    if not recorded:
        return ["it is not a kube-atelier baked image (it has no kube_atelier_* properties)"]
    lines = []
    for name in sorted(set(recorded) | set(wanted)):
        have, want = recorded.get(name), wanted.get(name)
        if have == want:
            continue
        if have is None:
            lines.append(f"{_describe(name)}: not in the image, wanted {want}")
        elif want is None:
            lines.append(f"{_describe(name)}: in the image ({have}), no longer wanted")
        elif re.fullmatch(r"[0-9a-f]{12}", want):
            lines.append(f"{_describe(name)}: changed since the bake ({have} -> {want})")
        else:
            lines.append(f"{_describe(name)}: image has {have}, wanted {want}")
    return lines
