"""Shared helpers for kube-atelier's own tests (not the collection's unit tests)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def ansible_env() -> dict[str, str]:
    """The environment the project's scripts give Ansible: its ansible.cfg, no colour."""
    env = dict(os.environ)
    env.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    return env


def run(
    args: list[str], timeout: int = 900, env: dict[str, str] | None = None, **kwargs
) -> subprocess.CompletedProcess[str]:
    """Run a command from the project root and capture its output as text
    (env: variables added to ansible_env())."""
    return subprocess.run(
        args,
        cwd=ROOT,
        env={**ansible_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **kwargs,
    )


# The Kubernetes releases the project supports (kubeadm_cluster's table).
RELEASES = sorted(
    yaml.safe_load((ROOT / "roles/kubeadm_cluster/defaults/main.yml").read_text())[
        "kubeadm_cluster_releases"
    ]
)


def validation_problems(files: list, release: str) -> str:
    """What kubernetes-validate --strict says of the files for a release, ''
    when they are valid (an apiVersion the release does not know is only a
    warning there, so a warning counts as a problem)."""
    result = subprocess.run(
        ["kubernetes-validate", "--strict", "--quiet", "-k", f"{release}.0", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    return output if result.returncode != 0 or "WARN" in output else ""


def role_on_localhost(tmp_path: Path, role: str, extra_vars: dict) -> tuple[int, str]:
    """The role alone on localhost with extra_vars: (return code, output).
    The role tests give it a kubeconfig that does not exist, so only a refusal
    in the role's input checks is seen."""
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        "- name: Bad input\n  hosts: localhost\n  connection: local\n  gather_facts: false\n"
        "  vars:\n    ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
        f"  roles:\n    - role: {role}\n"
    )
    result = run(
        ["ansible-playbook", "-i", "localhost,", str(playbook), "-e", json.dumps(extra_vars)]
    )
    return result.returncode, result.stdout + result.stderr


def render_on_localhost(out: Path, playbook: str, extra_vars: dict) -> None:
    """Run a rendering playbook (the manifest tests' own, written to out) on
    localhost with extra_vars and this Python; fails with its output."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "render.yml"
    path.write_text(playbook)
    extra = {"ansible_python_interpreter": sys.executable, **extra_vars}
    result = run(["ansible-playbook", "-i", "localhost,", str(path), "-e", json.dumps(extra)])
    assert result.returncode == 0, result.stdout + result.stderr


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


def teardown_the_sandbox_cohort():
    return run(["ansible-playbook", "-i", "inventories/sandbox", "playbooks/teardown.yml",
                "-e", "teardown_confirmed=true"])  # fmt: skip


@pytest.fixture(scope="session")
def main_job():
    """The README's main job on the sandbox (scripts/run.sh), run once: the
    main-job tests, then the recovery tests, work on the cluster it made; its
    servers, containers and volumes are removed at the end of the session."""
    # What a run interrupted before its teardown left on the sandbox cloud (its
    # key then differs from this clone's new one, and provisioning stops).
    teardown_the_sandbox_cohort()
    # ... and its nodes: the main job brings the cluster up from nothing.
    subprocess.run([str(ROOT / "scripts/sandbox-nodes.sh"), "down"], check=False)
    result = run(["scripts/run.sh"], timeout=3600)
    yield result
    teardown_the_sandbox_cohort()
    subprocess.run([str(ROOT / "scripts/sandbox-nodes.sh"), "down"], check=False)
