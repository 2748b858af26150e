"""Provisioning and teardown of cohorts on the sandbox cloud (see sandbox_cloud.py:
real OpenStack APIs, fake compute driver; no server address is ever contacted).
Two cohorts live side by side; tearing one down must leave the other whole."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from conftest import plain, run
from sandbox_cloud import cohort_resources, connect, start_sandbox_cloud, write_cohort

pytestmark = pytest.mark.openstack
NO_WAIT = ["-e", "provision_wait_for_nodes=false"]


def recap(output: str, host: str = "localhost") -> dict[str, int]:
    line = re.search(rf"^{re.escape(host)}\s+:\s+(ok=.*)$", output, re.M)
    assert line, output[-3000:]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line.group(1))}


def playbook(name: str, inventory, *extra: str):
    return run(["ansible-playbook", "-i", str(inventory), f"playbooks/{name}.yml", *extra])


@pytest.fixture(scope="module")
def cloud():
    start_sandbox_cloud()
    return connect()


@pytest.fixture(scope="module")
def cohorts(cloud, tmp_path_factory):
    """Cohort it-alpha (2 clusters x 2 nodes) and it-beta (1 x 2), provisioned once
    (after removing whatever an interrupted earlier run left), removed at the end."""
    base = tmp_path_factory.mktemp("cohorts")
    folders = {
        "alpha": write_cohort(base / "it-alpha", "it-alpha", learners=2, nodes=2),
        "beta": write_cohort(base / "it-beta", "it-beta", learners=1, nodes=2),
    }
    try:
        for folder in folders.values():
            playbook("teardown", folder, "-e", "teardown_confirmed=true")
            result = playbook("provision", folder, *NO_WAIT)
            assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
        yield folders
    finally:
        for folder in folders.values():
            playbook("teardown", folder, "-e", "teardown_confirmed=true")


def test_each_resource_exists_exactly_once(cloud, cohorts):
    resources = cohort_resources(cloud, "it-alpha")
    assert resources["servers"] == [
        "it-alpha-c01-n1", "it-alpha-c01-n2", "it-alpha-c02-n1", "it-alpha-c02-n2"
    ]  # fmt: skip
    assert resources["networks"] == ["it-alpha-net"]
    assert resources["subnets"] == ["it-alpha-subnet"]
    assert resources["routers"] == ["it-alpha-router"]
    assert resources["security_groups"] == ["it-alpha-access", "it-alpha-c01", "it-alpha-c02"]
    assert resources["keypairs"] == ["it-alpha-key"]
    assert len(resources["floating_ips"]) == 2  # the two login hosts
    for server in cloud.compute.servers():
        if server.name.startswith("it-alpha-"):
            assert server.status == "ACTIVE"
            assert server.metadata["atelier_cohort"] == "it-alpha"


def test_inventory_shows_every_planned_host_with_its_address(cohorts):
    result = run(["ansible-inventory", "-i", str(cohorts["alpha"]), "--list"])
    assert result.returncode == 0, result.stderr
    hostvars = plain(json.loads(result.stdout))["_meta"]["hostvars"]
    assert sorted(hostvars) == [
        "it-alpha-c01-n1", "it-alpha-c01-n2", "it-alpha-c02-n1", "it-alpha-c02-n2"
    ]  # fmt: skip
    for host, hvars in hostvars.items():
        assert re.fullmatch(r"10\.42\.\d+\.\d+", hvars["atelier_private_ip"]), host
        assert hvars["atelier_server_state"] == "active"
        if host.endswith("-n1"):
            assert hvars["atelier_public_ip"] == hvars["ansible_host"]
        else:
            assert "atelier_public_ip" not in hvars or not hvars["atelier_public_ip"]


def test_rerun_changes_nothing(cohorts):
    result = playbook("provision", cohorts["alpha"], *NO_WAIT)
    assert result.returncode == 0, result.stdout[-3000:]
    assert recap(result.stdout)["changed"] == 0, result.stdout[-4000:]


def test_teardown_needs_confirmation(cloud, cohorts):
    result = run(
        ["ansible-playbook", "-i", str(cohorts["alpha"]), "playbooks/teardown.yml"],
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode != 0
    assert "not confirmed; nothing was deleted" in result.stdout + result.stderr
    assert len(cohort_resources(cloud, "it-alpha")["servers"]) == 4


def cluster_footprint(cloud, prefix: str) -> dict[str, list[str]]:
    """IDs of the servers named <prefix>*, of their ports and floating IPs."""
    servers = [s for s in cloud.compute.servers() if s.name.startswith(prefix)]
    ports = [p for s in servers for p in cloud.network.ports(device_id=s.id)]
    port_ids = {p.id for p in ports}
    return {
        "servers": sorted(f"{s.name} {s.id}" for s in servers),
        "ports": sorted(p.id for p in ports),
        "floating_ips": sorted(
            f"{ip.floating_ip_address} {ip.id}"
            for ip in cloud.network.ips()
            if ip.port_id in port_ids
        ),
    }


def test_rebuild_naming_a_cluster_the_cohort_lacks_is_refused_before_any_deletion(cloud, cohorts):
    result = playbook(
        "rebuild", cohorts["alpha"], "-e", "cluster=it-alpha-c09", "-e", "rebuild_confirmed=true"
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "cluster 'it-alpha-c09' is not a cluster of cohort 'it-alpha'" in output, output[-3000:]
    assert "one of: it-alpha-c01, it-alpha-c02" in output
    assert "Delete the cluster's servers" not in output
    assert len(cohort_resources(cloud, "it-alpha")["servers"]) == 4


def test_rebuild_needs_confirmation(cloud, cohorts):
    result = run(
        [
            "ansible-playbook",
            "-i",
            str(cohorts["alpha"]),
            "playbooks/rebuild.yml",
            "-e",
            "cluster=it-alpha-c01",
        ],
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode != 0
    assert (
        "Rebuild of 'it-alpha-c01' not confirmed; nothing was deleted"
        in result.stdout + result.stderr
    )
    assert len(cohort_resources(cloud, "it-alpha")["servers"]) == 4


def test_rebuild_deletes_that_clusters_servers_and_leaves_the_others_whole(cloud, cohorts):
    """rebuild.yml deletes cluster 1's servers (its floating IP kept aside); cluster 2 of the
    cohort and the other cohort keep their servers, ports and floating IPs (the
    same IDs); provisioning again (the second half of scripts/rebuild.sh)
    creates cluster 1's servers anew and touches nothing else."""
    other_cluster = cluster_footprint(cloud, "it-alpha-c02-")
    other_cohort = cluster_footprint(cloud, "it-beta-")
    assert other_cluster["servers"] and other_cluster["floating_ips"]
    old = cluster_footprint(cloud, "it-alpha-c01-")
    result = playbook(
        "rebuild", cohorts["alpha"], "-e", "cluster=it-alpha-c01", "-e", "rebuild_confirmed=true"
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert "Deleted the servers of it-alpha-c01: it-alpha-c01-n1, it-alpha-c01-n2" in result.stdout
    assert cluster_footprint(cloud, "it-alpha-c01-") == {
        "servers": [],
        "ports": [],
        "floating_ips": [],
    }
    # Detached, kept for the new login host: its learners' cards name it.
    assert len(cohort_resources(cloud, "it-alpha")["floating_ips"]) == 2
    assert cluster_footprint(cloud, "it-alpha-c02-") == other_cluster
    assert cluster_footprint(cloud, "it-beta-") == other_cohort
    again = playbook("provision", cohorts["alpha"], *NO_WAIT)
    assert again.returncode == 0, again.stdout[-4000:]
    new = cluster_footprint(cloud, "it-alpha-c01-")
    assert [s.split()[0] for s in new["servers"]] == ["it-alpha-c01-n1", "it-alpha-c01-n2"]
    assert not set(new["servers"]) & set(old["servers"])
    # The login host's address is the one it had: the same cards still work.
    addresses = [[ip.split()[0] for ip in side["floating_ips"]] for side in (new, old)]
    assert addresses[0] == addresses[1] and len(addresses[0]) == 1
    assert cluster_footprint(cloud, "it-alpha-c02-") == other_cluster
    assert cluster_footprint(cloud, "it-beta-") == other_cohort


def test_teardown_removes_the_cohort_and_only_it(cloud, cohorts):
    before_beta = cohort_resources(cloud, "it-beta")
    result = playbook("teardown", cohorts["alpha"], "-e", "teardown_confirmed=true")
    assert result.returncode == 0, result.stdout[-4000:]
    assert all(not names for names in cohort_resources(cloud, "it-alpha").values())
    assert cohort_resources(cloud, "it-beta") == before_beta
    again = playbook("teardown", cohorts["alpha"], "-e", "teardown_confirmed=true")
    assert again.returncode == 0
    assert recap(again.stdout)["changed"] == 0, again.stdout[-3000:]


def test_teardown_finds_servers_by_metadata_even_when_not_in_the_file(cloud, tmp_path):
    """A cohort shrunk after provisioning (or a lost laptop's older file):
    servers carrying the cohort's metadata still go."""
    folder = write_cohort(tmp_path / "it-gamma", "it-gamma", learners=2, nodes=1)
    playbook("teardown", folder, "-e", "teardown_confirmed=true")
    assert playbook("provision", folder, *NO_WAIT).returncode == 0
    write_cohort(folder, "it-gamma", learners=1, nodes=1)
    result = playbook("teardown", folder, "-e", "teardown_confirmed=true")
    assert result.returncode == 0, result.stdout[-3000:]
    assert all(not names for names in cohort_resources(cloud, "it-gamma").values())


def test_another_key_under_the_cohorts_name_is_refused_clearly(cloud, tmp_path):
    """The cohort's folder made anew (a fresh clone: secrets are not in git)
    while its key stayed on the cloud: a message that says so and what to do,
    before any server is asked for."""
    folder = write_cohort(tmp_path / "it-delta", "it-delta", learners=1, nodes=1)
    playbook("teardown", folder, "-e", "teardown_confirmed=true")
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    public_key = other.with_suffix(".pub").read_text()
    cloud.compute.create_keypair(name="it-delta-key", public_key=public_key)
    try:
        result = playbook("provision", folder, *NO_WAIT)
        output = result.stdout + result.stderr
        assert result.returncode != 0
        refusal = "keypair 'it-delta-key' on the cloud holds another public key"
        assert refusal in output, output[-3000:]
        assert "Create the servers" not in output
    finally:
        playbook("teardown", folder, "-e", "teardown_confirmed=true")
    assert all(not names for names in cohort_resources(cloud, "it-delta").values())
