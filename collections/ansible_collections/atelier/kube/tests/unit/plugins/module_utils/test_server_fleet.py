"""Convergence logic of server_fleet against FakeCloud, an in-memory STAND-IN
for openstacksdk's Connection (compute, image, network proxies). It checks the
decisions (retry, recreate, dedupe, report); the same code runs against the
real OpenStack APIs of the sandbox cloud in tests/test_provision_sandbox.py."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest
from ansible_collections.atelier.kube.plugins.module_utils.server_fleet import (
    Fleet,
    FleetError,
    ServerSpec,
)
from openstack import exceptions

ids = itertools.count(1)


class FakeCloud:
    """Servers go ACTIVE on the first poll, unless `fail_builds` says ERROR."""

    def __init__(self, fail_builds=0, create_errors=(), have=("m3.small", "img", "net")):
        self.servers: list[SimpleNamespace] = []
        self.fail_builds = fail_builds
        self.create_errors = list(create_errors)
        self.have = set(have)
        self.create_calls = 0
        self.create_requests: list[dict] = []
        self.deleted: list[str] = []
        self.compute = SimpleNamespace(
            servers=self.list_servers,
            find_flavor=self.find,
            create_server=self.create_server,
            delete_server=self.delete_server,
        )
        self.image = SimpleNamespace(find_image=self.find)
        self.network = SimpleNamespace(
            find_network=self.find, ports=lambda: [], ips=lambda: [], delete_ip=None
        )

    def find(self, name, ignore_missing=True):
        return SimpleNamespace(id=f"id-{name}") if name in self.have else None

    def add(self, name, status="ACTIVE"):
        server = SimpleNamespace(
            id=f"srv-{next(ids)}",
            name=name,
            status=status,
            created_at=f"2026-01-01T00:00:{next(ids):02d}",
            addresses={"net": [{"addr": "10.42.0.9", "version": 4}]},
            metadata={},
            fault=None,
        )
        self.servers.append(server)
        return server

    def list_servers(self, details=False):
        for server in self.servers:
            if server.status == "BUILD":
                server.status = "ERROR" if self.fail_builds else "ACTIVE"
                if self.fail_builds:
                    self.fail_builds -= 1
                    server.fault = {"message": "No valid host was found."}
        return list(self.servers)

    def create_server(self, name, **kwargs):
        self.create_calls += 1
        self.create_requests.append(kwargs)
        if self.create_errors:
            raise self.create_errors.pop(0)
        return self.add(name, status="BUILD")

    def delete_server(self, server, ignore_missing=True):
        self.deleted.append(server.name)
        self.servers = [s for s in self.servers if s.id != server.id]


def spec(name):
    return ServerSpec(name=name, flavor="m3.small", image="img", network="net")


def fleet(cloud):
    return Fleet(cloud, poll_interval=0, timeout=5, retries=2, workers=2)


def test_creates_missing_servers_and_reports_addresses():
    cloud = FakeCloud()
    cloud.add("c-c01-n1")
    outcomes = fleet(cloud).ensure_present([spec("c-c01-n1"), spec("c-c01-n2")])
    assert [(o.name, o.status, o.created) for o in outcomes] == [
        ("c-c01-n1", "active", False),
        ("c-c01-n2", "active", True),
    ]
    assert outcomes[1].private_ip == "10.42.0.9"
    assert cloud.create_calls == 1


def test_server_in_error_is_built_again():
    cloud = FakeCloud(fail_builds=1)
    (outcome,) = fleet(cloud).ensure_present([spec("c-c01-n1")])
    assert outcome.status == "active"
    assert outcome.attempts == 2
    assert cloud.deleted == ["c-c01-n1"]


def test_server_that_keeps_failing_is_reported_with_the_fault():
    cloud = FakeCloud(fail_builds=10)
    (outcome,) = fleet(cloud).ensure_present([spec("c-c01-n1")])
    assert outcome.status == "failed"
    assert "3 times" in outcome.error
    assert "No valid host" in outcome.error


def test_quota_refusal_is_reported_not_retried():
    quota = exceptions.HttpException(
        message="Quota exceeded for instances: Requested 1, but already used 10 of 10 instances",
        http_status=403,
    )
    cloud = FakeCloud(create_errors=[quota])
    (outcome,) = fleet(cloud).ensure_present([spec("c-c01-n1")])
    assert outcome.status == "failed"
    assert outcome.error.startswith("quota exceeded: HTTP 403")
    assert cloud.create_calls == 1


def test_transient_api_error_is_retried():
    busy = exceptions.HttpException(message="Service Unavailable", http_status=503)
    cloud = FakeCloud(create_errors=[busy])
    (outcome,) = fleet(cloud).ensure_present([spec("c-c01-n1")])
    assert outcome.status == "active"
    assert cloud.create_calls == 2


def test_duplicates_are_removed_keeping_the_active_one():
    cloud = FakeCloud()
    kept = cloud.add("c-c01-n1", status="ACTIVE")
    cloud.add("c-c01-n1", status="ERROR")
    (outcome,) = fleet(cloud).ensure_present([spec("c-c01-n1")])
    assert outcome.id == kept.id
    assert [s.id for s in cloud.servers] == [kept.id]


def test_missing_flavor_image_network_are_all_named_before_any_create():
    cloud = FakeCloud(have=())
    with pytest.raises(FleetError) as error:
        fleet(cloud).ensure_present([spec("c-c01-n1")])
    assert (
        str(error.value) == "not found in the cloud: flavor 'm3.small', image 'img', network 'net'"
    )
    assert cloud.create_calls == 0


def test_check_mode_changes_nothing():
    cloud = FakeCloud()
    f = Fleet(cloud, check_mode=True)
    (outcome,) = f.ensure_present([spec("c-c01-n1")])
    assert outcome.status == "would be created"
    assert f.changed
    assert cloud.create_calls == 0


def test_unset_key_and_groups_are_left_out_of_the_request():
    # Nova answers 400 to key_name=None; found by the provisioning benchmark.
    cloud = FakeCloud()
    keyed = ServerSpec(
        name="c-c01-n2", flavor="m3.small", image="img", network="net",
        key_name="c-key", security_groups=["c-access"],
    )  # fmt: skip
    fleet(cloud).ensure_present([spec("c-c01-n1"), keyed])
    bare, full = sorted(cloud.create_requests, key=lambda r: "key_name" in r)
    assert "key_name" not in bare and "security_groups" not in bare
    assert full["key_name"] == "c-key"
    assert full["security_groups"] == [{"name": "c-access"}]


class FakeCloudWithAddresses(FakeCloud):
    """FakeCloud with a port per server and floating IPs (create, attach, detach, delete)."""

    def __init__(self):
        super().__init__()
        self.ips: list[SimpleNamespace] = []
        self.addresses = (f"203.0.113.{n}" for n in itertools.count(10))
        self.network = SimpleNamespace(
            find_network=self.find,
            ports=lambda: [
                SimpleNamespace(id=f"port-{s.id}", device_id=s.id) for s in self.servers
            ],
            ips=lambda: list(self.ips),
            create_ip=self.create_ip,
            update_ip=self.update_ip,
            delete_ip=lambda ip, ignore_missing=True: self.ips.remove(ip),
        )

    def create_ip(self, floating_network_id, port_id, description):
        ip = SimpleNamespace(
            id=f"fip-{next(ids)}",
            floating_ip_address=next(self.addresses),
            port_id=port_id,
            description=description,
        )
        self.ips.append(ip)
        return ip

    def update_ip(self, ip, port_id):
        ip.port_id = port_id
        return ip


def login_spec(name):
    return ServerSpec(name=name, flavor="m3.small", image="img", network="net", floating_ip=True)


def address_fleet(cloud):
    return Fleet(cloud, poll_interval=0, timeout=5, retries=2, workers=2, external_network="net")


def test_a_server_rebuilt_with_its_address_kept_gets_the_same_address_back():
    cloud = FakeCloudWithAddresses()
    (first,) = address_fleet(cloud).ensure_present([login_spec("c-c01-n1")])
    address_fleet(cloud).ensure_absent({"c-c01-n1"}, keep_floating_ips=True)
    assert cloud.servers == [] and [ip.port_id for ip in cloud.ips] == [None]
    (again,) = address_fleet(cloud).ensure_present([login_spec("c-c01-n1")])
    assert again.public_ip == first.public_ip
    assert len(cloud.ips) == 1 and cloud.ips[0].port_id == f"port-{again.id}"


def test_a_deletion_without_keeping_removes_the_address_and_any_kept_one():
    cloud = FakeCloudWithAddresses()
    address_fleet(cloud).ensure_present([login_spec("c-c01-n1"), login_spec("c-c02-n1")])
    address_fleet(cloud).ensure_absent({"c-c01-n1"}, keep_floating_ips=True)
    # A teardown after a rebuild that stopped before creating the server again.
    address_fleet(cloud).ensure_absent({"c-c01-n1", "c-c02-n1"})
    assert cloud.ips == []


def test_a_kept_address_goes_only_to_the_server_of_its_name():
    cloud = FakeCloudWithAddresses()
    (kept,) = address_fleet(cloud).ensure_present([login_spec("c-c01-n1")])
    address_fleet(cloud).ensure_absent({"c-c01-n1"}, keep_floating_ips=True)
    (other,) = address_fleet(cloud).ensure_present([login_spec("c-c02-n1")])
    assert other.public_ip != kept.public_ip
    assert sorted(ip.port_id is None for ip in cloud.ips) == [False, True]
