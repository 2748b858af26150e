"""The baked node image's plan: components, digest, name, properties, and the
differences named before provisioning (pure Python, files in tmp_path)."""

from __future__ import annotations

import os

import pytest
from ansible_collections.atelier.kube.plugins.module_utils import node_image


@pytest.fixture
def roles(tmp_path):
    for role in ("node_base", "lab_spark"):
        (tmp_path / role / "defaults").mkdir(parents=True)
        (tmp_path / role / "defaults" / "main.yml").write_text(f"{role}_version: 1\n")
    return {role: str(tmp_path / role) for role in ("node_base", "lab_spark")}


def parts_of(roles, **changes):
    arguments = {
        "kubernetes_version": "1.34",
        "base_image": "Featured-Ubuntu24",
        "labs": ["spark"],
        "role_folders": roles,
        "settings": {"kubeadm_cluster_source": "binaries"},
        "preload": [{"image": "registry.k8s.io/pause:3.10.1", "sha256": "a" * 64}],
        "pull": ["docker.io/apache/spark:4.1.2"],
    }
    return node_image.components(**{**arguments, **changes})


def test_same_inputs_give_the_same_digest_and_name(roles):
    first, second = parts_of(roles), parts_of(roles)
    assert node_image.digest(first) == node_image.digest(second)
    name = node_image.image_name("kube-atelier-node", "1.34", node_image.digest(first))
    assert name.startswith("kube-atelier-node-k8s-v1.34-")
    assert len(name.rsplit("-", 1)[1]) == 12


@pytest.mark.parametrize(
    "change",
    [
        {"kubernetes_version": "1.35"},
        {"base_image": "Featured-Ubuntu22"},
        {"labs": ["spark", "jupyterhub"]},
        {"settings": {"kubeadm_cluster_source": "packages"}},
        {"preload": [{"image": "registry.k8s.io/pause:3.10.1", "sha256": "b" * 64}]},
        {"pull": []},
    ],
)
def test_each_input_changes_the_digest(roles, change):
    assert node_image.digest(parts_of(roles, **change)) != node_image.digest(parts_of(roles))


def test_a_role_file_edit_changes_its_component_only(roles):
    before = parts_of(roles)
    with open(os.path.join(roles["lab_spark"], "defaults", "main.yml"), "a") as handle:
        handle.write("lab_spark_extra: 2\n")
    after = parts_of(roles)
    assert [name for name in before if before[name] != after[name]] == ["role_lab_spark"]


def test_editor_droppings_caches_and_docs_are_not_part_of_a_role(roles):
    before = parts_of(roles)
    os.makedirs(os.path.join(roles["node_base"], "__pycache__"))
    for dropping in ("__pycache__/x.pyc", "defaults/main.yml~", "README.md"):
        with open(os.path.join(roles["node_base"], dropping), "w") as handle:
            handle.write("noise")
    assert parts_of(roles) == before


def test_a_local_archive_is_known_by_its_size_and_time(roles, tmp_path):
    archive = tmp_path / "pause.tar"
    archive.write_bytes(b"x" * 10)
    preload = [{"image": "registry.k8s.io/pause:3.10.1", "src": str(archive)}]
    before = parts_of(roles, preload=preload)
    archive.write_bytes(b"x" * 11)
    assert parts_of(roles, preload=preload)["preload"] != before["preload"]


def test_properties_carry_every_component_the_digest_and_the_baker(roles):
    parts = parts_of(roles)
    digest = node_image.digest(parts)
    props = node_image.properties(parts, digest, "k8s-nov")
    assert props["kube_atelier_kubernetes_version"] == "1.34"
    assert props["kube_atelier_digest"] == digest
    assert props["kube_atelier_baked_by"] == "k8s-nov"
    assert all(len(value) <= 255 for value in props.values())
    assert node_image.recorded_components(props) == parts


def test_a_matching_image_has_no_differences(roles):
    parts = parts_of(roles)
    props = node_image.properties(parts, node_image.digest(parts), "k8s-nov")
    assert node_image.differences(props, parts) == []


def test_differences_name_the_version_and_the_changed_role(roles):
    old = parts_of(roles, kubernetes_version="1.33")
    props = node_image.properties(old, node_image.digest(old), "k8s-nov")
    with open(os.path.join(roles["node_base"], "defaults", "main.yml"), "a") as handle:
        handle.write("node_base_more: true\n")
    lines = node_image.differences(props, parts_of(roles))
    assert lines == [
        "kubernetes_version: image has 1.33, wanted 1.34",
        f"role node_base (its files): changed since the bake "
        f"({old['role_node_base']} -> {parts_of(roles)['role_node_base']})",
    ]


def test_a_lab_added_since_the_bake_is_named(roles):
    old = parts_of(roles, role_folders={"node_base": roles["node_base"]}, labs=[])
    props = node_image.properties(old, node_image.digest(old), "k8s-nov")
    lines = node_image.differences(props, parts_of(roles))
    assert "labs: image has , wanted spark" in lines
    assert any(line.startswith("role lab_spark (its files): not in the image") for line in lines)


def test_an_image_that_is_no_bake_says_so():
    assert node_image.differences({"os_distro": "ubuntu"}, {"labs": "spark"}) == [
        "it is not a kube-atelier baked image (it has no kube_atelier_* properties)"
    ]


def test_baked_by_keeps_the_cohort_s_bakes_only():
    images = [
        {"name": "a", "properties": {"kube_atelier_baked_by": "k8s-nov"}},
        {"name": "b", "properties": {"kube_atelier_baked_by": "k8s-dec"}},
        {"name": "c", "properties": {}},
        {"name": "d"},
    ]
    assert [i["name"] for i in node_image.baked_by(images, "k8s-nov")] == ["a"]
