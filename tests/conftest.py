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
