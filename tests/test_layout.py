"""The project's own contracts: CI runs the README's test command, every role
documents and validates its inputs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from jinja2.nativetypes import NativeEnvironment

ROOT = Path(__file__).resolve().parent.parent
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if p.is_dir())


def readme_commands() -> list[str]:
    """The commands in the README's first shell block (main job, then tests)."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```(?:bash|sh)\n(.*?)```", text, re.S)
    assert block, "README.md has no shell block"
    commands = (line.split("#", 1)[0].strip() for line in block.group(1).splitlines())
    return [command for command in commands if command]


MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def relative_links(markdown: Path) -> list[str]:
    """The relative link targets of a markdown file, outside code blocks and spans."""
    text = re.sub(r"^```.*?^```", "", markdown.read_text(), flags=re.S | re.M)
    text = re.sub(r"`[^`\n]*`", "", text)
    targets = (match.group(1) for match in MARKDOWN_LINK.finditer(text))
    return [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:|#", t)]


def test_readme_is_short():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 210, f"README.md has {len(lines)} lines: move details to docs/"


@pytest.mark.parametrize(
    "markdown",
    [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_every_relative_link_points_to_a_file(markdown: Path):
    missing = [
        target
        for target in relative_links(markdown)
        if not (markdown.parent / target.split("#", 1)[0]).exists()
    ]
    assert not missing, f"{markdown.relative_to(ROOT)}: links to missing files: {missing}"


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


def test_top_level_site_yml_runs_what_playbooks_site_yml_runs():
    """`ansible-playbook site.yml -i inventories/<cohort>` from the root, as the
    design says: the same plays and tasks as playbooks/site.yml."""
    from conftest import run  # noqa: PLC0415

    listed = [
        run(["ansible-playbook", "-i", "inventories/sandbox", path, "--list-tasks"])
        for path in ("site.yml", "playbooks/site.yml")
    ]
    assert all(item.returncode == 0 for item in listed), [item.stderr for item in listed]

    def tasks(listing: str) -> list[str]:  # past the "playbook:" line; tags as sets
        return [
            re.sub(
                r"\[([^]]*)\]$",
                lambda m: str(sorted(t.strip() for t in m.group(1).split(","))),
                line.strip(),
            )
            for line in listing.splitlines()[2:]
        ]

    top, stage = (tasks(item.stdout) for item in listed)
    assert top == stage and "Deploy each lab the cohort enables\tTAGS: ['always', 'labs']" in top


LAB_ROLES = sorted(p for p in ROLES if p.name.startswith("lab_"))


@pytest.mark.parametrize("role", LAB_ROLES, ids=lambda p: p.name)
def test_every_lab_role_declares_itself(role: Path):
    from ansible_collections.atelier.kube.plugins.plugin_utils import lab_catalog  # noqa: PLC0415

    declaration = lab_catalog.load(role.name.removeprefix("lab_"), role)
    assert (role / "tasks/verify.yml").is_file()
    spec = yaml.safe_load((role / "meta/argument_specs.yml").read_text())["argument_specs"]
    assert "verify" in spec, f"{role.name}: argument_specs has no verify entry point"
    assert declaration["verify"]["result"].startswith(f"{role.name}_")
    # The images a bake pulls for it: its pinned <role>_images, rendered as the
    # lookup atelier.kube.lab_declarations renders them (with the role's defaults).
    defaults = yaml.safe_load((role / "defaults/main.yml").read_text())
    images = NativeEnvironment().from_string(declaration["images"]).render(**defaults)
    assert images == list(defaults[f"{role.name}_images"].values())
    assert all(re.search(r":[\w.-]+$", image) and not image.endswith(":latest") for image in images)


def test_one_license_everywhere():
    assert (
        (ROOT / "LICENSE").read_text().startswith("                    GNU GENERAL PUBLIC LICENSE")
    )
    galaxy = yaml.safe_load(
        (ROOT / "collections/ansible_collections/atelier/kube/galaxy.yml").read_text()
    )
    assert galaxy["license"] == ["GPL-3.0-or-later"]
    for role in ROLES:
        meta = yaml.safe_load((role / "meta/main.yml").read_text())
        assert meta["galaxy_info"]["license"] == "GPL-3.0-or-later", role.name


def test_the_lab_image_build_makes_exactly_the_labs_images():
    """scripts/build-lab-images.sh --list names every image a lab role's (or
    cluster_storage's, which JupyterHub's claims need) <role>_images default
    names, and no other."""
    from conftest import run  # noqa: PLC0415

    listed = run([str(ROOT / "scripts/build-lab-images.sh"), "--list"])
    assert listed.returncode == 0, listed.stderr
    built = {line.split("\t")[0] for line in listed.stdout.splitlines()}
    wanted = set()
    for role in [*LAB_ROLES, ROOT / "roles/cluster_storage"]:
        defaults = yaml.safe_load((role / "defaults/main.yml").read_text())
        wanted |= set(defaults.get(f"{role.name}_images", {}).values())
    assert built == wanted
