"""Lab roles are found by their declaration, meta/lab.yml, whose shape is checked."""

from __future__ import annotations

import pytest
from ansible_collections.atelier.kube.plugins.plugin_utils import lab_catalog

GOOD = {
    "name": "hello",
    "workloads": [{"kind": "Deployment", "namespace": "x", "name": "y"}],
    "links": [{"label": "page", "port": "{{ port }}"}],
    "verify": {"result": "lab_hello_verify_result", "figure": {"key": "k", "text": "{} s"}},
}


def role(base, name, text):
    folder = base / name / "meta"
    folder.mkdir(parents=True)
    (folder / "lab.yml").write_text(text)
    return folder.parent


def test_discover_finds_lab_roles_the_first_roles_path_winning(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    mine = role(first, "lab_hello", "name: hello\n")
    role(second, "lab_hello", "name: hello\n")
    role(second, "lab_spark", "name: spark\n")
    (second / "node_base").mkdir()  # not a lab
    labs = lab_catalog.discover([first, second, tmp_path / "missing"])
    assert labs == {"hello": mine, "spark": second / "lab_spark"}


def test_the_projects_own_labs_are_found():
    assert "autoscaling" in lab_catalog.discover([lab_catalog.project_roles_dir()])


def test_a_good_declaration_has_no_problem():
    assert lab_catalog.problems("hello", GOOD) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"name": "hi"}, "name 'hi' must be the role's lab name 'hello'"),
        ({"ports": []}, "'ports' is not a declaration key"),
        ({"workloads": {"kind": "Deployment"}}, "workloads is not a list"),
        ({"workloads": [{"kind": "Deployment", "name": "y"}]}, "workloads[0]"),
        ({"links": [{"label": "page", "url": "http://x"}]}, "links[0]"),
        ({"verify": {}}, "verify needs result"),
        ({"images": {"spark": "apache/spark:4"}}, "images is not a list of image references"),
        ({"images": [{"image": "apache/spark:4"}]}, "images is not a list of image references"),
        ({"verify": {"result": "r", "figure": {"key": "k"}}}, "verify.figure needs key and text"),
    ],
)
def test_each_problem_names_the_file_and_what_is_wrong(change, problem):
    [found] = lab_catalog.problems("hello", {**GOOD, **change})
    assert found.startswith("roles/lab_hello/meta/lab.yml: ")
    assert problem in found


def test_load_refuses_a_declaration_that_is_not_a_mapping(tmp_path):
    folder = role(tmp_path, "lab_hello", "- hello\n")
    with pytest.raises(ValueError, match="is not a mapping"):
        lab_catalog.load("hello", folder)
