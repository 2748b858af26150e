# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the JupyterHub lab (roles/lab_jupyterhub):

- pbkdf2_sha256: the hash the hub's Secret holds for a user, in the format
  its atelier_hub.py checks ("pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>");
  the salt is given, so the same password gives the same Secret on every run;
- memory_bytes: a Kubernetes memory quantity (256Mi, 1G, 1Gi, 1e9, 512000)
  in bytes, to compare a limit with its guarantee before anything is applied;
- storage_class_problem: why the PVCs of a workload would stay Pending with
  the cluster's StorageClasses ('' when they would bind).
"""

from __future__ import annotations

import hashlib
import re

from ansible.errors import AnsibleFilterError

SUFFIXES = {
    "": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}  # fmt: skip
QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(?:[eE]([0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E))?$")


def pbkdf2_sha256(password, salt, iterations=200000) -> str:
    if not isinstance(password, str) or not password:
        raise AnsibleFilterError("pbkdf2_sha256: the password must be a non-empty string")
    if not isinstance(salt, str) or not re.fullmatch(r"(?:[0-9a-f]{2}){8,64}", salt):
        raise AnsibleFilterError("pbkdf2_sha256: the salt must be 16 to 128 lower-case hex digits")
    try:
        iterations = int(iterations)
    except (TypeError, ValueError) as error:
        raise AnsibleFilterError(
            f"pbkdf2_sha256: iterations {iterations!r} is not a number"
        ) from error
    if iterations < 1000:
        raise AnsibleFilterError(
            f"pbkdf2_sha256: {iterations} iterations is too few (at least 1000)"
        )
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), iterations).hex()
    return f"pbkdf2_sha256${iterations}${salt}${digest}"


def memory_bytes(quantity) -> int:
    text = str(quantity).strip()
    match = QUANTITY.match(text)
    if not match:
        raise AnsibleFilterError(
            f"memory_bytes: '{quantity}' is not a Kubernetes memory quantity (e.g. 256Mi, 1G, 1Gi)"
        )
    number, exponent, suffix = match.groups()
    scale = 10 ** int(exponent) if exponent else SUFFIXES[suffix or ""]
    return int(float(number) * scale)


DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"


def storage_class_problem(storage_classes, wanted="", variable="storage_class") -> str:
    """storage_classes: StorageClass objects (k8s_info's resources). wanted:
    the class named, or '' for the cluster's default. The problem in a line
    naming `variable`, or ''."""
    if not isinstance(storage_classes, list):
        raise AnsibleFilterError("storage_class_problem: expected a list of StorageClass objects")
    names = sorted((sc.get("metadata") or {}).get("name", "") for sc in storage_classes)
    listed = ", ".join(names) or "none"
    if wanted:
        if wanted in names:
            return ""
        return f"{variable} '{wanted}' is not a StorageClass of the cluster (it has: {listed})"
    defaults = [
        sc for sc in storage_classes
        if ((sc.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CLASS) == "true"
    ]  # fmt: skip
    if defaults:
        return ""
    return (
        f"the cluster has no default StorageClass (it has: {listed}): run the cluster_storage role"
        f" (a local-path provisioner) or name one in {variable}"
    )


class FilterModule:
    def filters(self):
        return {
            "pbkdf2_sha256": pbkdf2_sha256,
            "memory_bytes": memory_bytes,
            "storage_class_problem": storage_class_problem,
        }
