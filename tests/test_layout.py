"""The project's own contracts: CI runs the README's test command, every role
documents and validates its inputs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if p.is_dir())


def readme_commands() -> list[str]:
    """The commands in the README's first shell block (main job, then tests)."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```(?:bash|sh)\n(.*?)```", text, re.S)
    assert block, "README.md has no shell block"
    commands = (line.split("#", 1)[0].strip() for line in block.group(1).splitlines())
    return [command for command in commands if command]


def test_ci_runs_exactly_the_readme_test_command():
    ci_commands = [
        line
        for line in (ROOT / ".ci/run").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    test_command = readme_commands()[1]
    assert ci_commands == [f"exec {test_command}"]


def test_readme_starts_with_main_job_then_tests():
    main_job, tests = readme_commands()[:2]
    assert main_job.startswith("scripts/run.sh")
    assert tests == "scripts/test.sh"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_role_has_spec_readme_and_scenario(role: Path):
    assert (role / "meta/argument_specs.yml").is_file()
    assert (role / "README.md").is_file()
    assert (ROOT / "molecule" / role.name / "molecule.yml").is_file()


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_every_default_is_specified_and_documented(role: Path):
    defaults_file = role / "defaults/main.yml"
    defaults = yaml.safe_load(defaults_file.read_text()) if defaults_file.exists() else {}
    spec = yaml.safe_load((role / "meta/argument_specs.yml").read_text())
    options = spec["argument_specs"]["main"]["options"]
    readme = (role / "README.md").read_text()
    for name in defaults or {}:
        assert name in options, f"{role.name}: {name} has no entry in meta/argument_specs.yml"
        assert f"`{name}`" in readme, f"{role.name}: {name} is not in README.md"
        assert name.startswith(f"{role.name}_"), f"{role.name}: {name} lacks the role prefix"
    for name, option in options.items():
        assert option.get("description"), f"{role.name}: {name} has no description"


def test_sandbox_guard_covers_the_cluster_ranges():
    """scripts/sandbox-nodes.sh refuses what the nodes send to the cluster's
    Service and Pod ranges past the host: they must be the ranges the sandbox
    cluster gets, kubeadm_cluster's defaults."""
    script = (ROOT / "scripts/sandbox-nodes.sh").read_text()
    guarded = re.search(r"^CLUSTER_RANGES=\((.*)\)$", script, re.M).group(1).split()
    defaults = (ROOT / "roles/kubeadm_cluster/defaults/main.yml").read_text()
    ranges = [
        re.search(rf"^kubeadm_cluster_{name}_cidr: .*default\('([^']+)'\)", defaults, re.M).group(1)
        for name in ("service", "pod")
    ]
    assert guarded == ranges
    cohort = (ROOT / "inventories/sandbox/cohort.yml").read_text()
    assert "service_cidr" not in cohort and "pod_cidr" not in cohort
