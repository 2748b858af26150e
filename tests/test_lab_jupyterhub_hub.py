"""The JupyterHub lab's hub-side logic (roles/lab_jupyterhub/files/
atelier_hub.py): the hashes the role writes (filter atelier.kube.pbkdf2_sha256)
are the ones the hub accepts; who gets in and who does not; the users file
checked; KubeSpawner's settings as the z2jh chart sets them."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest
from ansible_collections.atelier.kube.plugins.filter.jupyterhub import pbkdf2_sha256
from conftest import ROOT

SOURCE = ROOT / "roles/lab_jupyterhub/files/atelier_hub.py"
spec = importlib.util.spec_from_file_location("atelier_hub", SOURCE)
atelier_hub = importlib.util.module_from_spec(spec)
sys.modules["atelier_hub"] = atelier_hub
spec.loader.exec_module(atelier_hub)

SALT = "a1" * 16


@pytest.fixture
def users():
    return {
        "learner01": {"hash": pbkdf2_sha256("card-pass-1", SALT, 1000), "admin": False},
        "learner02": {"hash": pbkdf2_sha256("card-pass-2", "b2" * 16, 1000), "admin": False},
        "hubadmin": {"hash": pbkdf2_sha256("admin-pass", "c3" * 16, 1000), "admin": True},
    }


def test_each_user_gets_in_with_their_own_password_only(users):
    assert atelier_hub.authenticate(users, "learner01", "card-pass-1") == "learner01"
    assert atelier_hub.authenticate(users, "learner02", "card-pass-2") == "learner02"
    assert atelier_hub.authenticate(users, "hubadmin", "admin-pass") == "hubadmin"
    # Another user's password, a wrong one, an empty one: refused.
    assert atelier_hub.authenticate(users, "learner01", "card-pass-2") is None
    assert atelier_hub.authenticate(users, "learner01", "card-pass-1 ") is None
    assert atelier_hub.authenticate(users, "learner01", "") is None
    assert atelier_hub.authenticate(users, "learner01", None) is None


def test_a_name_the_hub_does_not_have_is_refused(users):
    assert atelier_hub.authenticate(users, "mallory", "card-pass-1") is None
    assert atelier_hub.authenticate(users, "", "") is None


def test_the_name_is_taken_as_jupyterhub_normalizes_it(users):
    assert atelier_hub.authenticate(users, " Learner01 ", "card-pass-1") == "learner01"


@pytest.mark.parametrize(
    "stored", ["", "plain", "pbkdf2_sha256$1000$zz$" + "0" * 64, "md5$1$00$" + "0" * 64]
)
def test_a_malformed_hash_never_matches(stored):
    assert atelier_hub.password_matches(stored, "") is False
    assert atelier_hub.password_matches(stored, "plain") is False


def test_the_users_file_is_read_and_checked(tmp_path, users):
    path = tmp_path / "users.json"
    path.write_text(json.dumps(users))
    assert atelier_hub.load_users(path) == users
    for broken, says in [
        ("{not json", "not the role's users file"),
        ("[]", "expected a mapping"),
        (json.dumps({"Bad Name": users["learner01"]}), "'Bad Name' is not a valid user name"),
        (json.dumps({"learner01": {"hash": "plain"}}), "has no pbkdf2_sha256 hash"),
    ]:
        path.write_text(broken)
        with pytest.raises(atelier_hub.SettingsError, match=says):
            atelier_hub.load_users(path)


SETTINGS = {
    "labels": {"kube-atelier.io/lab": "jupyterhub"},
    "singleuser": {
        "image": "quay.io/jupyterhub/k8s-singleuser-sample:4.4.0",
        "startTimeout": 300,
        "httpTimeout": 120,
        "memory": {"guarantee": str(256 * 2**20), "limit": str(2**30)},
        "storage": {"capacity": "1Gi", "storageClass": ""},
    },
}


def test_the_spawner_gives_each_user_a_claim_mounted_as_home():
    traits = atelier_hub.spawner_settings(SETTINGS)
    assert traits["pvc_name_template"] == "claim-{username}{servername}"
    assert traits["storage_pvc_ensure"] is True
    assert traits["storage_capacity"] == "1Gi"
    assert traits["volumes"][0]["persistentVolumeClaim"] == {"claimName": "{pvc_name}"}
    assert traits["volume_mounts"][0]["mountPath"] == "/home/jovyan"
    # Bytes, as KubeSpawner takes them (its own suffixes are not Kubernetes').
    assert (traits["mem_guarantee"], traits["mem_limit"]) == (256 * 2**20, 2**30)
    assert (traits["uid"], traits["fs_gid"], traits["port"]) == (1000, 100, 8888)
    assert traits["cmd"] == ["jupyterhub-singleuser"]
    assert (traits["start_timeout"], traits["http_timeout"]) == (300, 120)
    # No class named: the cluster's default (KubeSpawner leaves storageClassName out).
    assert "storage_class" not in traits
    named = atelier_hub.spawner_settings(
        {
            **SETTINGS,
            "singleuser": {
                **SETTINGS["singleuser"],
                "storage": {"capacity": "2Gi", "storageClass": "fast"},
            },
        }
    )
    assert named["storage_class"] == "fast"


def test_a_memory_size_not_in_bytes_is_refused():
    bad = {
        **SETTINGS,
        "singleuser": {**SETTINGS["singleuser"], "memory": {"guarantee": "256Mi", "limit": "1"}},
    }
    with pytest.raises(atelier_hub.SettingsError, match="not a number of bytes"):
        atelier_hub.spawner_settings(bad)


def test_settings_without_a_field_say_which():
    with pytest.raises(atelier_hub.SettingsError, match="missing 'memory'"):
        atelier_hub.spawner_settings({"singleuser": {"image": "x", "storage": {"capacity": "1Gi"}}})
