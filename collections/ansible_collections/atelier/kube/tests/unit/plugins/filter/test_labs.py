"""Which labs a run takes (tags), and the cohort's verify summary."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.atelier.kube.plugins.filter.labs import labs_to_run, verify_summary

ENABLED = ["autoscaling", "scheduling", "spark"]


@pytest.mark.parametrize(
    ("run_tags", "skip_tags", "expected"),
    [
        (["all"], [], ENABLED),
        (["labs"], [], ENABLED),
        (["verify"], [], []),  # another stage's tag: this stage takes no lab
        (["nodes"], [], []),
        (["spark"], [], ["spark"]),
        (["spark", "autoscaling"], [], ["autoscaling", "spark"]),
        (["jupyterhub"], [], []),  # not enabled on this cohort
        (["all"], ["scheduling"], ["autoscaling", "spark"]),
        (["labs"], ["spark", "autoscaling"], ["scheduling"]),
    ],
)
def test_labs_to_run_follows_the_tags(run_tags, skip_tags, expected):
    assert labs_to_run(ENABLED, "labs", run_tags, skip_tags) == expected


def test_labs_to_run_refuses_a_string():
    with pytest.raises(AnsibleFilterError, match="expected the list of enabled labs"):
        labs_to_run("autoscaling", "labs")


DECLARATIONS = [
    {"name": "autoscaling", "verify": {"figure": {"key": "scale_out_seconds", "text": "in {} s"}}},
    {"name": "scheduling", "verify": {}},
]


def host(cluster, **results):
    return {
        "atelier_cluster_name": cluster,
        "atelier_verify_results": results,
        "atelier_lab_declarations": DECLARATIONS,
    }


def test_summary_has_a_line_per_cluster_and_lab_with_the_labs_figure():
    summary = verify_summary(
        [
            host("k-c02", autoscaling={"passed": True, "scale_out_seconds": 41.5}),
            host(
                "k-c01",
                autoscaling={"passed": False, "reason": "HPA podinfo: FailedGetResourceMetric"},
                scheduling={"passed": True},
            ),
        ]
    )
    assert summary["lines"] == [
        "2/3 cluster labs passed",
        "k-c01 autoscaling: FAILED (HPA podinfo: FailedGetResourceMetric)",
        "k-c01 scheduling: passed",
        "k-c02 autoscaling: passed, in 41.5 s",
    ]
    assert summary["failed"] == ["k-c01 autoscaling: FAILED (HPA podinfo: FailedGetResourceMetric)"]
    assert (summary["passed"], summary["total"]) == (2, 3)


def test_a_passed_lab_without_its_figure_prints_none():
    summary = verify_summary([host("k-c01", autoscaling={"passed": True})])
    assert summary["lines"][1] == "k-c01 autoscaling: passed"


def test_a_failure_without_reason_says_so():
    summary = verify_summary([host("k-c01", scheduling={"passed": False})])
    assert summary["failed"] == ["k-c01 scheduling: FAILED (no reason given)"]
