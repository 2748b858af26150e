"""A lab's rendered files as the one list of objects one k8s call applies."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.atelier.kube.plugins.filter.manifests import (
    k8s_documents,
    lab_templates,
    without_replicas,
)

NAMESPACE = "---\n# the lab's namespace\napiVersion: v1\nkind: Namespace\nmetadata: {name: lab}\n"
TWO = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: podinfo}\nspec: {replicas: 2}\n"
    "---\n---\n"
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: other}\nspec: {replicas: 1}\n"
)


def test_documents_keep_their_order_across_files_and_drop_empty_ones():
    documents = k8s_documents([NAMESPACE, TWO])
    assert [d["metadata"]["name"] for d in documents] == ["lab", "podinfo", "other"]


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        ("kind: Namespace", "expected a list"),
        (["kind: [unclosed"], "text 1 is not YAML"),
        ([NAMESPACE, "- a list"], "text 2 holds ['a list'], not a Kubernetes object"),
    ],
)
def test_what_is_not_a_list_of_manifests_is_refused_by_name(texts, message):
    with pytest.raises(AnsibleFilterError, match=message.replace("[", r"\[").replace("]", r"\]")):
        k8s_documents(texts)


def test_replicas_leave_only_the_named_workloads_and_the_input_is_not_changed():
    documents = k8s_documents([TWO])
    applied = without_replicas(documents, ["podinfo"])
    assert "replicas" not in applied[0]["spec"]
    assert applied[1]["spec"] == {"replicas": 1}
    assert documents[0]["spec"] == {"replicas": 2}


def test_replicas_filter_refuses_a_name_given_as_a_string():
    with pytest.raises(AnsibleFilterError, match="a list of names"):
        without_replicas([], "podinfo")


def test_lab_templates_are_the_chosen_parts_files_under_the_folder_in_order():
    manifests = [
        {"file": "namespace.yaml", "part": "namespace"},
        {"file": "podinfo/podinfo-dep.yaml", "part": "podinfo"},
        {"file": "podinfo/podinfo-hpa.yaml", "part": "hpa"},
    ]
    assert lab_templates(manifests, "k8s-prom-hpa", ["podinfo", "namespace"]) == [
        "k8s-prom-hpa/namespace.yaml.j2",
        "k8s-prom-hpa/podinfo/podinfo-dep.yaml.j2",
    ]
    with pytest.raises(AnsibleFilterError, match="expected a list of manifests"):
        lab_templates(manifests, "k8s-prom-hpa", "podinfo")
