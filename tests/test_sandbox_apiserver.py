"""The sandbox control plane (scripts/sandbox-apiserver.sh): etcd, kube-apiserver,
kube-controller-manager and kube-scheduler of the pinned release on 127.0.0.1.

A real control plane without nodes, a stand-in for a cluster: what the API does
(discovery, validation, server-side apply, RBAC, the aggregator) and what the
controllers do is real; pods are never run, they stay Pending.

The first run builds the binaries (minutes, cached) and the certificates (once);
later runs start in a few seconds, or reuse a running control plane."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import ROOT, run, wait_for
from kubernetes import client, dynamic
from kubernetes.client.rest import ApiException

pytestmark = pytest.mark.controlplane

SCRIPT = "scripts/sandbox-apiserver.sh"
MANAGER = "kube-atelier-tests"
IMAGE = "registry.invalid/web:1"  # never pulled: there is no node


def status_of(call: Callable[[], object]) -> ApiException:
    with pytest.raises(ApiException) as raised:
        call()
    return raised.value


@pytest.fixture(scope="module")
def dyn(api: client.ApiClient) -> dynamic.DynamicClient:
    return dynamic.DynamicClient(api)


@pytest.fixture(scope="module")
def namespace(api: client.ApiClient) -> Iterator[str]:
    name = f"atelier-test-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": name}})
    # Pods are refused until the service-account controller made "default".
    wait_for(
        lambda: core.list_namespaced_service_account(name).items,
        f"the default ServiceAccount in {name}",
    )
    yield name
    core.delete_namespace(name)


def deployment(name: str, replicas: object) -> dict:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": IMAGE}]},
            },
        },
    }


def test_up_again_is_a_no_op(kubeconfig: Path):
    started = time.monotonic()
    again = run([SCRIPT, "up"], timeout=120)
    assert again.returncode == 0, again.stderr
    assert "already up" in again.stderr
    assert time.monotonic() - started < 5
    assert run([SCRIPT, "status"], timeout=60).returncode == 0


def test_keys_and_kubeconfigs_are_private(kubeconfig: Path):
    state = kubeconfig.parent
    secrets = [*state.glob("pki/**/*.key"), *state.glob("*.conf")]
    assert len(secrets) > 10
    for path in secrets:
        assert path.stat().st_mode & 0o077 == 0, f"{path} is readable by others"


def test_discovery_lists_real_groups(api: client.ApiClient, dyn: dynamic.DynamicClient):
    groups = {
        g.name: {v.version for v in g.versions}
        for g in client.ApisApi(api).get_api_versions().groups
    }
    assert "v2" in groups["autoscaling"]
    assert "v1" in groups["apps"]
    # Served by the apiserver's own aggregator, as in every cluster.
    assert "v1" in groups["apiregistration.k8s.io"]
    hpa = dyn.resources.get(api_version="autoscaling/v2", kind="HorizontalPodAutoscaler")
    assert hpa.namespaced
    version = client.VersionApi(api).get_code()
    versions_env = (ROOT / "tools/k8s-build/versions.env").read_text()
    pinned = re.search(r"^KUBERNETES_VERSION=(\S+)$", versions_env, re.M).group(1)
    assert version.git_version == f"v{pinned}"


def test_server_side_apply_and_the_controllers(api, dyn, namespace: str):
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    applied = deployments.server_side_apply(
        body=deployment("web", 2), name="web", namespace=namespace, field_manager=MANAGER
    )
    managers = {(m.manager, m.operation) for m in applied.metadata.managedFields}
    assert (MANAGER, "Apply") in managers

    apps = client.AppsV1Api(api)
    core = client.CoreV1Api(api)

    def replica_set():
        for rs in apps.list_namespaced_replica_set(namespace).items:
            owners = rs.metadata.owner_references or []
            if any(o.kind == "Deployment" and o.uid == applied.metadata.uid for o in owners):
                return rs
        return None

    rs = wait_for(replica_set, "a ReplicaSet made by the deployment controller")
    assert rs.spec.replicas == 2

    def pods_of_replica_set():
        pods = core.list_namespaced_pod(namespace, label_selector="app=web").items
        mine = [p for p in pods if p.metadata.name.startswith(f"{rs.metadata.name}-")]
        return mine if len(mine) == 2 else None

    pods = wait_for(pods_of_replica_set, "two pods made by the replicaset controller")

    # No nodes: the real scheduler marks them unschedulable and they stay Pending.
    def unschedulable(pod_name: str):
        pod = core.read_namespaced_pod(pod_name, namespace)
        for condition in pod.status.conditions or []:
            if condition.type == "PodScheduled" and condition.reason == "Unschedulable":
                return pod
        return None

    for pod in pods:
        scheduled = wait_for(
            lambda name=pod.metadata.name: unschedulable(name), "the scheduler's verdict"
        )
        assert scheduled.status.phase == "Pending"
        assert not scheduled.spec.node_name

    # Re-applying the same manifest changes nothing: the generation stays.
    again = deployments.server_side_apply(
        body=deployment("web", 2), name="web", namespace=namespace, field_manager=MANAGER
    )
    assert again.metadata.generation == applied.metadata.generation


def test_server_validation_rejects_malformed_objects(dyn, namespace: str):
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")

    # A semantic error is the apiserver's validation: 422 Invalid, with the field.
    error = status_of(
        lambda: deployments.server_side_apply(
            body=deployment("negative", -1),
            name="negative",
            namespace=namespace,
            field_manager=MANAGER,
        )
    )
    assert error.status == 422
    body = json.loads(error.body)
    assert body["reason"] == "Invalid"
    assert [c["field"] for c in body["details"]["causes"]] == ["spec.replicas"]

    # A wrong type never reaches validation: a create fails to decode (400)...
    error = status_of(
        lambda: deployments.create(body=deployment("typo", "three"), namespace=namespace)
    )
    assert error.status == 400
    assert "cannot unmarshal string" in json.loads(error.body)["message"]

    # ...and server-side apply fails converting to the schema's types: 500 in
    # v1.34: a refusal either way (400 or 500).
    error = status_of(
        lambda: deployments.server_side_apply(
            body=deployment("typo", "three"),
            name="typo",
            namespace=namespace,
            field_manager=MANAGER,
        )
    )
    assert error.status in (400, 500)
    assert ".spec.replicas: expected numeric" in json.loads(error.body)["message"]

    # Nothing of the three was stored.
    names = {d.metadata.name for d in deployments.get(namespace=namespace).items}
    assert not names & {"negative", "typo"}


def test_rbac_denies_a_service_account_without_permissions(api, namespace: str, kubeconfig: Path):
    core = client.CoreV1Api(api)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "nobody"}})
    token = core.create_namespaced_service_account_token(
        "nobody",
        namespace,
        client.AuthenticationV1TokenRequest(
            spec=client.V1TokenRequestSpec(
                audiences=["https://kubernetes.default.svc.cluster.local"], expiration_seconds=600
            )
        ),
    ).status.token

    settings = client.Configuration()
    settings.host = api.configuration.host
    settings.ssl_ca_cert = str(kubeconfig.parent / "pki/ca.crt")
    settings.api_key = {"authorization": f"Bearer {token}"}
    as_nobody = client.CoreV1Api(client.ApiClient(settings))

    error = status_of(lambda: as_nobody.list_namespaced_pod(namespace))
    assert error.status == 403
    assert f"system:serviceaccount:{namespace}:nobody" in json.loads(error.body)["message"]

    # Granting list on pods in this namespace lets it through there only.
    rbac = client.RbacAuthorizationV1Api(api)
    rbac.create_namespaced_role(
        namespace,
        {
            "metadata": {"name": "pod-reader"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}],
        },
    )
    rbac.create_namespaced_role_binding(
        namespace,
        {
            "metadata": {"name": "nobody-reads-pods"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "pod-reader",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "nobody", "namespace": namespace}],
        },
    )

    def allowed():
        try:
            return as_nobody.list_namespaced_pod(namespace) is not None
        except ApiException as denied:
            assert denied.status == 403
            return False

    wait_for(allowed, "the RoleBinding to take effect", timeout=30)
    assert status_of(lambda: as_nobody.list_namespaced_pod("kube-system")).status == 403
    assert status_of(lambda: as_nobody.list_namespaced_secret(namespace)).status == 403


def test_an_api_service_without_backend_is_unavailable(api, dyn, namespace: str):
    """What the autoscaling lab's verify step sees before metrics-server runs:
    the APIService registered but unavailable, and an HPA that cannot scale."""
    client.CoreV1Api(api).create_namespaced_service(
        namespace,
        {
            "metadata": {"name": "metrics-server"},
            "spec": {
                "selector": {"app": "metrics-server"},
                "ports": [{"port": 443, "targetPort": 10250}],
            },
        },
    )
    api_services = dyn.resources.get(api_version="apiregistration.k8s.io/v1", kind="APIService")
    name = "v1beta1.metrics.k8s.io"
    api_services.create(
        body={
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": {"name": name},
            "spec": {
                "group": "metrics.k8s.io",
                "version": "v1beta1",
                "service": {"namespace": namespace, "name": "metrics-server", "port": 443},
                "insecureSkipTLSVerify": True,
                "groupPriorityMinimum": 100,
                "versionPriority": 100,
            },
        }
    )
    try:
        seen = []

        def missing_endpoints():
            conditions = api_services.get(name=name).status.conditions or []
            available = next((c for c in conditions if c.type == "Available"), None)
            if available:
                seen.append((available.status, available.reason))
            return available and available.reason == "MissingEndpoints"

        # EndpointsNotFound first (no EndpointSlice yet), then MissingEndpoints
        # once the endpointslice controller made an empty one: no pod matches.
        wait_for(missing_endpoints, f"the aggregator's verdict on {name}")
        assert {status for status, _ in seen} == {"False"}, seen
        # The group is registered, so its requests go to the absent backend.
        error = status_of(lambda: dyn.request("GET", "/apis/metrics.k8s.io/v1beta1/nodes"))
        assert error.status == 503

        # The real HPA controller asks that API and says why it cannot scale.
        target = deployment("scaled", 1)
        container = target["spec"]["template"]["spec"]["containers"][0]
        container["resources"] = {"requests": {"cpu": "100m"}}
        deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
        deployments.create(body=target, namespace=namespace)
        hpas = dyn.resources.get(api_version="autoscaling/v2", kind="HorizontalPodAutoscaler")
        hpas.create(
            namespace=namespace,
            body={
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": "scaled"},
                "spec": {
                    "scaleTargetRef": {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": "scaled",
                    },
                    "minReplicas": 1,
                    "maxReplicas": 3,
                    "metrics": [
                        {
                            "type": "Resource",
                            "resource": {
                                "name": "cpu",
                                "target": {"type": "Utilization", "averageUtilization": 50},
                            },
                        }
                    ],
                },
            },
        )

        def scaling_active():
            hpa = hpas.get(name="scaled", namespace=namespace)
            conditions = (hpa.status or {}).get("conditions") or []
            return next((c for c in conditions if c["type"] == "ScalingActive"), None)

        condition = wait_for(scaling_active, "the HPA controller's verdict")
        assert condition["status"] == "False"
        assert condition["reason"] == "FailedGetResourceMetric", condition
    finally:
        # An unavailable API group stalls namespace deletion (discovery of every
        # resource fails), so it goes before the namespace does.
        api_services.delete(name=name)


def test_kubernetes_core_applies_and_lists(kubeconfig: Path, namespace: str, tmp_path: Path):
    """kubernetes.core, as the labs' tasks and verify steps use it."""
    playbook = tmp_path / "k8s.yml"
    playbook.write_text(
        f"""\
- hosts: localhost
  gather_facts: false
  vars:
    # The venv's Python: the one with the kubernetes library.
    ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
  module_defaults:
    group/kubernetes.core.k8s:
      kubeconfig: {kubeconfig}
      namespace: {namespace}
  tasks:
    - kubernetes.core.k8s:
        server_side_apply:
          field_manager: {MANAGER}
        definition:
          apiVersion: v1
          kind: ConfigMap
          metadata:
            name: lab-settings
          data:
            target: "50"
    - kubernetes.core.k8s_info:
        kind: ConfigMap
      register: listed
    - ansible.builtin.assert:
        that: "'lab-settings' in listed.resources | map(attribute='metadata.name')"
"""
    )
    result = run(
        ["ansible-playbook", "-i", "localhost,", "-c", "local", str(playbook)], timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
