"""Faults while provisioning on the sandbox cloud (real OpenStack APIs, fake
compute driver; no server address is ever contacted): a server forced into
ERROR, API failures mid-run, a quota refusal. After each, a re-run converges
on exactly the planned servers."""

from __future__ import annotations

import os
from urllib.parse import urlparse

import pytest
from conftest import run
from flaky_proxy import FlakyProxy
from sandbox_cloud import (
    cloud_with_compute_endpoint,
    cohort_resources,
    connect,
    start_sandbox_cloud,
    write_cohort,
)

pytestmark = pytest.mark.openstack
NO_WAIT = ["-e", "provision_wait_for_nodes=false"]


def playbook(name, folder, *extra, env=None):
    args = ["ansible-playbook", "-i", str(folder), f"playbooks/{name}.yml", *extra]
    if env is None:
        return run(args)
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return run(args)
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def clouds():
    start_sandbox_cloud()
    return connect("sandbox"), connect("sandbox-admin")


@pytest.fixture
def cohort(tmp_path, request):
    name = "it-" + request.node.name.removeprefix("test_").replace("_", "-")[:20].rstrip("-")
    folder = write_cohort(tmp_path / name, name, learners=1, nodes=2)
    playbook("teardown", folder, "-e", "teardown_confirmed=true")  # leftovers of an interrupted run
    yield name, folder
    write_cohort(folder, name, learners=1, nodes=2)
    playbook("teardown", folder, "-e", "teardown_confirmed=true")


def servers_of(conn, cohort):
    return {s.name: s for s in conn.compute.servers() if s.name.startswith(f"{cohort}-")}


def test_server_forced_into_error_is_rebuilt_on_rerun(clouds, cohort):
    user, admin = clouds
    name, folder = cohort
    assert playbook("provision", folder, *NO_WAIT).returncode == 0
    victim = servers_of(user, name)[f"{name}-c01-n2"]
    admin.compute.reset_server_state(victim, "error")
    assert admin.compute.get_server(victim.id).status == "ERROR"

    result = playbook("provision", folder, *NO_WAIT)
    assert result.returncode == 0, result.stdout[-3000:]
    after = servers_of(user, name)
    assert sorted(after) == [f"{name}-c01-n1", f"{name}-c01-n2"]
    assert after[f"{name}-c01-n2"].id != victim.id
    assert all(s.status == "ACTIVE" for s in after.values())


def test_api_failures_mid_run_then_rerun_converges(clouds, cohort, tmp_path):
    """Every server create answered 503 by a loopback proxy in front of nova-api,
    more times than the module retries: the run fails naming the servers, and a
    re-run through the healthy API converges without duplicates."""
    user, _ = clouds
    name, folder = cohort
    nova = urlparse(user.compute.get_endpoint())
    with FlakyProxy(nova.port) as proxy:
        clouds_yaml = cloud_with_compute_endpoint(
            tmp_path, f"http://127.0.0.1:{proxy.port}{nova.path}"
        )
        write_cohort(folder, name, learners=1, nodes=2, cloud="sandbox-via-proxy")
        proxy.fail(100, "POST", "/servers")
        failed = playbook("provision", folder, *NO_WAIT, env={"OS_CLIENT_CONFIG_FILE": clouds_yaml})
        assert failed.returncode != 0
        assert "HTTP 503" in failed.stdout
        assert f"{name}-c01-n1" in failed.stdout
        assert proxy.failed >= 2

        proxy.fail(1, "POST", "/servers")  # one more hiccup, absorbed by the retries
        result = playbook("provision", folder, *NO_WAIT, env={"OS_CLIENT_CONFIG_FILE": clouds_yaml})
        assert result.returncode == 0, result.stdout[-3000:]
    servers = servers_of(user, name)
    assert sorted(servers) == [f"{name}-c01-n1", f"{name}-c01-n2"]


def test_quota_refusal_is_reported_then_rerun_converges(clouds, cohort):
    user, admin = clouds
    name, folder = cohort
    project_id = user.current_project_id
    original = admin.compute.get_quota_set(project_id).instances
    in_use = len(list(user.compute.servers()))
    admin.compute.update_quota_set(project_id, instances=in_use + 1)
    try:
        refused = playbook("provision", folder, *NO_WAIT)
        assert refused.returncode != 0
        assert "quota exceeded" in refused.stdout.lower()
        assert len(servers_of(user, name)) == 1
    finally:
        admin.compute.update_quota_set(project_id, instances=original)
    result = playbook("provision", folder, *NO_WAIT)
    assert result.returncode == 0, result.stdout[-3000:]
    assert sorted(servers_of(user, name)) == [f"{name}-c01-n1", f"{name}-c01-n2"]
    assert cohort_resources(user, name)["networks"] == [f"{name}-net"]
