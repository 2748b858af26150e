"""The hub's decisions for kube-atelier's JupyterHub (roles/lab_jupyterhub),
kept apart from JupyterHub so that they are unit-tested without it:

- who may log in, with which password: each learner of the cluster with the
  password of their login card, and the cluster's hub admin. The hub holds
  only PBKDF2-SHA256 hashes of them (its Secret), never a password;
- the KubeSpawner settings, from the role's settings (its ConfigMap), as the
  zero-to-jupyterhub chart sets them from its values.

jupyterhub_config.py (beside this file in the hub's ConfigMap) imports it.
Standard library only: the hub image of z2jh 4.x is Python 3.14, the
sandbox's stand-in Debian's 3.11.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path

# What the role's filter atelier.kube.pbkdf2_sha256 writes.
HASH_FORMAT = re.compile(r"^pbkdf2_sha256\$(\d+)\$([0-9a-f]+)\$([0-9a-f]{64})$")
USERNAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")


class SettingsError(ValueError):
    """The role's settings or users file is not what the role writes."""


def password_matches(stored: str, password: str) -> bool:
    """Does password hash to stored ("pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>")?
    A malformed stored hash never matches."""
    match = HASH_FORMAT.match(stored or "")
    if not match or not isinstance(password, str):
        return False
    iterations, salt, expected = int(match[1]), bytes.fromhex(match[2]), match[3]
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations).hex()
    return hmac.compare_digest(digest, expected)


def load_users(path: str | Path) -> dict[str, dict]:
    """{name: {"hash": ..., "admin": bool}} from the hub's users file (its
    Secret), checked: every name a valid user name, every hash well formed."""
    try:
        users = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise SettingsError(f"{path}: not the role's users file ({error})") from error
    if not isinstance(users, dict) or not users:
        raise SettingsError(f"{path}: expected a mapping of users, got {type(users).__name__}")
    for name, user in users.items():
        if not USERNAME.match(name):
            raise SettingsError(f"{path}: '{name}' is not a valid user name")
        if not isinstance(user, dict) or not HASH_FORMAT.match(str(user.get("hash", ""))):
            raise SettingsError(f"{path}: user '{name}' has no pbkdf2_sha256 hash")
    return users


def authenticate(users: dict[str, dict], username: str, password: str) -> str | None:
    """The user name when it is a user of this hub and the password is theirs, else None.
    The name is taken as typed, lower-cased and stripped (as JupyterHub normalizes it)."""
    name = (username or "").strip().lower()
    user = users.get(name)
    if user is None:
        # A known user's hash checked anyway: an unknown name takes as long.
        password_matches(next(iter(users.values()))["hash"], password or "")
        return None
    return name if password_matches(user["hash"], password or "") else None


def spawner_settings(settings: dict) -> dict:
    """KubeSpawner's traits from the role's settings: the single-user image,
    the per-user PVC claim-<user> (dynamic storage, as the z2jh chart's
    singleuser.storage.type dynamic), the memory guarantee and limit."""
    try:
        singleuser = settings["singleuser"]
        storage = singleuser["storage"]
        traits = {
            "image": singleuser["image"],
            "image_pull_policy": singleuser.get("imagePullPolicy", "IfNotPresent"),
            "cmd": ["jupyterhub-singleuser"],
            "port": 8888,
            "uid": 1000,
            "fs_gid": 100,
            "start_timeout": int(singleuser.get("startTimeout", 300)),
            "http_timeout": int(singleuser.get("httpTimeout", 30)),
            # Bytes (the role converts the Kubernetes quantities).
            "mem_guarantee": int(singleuser["memory"]["guarantee"]),
            "mem_limit": int(singleuser["memory"]["limit"]),
            "storage_pvc_ensure": True,
            "pvc_name_template": "claim-{username}{servername}",
            "storage_capacity": storage["capacity"],
            "storage_access_modes": ["ReadWriteOnce"],
            "volumes": [
                {
                    "name": "volume-{username}{servername}",
                    "persistentVolumeClaim": {"claimName": "{pvc_name}"},
                },
            ],
            "volume_mounts": [
                {"name": "volume-{username}{servername}", "mountPath": "/home/jovyan"},
            ],
            "common_labels": {
                "app.kubernetes.io/managed-by": "kubespawner",
                **settings.get("labels", {}),
            },
        }
    except (KeyError, TypeError) as error:
        raise SettingsError(f"settings: missing {error}") from error
    except ValueError as error:
        raise SettingsError(
            f"settings: a memory size is not a number of bytes ({error})"
        ) from error
    if storage.get("storageClass"):
        traits["storage_class"] = storage["storageClass"]
    return traits
