"""Shared helpers for kube-atelier's own tests (not the collection's unit tests)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def ansible_env() -> dict[str, str]:
    """The environment the project's scripts give Ansible: its ansible.cfg, no colour."""
    env = dict(os.environ)
    env.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    return env


def run(args: list[str], timeout: int = 900, **kwargs) -> subprocess.CompletedProcess[str]:
    """Run a command from the project root and capture its output as text."""
    return subprocess.run(
        args,
        cwd=ROOT,
        env=ansible_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **kwargs,
    )


@pytest.fixture
def project_root() -> Path:
    return ROOT


def plain(value):
    """JSON from ansible-inventory with its unsafe markers ({"__ansible_unsafe": x}) removed."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


SANDBOX_KUBECONFIG = ROOT / "inventories/sandbox/secrets/kubeconfigs/sandbox-c01-admin.conf"


def sandbox_kubectl(*args: str, stdin: str | None = None, timeout: int = 300):
    """kubectl of the pinned release against the sandbox cluster (scripts/sandbox.sh up or
    scripts/run.sh made it), with the admin kubeconfig the main job fetched."""
    bin_dir = run([str(ROOT / "scripts/build-k8s-artifacts.sh"), "--bin-dir"]).stdout.strip()
    return subprocess.run(
        [f"{bin_dir}/kubectl", "--kubeconfig", str(SANDBOX_KUBECONFIG), *args],
        input=stdin, capture_output=True, text=True, check=False, timeout=timeout,
    )  # fmt: skip


@pytest.fixture
def sandbox_cluster():
    """The running sandbox cluster's kubectl; skips when it is not up (scripts/sandbox.sh up)."""
    if not SANDBOX_KUBECONFIG.exists() or sandbox_kubectl("get", "--raw", "/readyz").returncode:
        pytest.skip("sandbox cluster not up: scripts/sandbox.sh up")
    return sandbox_kubectl
