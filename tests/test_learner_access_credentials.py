"""learner_access's credentials on the control node: generated once (0600),
reused on every run (same password, same hash for the user module), rotated
only for the learners named, never printed. Runs the role's own preflight and
credentials tasks against localhost: no node needed."""

from __future__ import annotations

import json
import stat
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import run

LEARNERS = ["alice", "bob", {"name": "carol", "email": "carol@example.org"}]


@pytest.fixture
def credentials(tmp_path):
    secrets = tmp_path / "secrets" / "learners"
    hashes = tmp_path / "hashes.json"
    play = tmp_path / "play.yml"
    play.write_text(
        textwrap.dedent(
            """\
            - name: Credentials only
              hosts: localhost
              connection: local
              gather_facts: false
              tasks:
                - name: Check the inputs
                  ansible.builtin.include_role:
                    name: learner_access
                    tasks_from: preflight
                - name: Make or read the passwords
                  ansible.builtin.include_role:
                    name: learner_access
                    tasks_from: credentials
                - name: Keep the hashes for the test
                  ansible.builtin.copy:
                    content: "{{ learner_access_password_hashes | to_json }}"
                    dest: "{{ hashes_file }}"
                    mode: "0600"
                  no_log: true
            """
        )
    )

    def apply(rotate=False, learners=LEARNERS):
        extra = {
            "learner_access_learners": learners,
            "learner_access_secrets_dir": str(secrets),
            "learner_access_rotate": rotate,
            "hashes_file": str(hashes),
            "ansible_python_interpreter": sys.executable,
        }
        result = run(["ansible-playbook", "-i", "localhost,", str(play), "-e", json.dumps(extra)])
        output = result.stdout + result.stderr
        stored = {
            path.stem: path.read_text().split(" salt=")[0]
            for path in sorted(secrets.glob("*.password"))
        }
        for name, password in stored.items():
            assert password not in output, f"{name}'s password appears in the output"
        if result.returncode == 0:
            return stored, json.loads(hashes.read_text()), output
        return None, None, output

    apply.secrets = secrets
    return apply


def test_generated_once_private_and_reused(credentials):
    first, first_hashes, _ = credentials()
    assert sorted(first) == ["alice", "bob", "carol"]
    assert all(len(password) == 16 and password.isalnum() for password in first.values())
    assert len(set(first.values())) == 3
    assert stat.S_IMODE(credentials.secrets.stat().st_mode) == 0o700
    for path in credentials.secrets.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert all(value.startswith("$6$") for value in first_hashes.values())

    second, second_hashes, _ = credentials()
    assert second == first
    assert second_hashes == first_hashes


def test_rotation_changes_only_the_named_learners(credentials):
    first, first_hashes, _ = credentials()
    rotated, rotated_hashes, _ = credentials(rotate=["bob"])
    assert rotated["bob"] != first["bob"]
    assert rotated_hashes["bob"] != first_hashes["bob"]
    assert {k: v for k, v in rotated.items() if k != "bob"} == {
        k: v for k, v in first.items() if k != "bob"
    }
    again, _, _ = credentials()
    assert again == rotated


def test_rotate_all(credentials):
    first, _, _ = credentials()
    rotated, _, _ = credentials(rotate=True)
    assert all(rotated[name] != first[name] for name in first)


@pytest.mark.parametrize(
    ("rotate", "learners", "words"),
    [
        (["dave"], LEARNERS, ["learner_access_rotate", "dave", "alice, bob, carol"]),
        ("bob", LEARNERS, ["learner_access_rotate", "bob"]),
        (False, ["Bob"], ["learner_access_learners", "'Bob'", "lowercase letters"]),
        (False, [{"email": "x@example.org"}], ["learner_access_learners", "allowed keys"]),
    ],
)
def test_bad_input_is_refused_naming_field_and_value(credentials, rotate, learners, words):
    stored, _, output = credentials(rotate=rotate, learners=learners)
    assert stored is None
    for word in words:
        assert word in output
    assert not Path(credentials.secrets).exists() or not any(credentials.secrets.iterdir())
