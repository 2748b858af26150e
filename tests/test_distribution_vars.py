"""Per-distribution variables and the shared host checks (roles/platform).

Each node role's own preflight runs on hosts that are given the facts of
Debian 12, Ubuntu 22.04, Ubuntu 24.04 and an unsupported OS (a small module
returns them; the connection is local, nothing on this machine is changed), and
what it leaves is compared with what the roles' READMEs document: the package
names and paths per distribution, the refusal of an unknown OS, whether the
host is a container. A distribution file must change what it holds, or it is
one of the identical copies the roles no longer keep."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml
from conftest import run

ROOT = Path(__file__).resolve().parent.parent
PREFLIGHT_ROLES = ["node_base", "container_runtime", "kubeadm_cluster", "go_hey", "learner_tools"]
LEARNER_TOOLS = [
    "bash-completion",
    "curl",
    "git",
    "htop",
    "jq",
    "make",
    "nano",
    "tmux",
    "tree",
    "unzip",
    "vim",
]
# The per-distribution variables of each role, as its README documents them,
# on Debian 12 (the common values: an OS without a file of its own gets them).
COMMON = {
    "node_base": {},
    "container_runtime": {"container_runtime_distro_packages": ["containerd", "runc"]},
    "kubeadm_cluster": {"kubeadm_cluster_resolv_conf": "/etc/resolv.conf"},
    "go_hey": {
        "go_hey_distro_go_package": "golang-go",
        "go_hey_distro_hey_package": "hey",
        "go_hey_distro_unzip_package": "unzip",
    },
    "learner_tools": {"learner_tools_distro_packages": LEARNER_TOOLS},
}
UBUNTU = COMMON | {
    "kubeadm_cluster": {"kubeadm_cluster_resolv_conf": "/run/systemd/resolve/resolv.conf"}
}


def facts(distribution, version, virtualization_role, virtualization_type):
    """What setup would give, with a fact of each subset the roles need, so
    that nothing is gathered from this machine."""
    return {
        "distribution": distribution,
        "distribution_version": version,
        "distribution_major_version": version.split(".")[0],
        "architecture": "x86_64",
        "virtualization_role": virtualization_role,
        "virtualization_type": virtualization_type,
        "swaptotal_mb": 0,
        "default_ipv4": {"address": "10.0.0.5"},
    }


HOSTS = {
    "debian12": facts("Debian", "12.11", "guest", "kvm"),
    "ubuntu2204": facts("Ubuntu", "22.04", "guest", "podman"),
    "ubuntu2404": facts("Ubuntu", "24.04", "host", "kvm"),
    "rocky9_allowed": facts("Rocky", "9.3", "guest", "docker"),
    "rocky9": facts("Rocky", "9.3", "NA", "NA"),
}
EXPECTED = {"debian12": COMMON, "ubuntu2204": UBUNTU, "ubuntu2404": UBUNTU}
SUPPORTED = "Debian 12, Ubuntu 22.04, Ubuntu 24.04"

FAKE_FACTS_MODULE = """\
#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule

module = AnsibleModule(argument_spec={"facts": {"type": "dict", "required": True}})
module.exit_json(changed=False, ansible_facts=module.params["facts"])
"""

PLAY = """\
- name: Each node role's preflight on the facts a host is given
  hosts: all
  gather_facts: false
  tasks:
    - name: Give the host its facts
      fake_facts:
        facts: "{{ given_facts }}"
      when: given_facts is defined
%s
    - name: Sum up what the preflights left on the host
      ansible.builtin.set_fact:
        report:
          values: "{{ loaded | default({}) }}"
          refused: "{{ refused | default({}) }}"
          in_container: "{{ platform_in_container | default(None) }}"
          distribution: "{{ ansible_facts['distribution'] | default(None) }}"

    - name: Write what the test reads, for every host at once
      ansible.builtin.copy:
        content: >-
          {{ dict(ansible_play_hosts_all
                  | zip(ansible_play_hosts_all | map('extract', hostvars, 'report'))) | to_json }}
        dest: "{{ out_dir }}/results.json"
        mode: "0644"
      run_once: true
