"""The inventory plugin through the real ansible-inventory command, offline and
against a stand-in cloud (a fake openstack.connect, named as such below)."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from types import SimpleNamespace

import openstack
import pytest
from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader

ROOT = Path(__file__).resolve().parents[8]


def plain(value):
    """ansible-inventory marks strings from the cohort file as unsafe (never templated)."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


@pytest.fixture
def cohort_plugin():
    """The plugin loaded by Ansible's plugin loader from its file (with its options)."""
    inventory_loader.add_directory(
        str(ROOT / "collections/ansible_collections/atelier/kube/plugins/inventory")
    )
    return inventory_loader.get("cohort")


def ansible_inventory(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    return subprocess.run(
        ["ansible-inventory", "-i", str(path), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cohort.yml"
    path.write_text(textwrap.dedent(text))
    return path


def test_planned_hosts_and_groups_offline(tmp_path):
    path = write(
        tmp_path,
        """\
        plugin: atelier.kube.cohort
        cohort: demo
        cloud: nowhere
        learners: [ann, ben, cy, dee]
        learners_per_cluster: 2
        nodes_per_cluster: 2
        keyed_groups:
          - key: atelier_node_role
            prefix: role
        """,
    )
    result = ansible_inventory(path, "--list")
    assert result.returncode == 0, result.stderr
    inventory = plain(json.loads(result.stdout))
    assert inventory["cluster_01"]["hosts"] == ["demo-c01-n1", "demo-c01-n2"]
    assert inventory["cluster_02"]["hosts"] == ["demo-c02-n1", "demo-c02-n2"]
    assert inventory["control_plane"]["hosts"] == ["demo-c01-n1", "demo-c02-n1"]
    assert inventory["login_hosts"]["hosts"] == ["demo-c01-n1", "demo-c02-n1"]
    assert sorted(inventory["k8s_cluster"]["children"]) == ["control_plane", "workers"]
    assert inventory["role_worker"]["hosts"] == ["demo-c01-n2", "demo-c02-n2"]
    hostvars = inventory["_meta"]["hostvars"]["demo-c02-n2"]
    assert [learner["name"] for learner in hostvars["atelier_learners"]] == ["cy", "dee"]
    assert hostvars["atelier_server_state"] == "planned"
    assert "ansible_host" not in hostvars


def test_bad_file_fails_with_the_problems_and_no_traceback(tmp_path):
    path = write(
        tmp_path,
        """\
        plugin: atelier.kube.cohort
        cohort: demo
        cloud: nowhere
        learners: 2
        labs: [hpa]
        """,
    )
    result = ansible_inventory(path, "--graph")
    assert result.returncode != 0
    assert "labs[0]: 'hpa' is not a lab" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def parse_with_stand_in_cloud(plugin, tmp_path, monkeypatch, servers, text):
    """Runs the plugin in-process with openstack.connect replaced by a STAND-IN
    whose compute.servers() returns `servers`."""
    calls = []

    def fake_connect(cloud, region_name=None):
        calls.append(cloud)
        return SimpleNamespace(compute=SimpleNamespace(servers=lambda details: servers))

    monkeypatch.setattr(openstack, "connect", fake_connect)
    path = write(tmp_path, text)
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), str(path), cache=False)
    return inventory, calls


def server(name, private, public=None, cohort="demo"):
    addresses = [{"addr": private, "version": 4, "OS-EXT-IPS:type": "fixed"}]
    if public:
        addresses.append({"addr": public, "version": 4, "OS-EXT-IPS:type": "floating"})
    return SimpleNamespace(
        name=name, id=f"id-{name}", status="ACTIVE", metadata={"atelier_cohort": cohort},
        addresses={"demo-net": addresses},
    )  # fmt: skip


# Loaded from its file (cohort_plugin), the plugin answers to its short name.
COHORT_WITH_CLOUD = """\
    plugin: cohort
    cohort: demo
    cloud: stand-in
    learners: 1
    nodes_per_cluster: 2
    fetch_addresses: true
    """


def test_addresses_from_the_cloud_and_jump_through_login_host(cohort_plugin, tmp_path, monkeypatch):
    servers = [
        server("demo-c01-n1", "10.42.0.5", "203.0.113.7"),
        server("demo-c01-n2", "10.42.0.6"),
        server("other-c01-n1", "10.42.0.9", cohort="other"),
    ]
    inventory, calls = parse_with_stand_in_cloud(
        cohort_plugin, tmp_path, monkeypatch, servers, COHORT_WITH_CLOUD
    )
    assert calls == ["stand-in"]
    login = inventory.get_host("demo-c01-n1").vars
    worker = inventory.get_host("demo-c01-n2").vars
    assert login["ansible_host"] == "203.0.113.7"
    assert login["atelier_private_ip"] == "10.42.0.5"
    assert worker["ansible_host"] == "10.42.0.6"
    key = str(tmp_path / "secrets" / "id_ed25519")
    assert login["ansible_ssh_private_key_file"] == worker["ansible_ssh_private_key_file"] == key
    assert login["atelier_cohort_dir"] == str(tmp_path)
    assert "ansible_ssh_common_args" not in login
    # The hop to the login host is given the cohort's key too.
    assert worker["ansible_ssh_common_args"] == (
        f"-o ProxyCommand='ssh -i {key} -o StrictHostKeyChecking=no -W %h:%p ubuntu@203.0.113.7'"
    )
    assert worker["atelier_server_state"] == "active"
    assert inventory.get_host("other-c01-n1") is None


def test_cloud_error_is_a_warning_by_default_and_fatal_when_strict(
    cohort_plugin, tmp_path, monkeypatch
):
    def broken_connect(cloud, region_name=None):
        raise RuntimeError("connection refused")

    monkeypatch.setattr(openstack, "connect", broken_connect)
    inventory = InventoryData()
    cohort_plugin.parse(
        inventory, DataLoader(), str(write(tmp_path, COHORT_WITH_CLOUD)), cache=False
    )
    assert inventory.get_host("demo-c01-n2").vars["atelier_server_state"] == "planned"

    strict = COHORT_WITH_CLOUD.rstrip(" ") + "    strict_cloud: true\n"
    with pytest.raises(AnsibleParserError, match="cloud 'stand-in': could not list the servers"):
        inventory_loader.get("cohort").parse(
            InventoryData(), DataLoader(), str(write(tmp_path, strict)), cache=False
        )
