"""When a re-run may skip a cluster it converged before: the inputs' digest
(files in tmp_path), the full-run rule and the decision on captured records
and node problems (pure Python)."""

from __future__ import annotations

import json

import pytest
from ansible_collections.atelier.kube.plugins.module_utils import converged


@pytest.fixture
def project(tmp_path):
    (tmp_path / "roles" / "node_base").mkdir(parents=True)
    (tmp_path / "roles" / "node_base" / "main.yml").write_text("a: 1\n")
    cohort = tmp_path / "cohort"
    (cohort / "secrets").mkdir(parents=True)
    (cohort / "artifacts").mkdir()
    (cohort / "cohort.yml").write_text("cohort: c\n")
    (cohort / "secrets" / "id_ed25519").write_text("key 1\n")
    return tmp_path


def digest_of(project, extra_vars=()):
    return converged.inputs_digest([str(project / "roles"), str(project / "cohort")], extra_vars)


def test_the_digest_follows_the_roles_the_cohort_file_and_the_extra_vars(project):
    before = digest_of(project)
    assert digest_of(project) == before
    (project / "roles" / "node_base" / "main.yml").write_text("a: 2\n")
    after_role = digest_of(project)
    assert after_role != before
    (project / "cohort" / "cohort.yml").write_text("cohort: d\n")
    assert digest_of(project) != after_role
    assert digest_of(project, ["lab_autoscaling_hpa=custom"]) != digest_of(project)


def test_the_cohort_s_secrets_artifacts_and_role_docs_are_not_inputs(project):
    before = digest_of(project)
    (project / "cohort" / "secrets" / "id_ed25519").write_text("key 2\n")
    (project / "cohort" / "artifacts" / "cards.pdf").write_text("%PDF\n")
    (project / "roles" / "node_base" / "README.md").write_text("# docs\n")
    assert digest_of(project) == before


def test_a_missing_path_counts_but_does_not_fail(project):
    assert converged.inputs_digest([str(project / "nowhere")]) != converged.inputs_digest([])


@pytest.mark.parametrize(
    ("run_tags", "skip_tags", "kind"),
    [
        (["all"], [], "full"),
        (["all"], ["verify"], "full"),
        (["verify"], [], "read-only"),
        (["labs"], [], "partial"),
        (["verify", "labs"], [], "partial"),
        (["all"], ["labs"], "partial"),
        (["all"], ["verify", "nodes"], "partial"),
    ],
)
def test_a_run_is_full_read_only_or_partial(run_tags, skip_tags, kind):
    assert converged.run_kind(run_tags, skip_tags) == kind


def record(digest):
    return json.dumps({"cluster": "c01", "digest": digest})


def test_a_cluster_whose_nodes_all_hold_the_digest_and_are_ready_is_skipped():
    decision = converged.decide("c01", "d1", {"n1": record("d1"), "n2": record("d1")}, [])
    assert decision["converged"] is True
    assert "atelier_reconverge=true" in decision["reason"]


@pytest.mark.parametrize(
    ("records", "problems", "why"),
    [
        ({"n1": record("d1"), "n2": ""}, [], "no record of a converged run on n2"),
        ({"n1": record("d1"), "n2": "not json"}, [], "no record of a converged run on n2"),
        (
            {"n1": record("d0"), "n2": record("d1")},
            [],
            "the inputs changed since the last converged run (n1)",
        ),
        ({"n1": record("d1"), "n2": record("d1")}, None, "its nodes could not be read"),
        (
            {"n1": record("d1"), "n2": record("d1")},
            ["n2: NotReady (KubeletNotReady)"],
            "not every node is Ready (n2: NotReady (KubeletNotReady))",
        ),
        ({}, [], "no node of it in this run"),
    ],
)
def test_a_cluster_converges_again_and_the_run_says_why(records, problems, why):
    decision = converged.decide("c01", "d1", records, problems)
    assert decision == {"converged": False, "reason": f"c01: converges ({why})"}
