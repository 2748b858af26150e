"""The JupyterHub lab's filters: the hashes the hub's Secret holds, memory
quantities compared before anything is applied, the storage a hub needs."""

from __future__ import annotations

import hashlib

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.atelier.kube.plugins.filter.jupyterhub import (
    memory_bytes,
    pbkdf2_sha256,
    storage_class_problem,
)

SALT = "00112233445566778899aabbccddeeff"


def test_the_hash_is_pbkdf2_sha256_of_the_password_with_the_given_salt():
    stored = pbkdf2_sha256("s3cret", SALT, 1000)
    name, iterations, salt, digest = stored.split("$")
    assert (name, iterations, salt) == ("pbkdf2_sha256", "1000", SALT)
    assert digest == hashlib.pbkdf2_hmac("sha256", b"s3cret", bytes.fromhex(SALT), 1000).hex()
    # Same inputs, same Secret: a re-run changes nothing.
    assert pbkdf2_sha256("s3cret", SALT, 1000) == stored
    assert pbkdf2_sha256("s3cret2", SALT, 1000) != stored


@pytest.mark.parametrize(
    ("password", "salt", "iterations", "says"),
    [
        ("", SALT, 1000, "non-empty string"),
        ("pw", "xyz", 1000, "hex digits"),
        ("pw", "abcd", 1000, "hex digits"),
        ("pw", SALT, "many", "not a number"),
        ("pw", SALT, 10, "too few"),
    ],
)
def test_bad_hash_inputs_are_refused_with_the_reason(password, salt, iterations, says):
    with pytest.raises(AnsibleFilterError, match=says):
        pbkdf2_sha256(password, salt, iterations)


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [("256Mi", 256 * 2**20), ("1Gi", 2**30), ("1G", 10**9), ("512M", 512 * 10**6),
     ("1.5Gi", int(1.5 * 2**30)), ("1e9", 10**9), ("123456", 123456), ("64k", 64000)],
)  # fmt: skip
def test_memory_quantities_in_bytes(quantity, expected):
    assert memory_bytes(quantity) == expected


@pytest.mark.parametrize("quantity", ["1GB", "lots", "", "-1Gi", "1 Gi"])
def test_a_malformed_quantity_is_named(quantity):
    with pytest.raises(AnsibleFilterError, match="not a Kubernetes memory quantity"):
        memory_bytes(quantity)


def storage_class(name, default=False):
    annotations = {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}
    return {"metadata": {"name": name, "annotations": annotations}}


def test_storage_binds_with_a_default_class_or_the_one_named():
    classes = [storage_class("local-path", default=True), storage_class("fast")]
    assert storage_class_problem(classes) == ""
    assert storage_class_problem(classes, "fast", "lab_jupyterhub_storage_class") == ""


def test_an_unknown_class_is_named_with_the_cluster_s_classes():
    problem = storage_class_problem([storage_class("local-path", default=True)], "cinder", "lab_x")
    assert problem == "lab_x 'cinder' is not a StorageClass of the cluster (it has: local-path)"


def test_no_default_class_says_what_to_do():
    problem = storage_class_problem([storage_class("fast")], "", "lab_x")
    assert "no default StorageClass (it has: fast)" in problem
    assert "cluster_storage" in problem and "lab_x" in problem
    assert "it has: none" in storage_class_problem([], "", "lab_x")
