"""Validation and planning of cohort files (pure Python, no cloud)."""

from __future__ import annotations

import pytest
from ansible_collections.atelier.kube.plugins.module_utils.cohort_schema import (
    CohortProblems,
    plan,
    validate,
)

MINIMAL = {"cohort": "k8s-nov", "cloud": "jetstream2", "learners": 3}


def problems_of(data) -> list[str]:
    with pytest.raises(CohortProblems) as error:
        validate(data)
    return error.value.problems


def test_minimal_file_gets_the_documented_defaults():
    spec = validate(MINIMAL)
    assert spec["learners"] == [{"name": "learner01"}, {"name": "learner02"}, {"name": "learner03"}]
    assert spec["nodes_per_cluster"] == 3
    assert spec["flavors"] == {"control_plane": "m3.medium", "worker": "m3.small"}
    assert spec["network"] == {"cidr": "10.42.0.0/16", "external_network": "public"}
    assert spec["labs"] == ["autoscaling"]
    assert spec["kubernetes_version"] == "1.34"


def test_plan_names_hosts_and_groups():
    layout = plan(validate({**MINIMAL, "nodes_per_cluster": 2}))
    names = [host["name"] for host in layout["hosts"]]
    assert names == [
        "k8s-nov-c01-n1", "k8s-nov-c01-n2", "k8s-nov-c02-n1", "k8s-nov-c02-n2",
        "k8s-nov-c03-n1", "k8s-nov-c03-n2",
    ]  # fmt: skip
    assert layout["cohort_group"] == "cohort_k8s_nov"
    first, second = layout["hosts"][:2]
    assert first["groups"] == ["cluster_01", "control_plane", "login_hosts"]
    assert second["groups"] == ["cluster_01", "workers"]
    assert second["vars"]["atelier_login_host"] == "k8s-nov-c01-n1"
    assert second["vars"]["atelier_flavor"] == "m3.small"
    assert first["vars"]["atelier_learners"] == [{"name": "learner01"}]


def test_learners_share_clusters():
    learners = ["ann", {"name": "ben", "email": "ben@example.org"}, "cy"]
    layout = plan(validate({**MINIMAL, "learners": learners, "learners_per_cluster": 2}))
    clusters = {
        h["vars"]["atelier_cluster"]: h["vars"]["atelier_learners"] for h in layout["hosts"]
    }
    assert clusters == {
        "01": [{"name": "ann"}, {"name": "ben", "email": "ben@example.org"}],
        "02": [{"name": "cy"}],
    }


def test_every_problem_is_reported_at_once():
    problems = problems_of(
        {
            "cohort": "Bad_Name",
            "cloud": "x",
            "lerners": 3,
            "learners": ["alice", "Bob", "alice"],
            "nodes_per_cluster": 11,
            "labs": ["autoscalling"],
            "allowed_cidrs": ["10.0.0.0/33"],
            "kubernetes_version": "1.20",
        }
    )
    assert problems == [
        "lerners: unknown key (did you mean 'learners'?); allowed: " + ", ".join(
            ["cohort", "cloud", "learners", "region", "learners_per_cluster", "nodes_per_cluster",
             "image", "bake", "ssh_user", "flavors", "network", "floating_ip_for_all_nodes",
             "allowed_cidrs", "labs", "kubernetes_version", "pod_cidr", "service_cidr", "vars",
             "host_overrides"]
        ),
        "learners[1]: 'Bob' is not a valid user name (lowercase letters, digits, '-' and '_', "
        "starting with a letter or '_', at most 32)",
        "learners[2]: 'alice' is listed twice",
        "cohort: 'Bad_Name' is not DNS-safe (lowercase letters, digits and '-')",
        "nodes_per_cluster: 11 is out of range (1 to 10)",
        "allowed_cidrs[0]: '10.0.0.0/33' is not a valid CIDR "
        "('10.0.0.0/33' does not appear to be an IPv4 or IPv6 network)",
        "labs[0]: 'autoscalling' is not a lab (did you mean 'autoscaling'?) "
        "(allowed: autoscaling)",
        "kubernetes_version: '1.20' is not a supported release "
        "(1.32, 1.33, 1.34, 1.35, optionally with .PATCH)",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"learners": 0}, "learners: 0 is out of range (1 to 200)"),
        ({"learners": "ten"}, "learners: 'ten' is neither a count"),
        ({"learners": [{"name": "ann", "phone": "1"}]}, "learners[0].phone: unknown key"),
        ({"learners_per_cluster": True}, "learners_per_cluster: True is not a whole number"),
        ({"flavors": {"master": "m3.small"}}, "flavors.master: unknown key"),
        ({"network": "10.0.0.0/8"}, "network: '10.0.0.0/8' is not a mapping"),
        ({"network": {"cidr": "10.96.0.0/16"}}, "network.cidr 10.96.0.0/16 and service_cidr"),
        ({"pod_cidr": "10.244.0.1/16"}, "pod_cidr: '10.244.0.1/16' is not a valid CIDR"),
        ({"labs": ["autoscaling", "autoscaling"]}, "labs[1]: 'autoscaling' is listed twice"),
        ({"cohort": "a" * 41}, "is longer than 40 characters"),
        (
            {"host_overrides": {"k8s-nov-c09-n1": {}}},
            "host_overrides: 'k8s-nov-c09-n1' is not a planned host",
        ),
        (
            {"floating_ip_for_all_nodes": "yes"},
            "floating_ip_for_all_nodes: 'yes' is not true or false",
        ),
    ],
)
def test_bad_field_is_named_with_value_and_rule(change, expected):
    problems = problems_of({**MINIMAL, **change})
    assert any(problem.startswith(expected) or expected in problem for problem in problems), (
        problems
    )


def test_missing_required_fields_and_non_mapping():
    assert problems_of({}) == [
        "cohort: missing (required)", "cloud: missing (required)", "learners: missing (required)"
    ]  # fmt: skip
    assert problems_of(["a"]) == ["the cohort file must be a mapping of fields, not list"]


def test_bake_must_be_true_or_false():
    assert problems_of({**MINIMAL, "bake": "yes"}) == ["bake: 'yes' is not true or false"]


def test_a_baking_cohort_plans_its_image_builder_outside_every_cluster():
    layout = plan(validate({**MINIMAL, "bake": True}))
    builder = layout["hosts"][-1]
    assert builder["name"] == "k8s-nov-image-builder"
    assert builder["groups"] == ["image_builders"]
    assert builder["vars"]["atelier_image"] == "Featured-Ubuntu24"
    assert "atelier_cluster" not in builder["vars"]
    assert all("image_builders" not in host["groups"] for host in layout["hosts"][:-1])


def test_a_cohort_that_does_not_bake_has_no_builder():
    layout = plan(validate(MINIMAL))
    assert all(host["vars"]["atelier_node_role"] != "image_builder" for host in layout["hosts"])