"""

# Imported, not included in a loop: each role is read once for all hosts.
EACH_ROLE = """
    - name: Run the preflight of {role}
      block:
        - name: Run the preflight of {role}
          ansible.builtin.import_role:
            name: {role}
            tasks_from: preflight

        - name: Record the variables {role} documents per distribution
          ansible.builtin.set_fact:
            loaded: >-
              {{{{ loaded | default({{}})
                 | combine({{'{role}': dict({names} | zip({names} | map('extract', vars)))}}) }}}}
      rescue:
        - name: Record why {role} refused the host
          ansible.builtin.set_fact:
            refused: >-
              {{{{ refused | default({{}}) | combine({{'{role}': ansible_failed_result.msg}}) }}}}
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, dict]:
    work = tmp_path_factory.mktemp("distribution_vars")
    (work / "library").mkdir()
    (work / "library/fake_facts.py").write_text(FAKE_FACTS_MODULE)
    blocks = (EACH_ROLE.format(role=role, names=sorted(COMMON[role])) for role in PREFLIGHT_ROLES)
    (work / "play.yml").write_text(PLAY % "".join(blocks))
    allow_all = {f"{role}_allow_unsupported_os": True for role in PREFLIGHT_ROLES}
    hosts = {name: {"given_facts": given} for name, given in HOSTS.items()}
    hosts["rocky9_allowed"] |= allow_all
    inventory = {
        "all": {
            "vars": {
                "ansible_connection": "local",
                "ansible_python_interpreter": sys.executable,
                "atelier_private_ip": "10.0.0.5",
                "kubeadm_cluster_control_plane": "{{ inventory_hostname }}",
            },
            "hosts": hosts,
        }
    }
    (work / "inventory.yml").write_text(yaml.safe_dump(inventory))
    extra = {"out_dir": str(work)}
    result = run(
        [
            "ansible-playbook",
            "-i",
            str(work / "inventory.yml"),
            str(work / "play.yml"),
            "-e",
            json.dumps(extra),
        ],
        timeout=300,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return json.loads((work / "results.json").read_text())


@pytest.mark.parametrize("host", sorted(EXPECTED))
@pytest.mark.parametrize("role", PREFLIGHT_ROLES)
def test_each_distribution_gets_the_documented_values(results, host, role):
    assert results[host]["refused"] == {}
    assert results[host]["values"][role] == EXPECTED[host][role]
    readme = (ROOT / "roles" / role / "README.md").read_text()
    for value in EXPECTED[host][role].values():
        for item in value if isinstance(value, list) else [value]:
            assert f"`{item}`" in readme, f"{role}: {item} is not in README.md"


def test_an_allowed_unsupported_os_gets_the_common_values(results):
    assert results["rocky9_allowed"]["refused"] == {}
    assert results["rocky9_allowed"]["values"] == COMMON


@pytest.mark.parametrize("role", PREFLIGHT_ROLES)
def test_an_unsupported_os_is_refused_naming_role_os_and_list(results, role):
    assert results["rocky9"]["refused"][role] == (
        f"{role}: 'Rocky 9.3' is not supported (supported: {SUPPORTED}); "
        f"set {role}_allow_unsupported_os=true to try anyway."
    )


def test_a_container_is_told_from_a_machine(results):
    in_container = {host: results[host]["in_container"] for host in HOSTS}
    assert in_container == {
        "debian12": False,  # a VM
        "ubuntu2204": True,  # a podman container
        "ubuntu2404": False,  # a hypervisor's host
        "rocky9_allowed": True,  # a docker container
        "rocky9": None,  # refused before
    }


def test_cni_has_the_same_plugins_everywhere():
    """cni has no preflight: its one package and folder are in vars/main.yml."""
    values = yaml.safe_load((ROOT / "roles/cni/vars/main.yml").read_text())
    readme = (ROOT / "roles/cni/README.md").read_text()
    for name, value in {
        "cni_standard_plugins_package": "containernetworking-plugins",
        "cni_standard_plugins_dir": "/usr/lib/cni",
    }.items():
        assert values[name] == value
        assert f"`{value}`" in readme


def distribution_files() -> list[Path]:
    return sorted(p for p in ROOT.glob("roles/*/vars/*.yml") if p.name != "main.yml")


@pytest.mark.parametrize("path", distribution_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_a_distribution_file_holds_only_what_differs(path):
    common = yaml.safe_load((path.parent / "main.yml").read_text())
    own = yaml.safe_load(path.read_text())
    assert own, f"{path.name} is empty"
    for name, value in own.items():
        assert name in common, f"{name} has no common value in vars/main.yml"
        assert value != common[name], f"{name} is the same as in vars/main.yml"
    readme = (path.parent.parent / "README.md").read_text()
    assert f"`vars/{path.name}`" in readme


def test_every_preflight_role_imports_the_shared_checks():
    for role in PREFLIGHT_ROLES:
        tasks = yaml.safe_load((ROOT / "roles" / role / "tasks/preflight.yml").read_text())
        first = tasks[0]
        assert first["ansible.builtin.import_role"] == {"name": "platform"}, role
        assert first["vars"]["platform_role_name"] == role
        assert first["vars"]["platform_supported_os"] == f"{{{{ {role}_supported_os }}}}"
        assert (
            first["vars"]["platform_allow_unsupported_os"]
            == f"{{{{ {role}_allow_unsupported_os }}}}"
        )
