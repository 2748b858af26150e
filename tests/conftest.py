"""Shared helpers for kube-atelier's own tests (not the collection's unit tests)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
from collections.abc import Callable, Iterator
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


def wait_for(check: Callable[[], object], what: str, timeout: float = 60):
    """check()'s first truthy result, or a failure naming what never happened."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.3)


CONTROL_PLANE = "scripts/sandbox-apiserver.sh"


@pytest.fixture(scope="module")
def kubeconfig() -> Iterator[Path]:
    """The sandbox control plane's admin kubeconfig (scripts/sandbox-apiserver.sh).
    Starts the control plane unless it runs already; stops it at the end only if
    this test module started it (a developer's running one is left alone)."""
    was_up = run([CONTROL_PLANE, "status"], timeout=60).returncode == 0
    # Cold: the binaries are built first (minutes); warm: seconds.
    up = run([CONTROL_PLANE, "up"], timeout=3600)
    assert up.returncode == 0, up.stderr[-4000:]
    export = run([CONTROL_PLANE, "env"], timeout=60).stdout.strip()
    match = re.fullmatch(r"export KUBECONFIG=(\S+)", export)
    assert match, export
    try:
        yield Path(shlex.split(match.group(1))[0])
    finally:
        if not was_up:
            run([CONTROL_PLANE, "down"], timeout=120)


@pytest.fixture(scope="module")
def api(kubeconfig: Path):
    """A Kubernetes API client of the sandbox control plane."""
    from kubernetes import config  # noqa: PLC0415 (only the control-plane tests need it)

    return config.new_client_from_config(config_file=str(kubeconfig))
