"""node_base refuses bad input before it touches a host: the argument spec names
the field, the bad value and what is allowed. Runs against localhost with no
connection needed, since validation comes first."""

from __future__ import annotations

import textwrap

import pytest
from conftest import run


@pytest.fixture
def bad_input_play(tmp_path):
    def write(extra_vars: str) -> str:
        play = tmp_path / "play.yml"
        play.write_text(
            textwrap.dedent(
                f"""\
                - name: Bad input
                  hosts: localhost
                  gather_facts: false
                  roles:
                    - role: node_base
                      vars:
                        {extra_vars}
                """
            )
        )
        return str(play)

    return write


def test_unknown_time_sync_daemon_is_refused(bad_input_play):
    result = run(
        ["ansible-playbook", "-i", "localhost,", bad_input_play("node_base_time_sync: ntpd")]
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "node_base_time_sync" in output
    assert "ntpd" in output
    assert "auto, chrony, systemd-timesyncd" in output
    assert "Traceback" not in output


def test_wrong_type_is_refused(bad_input_play):
    play = bad_input_play("node_base_extra_packages: {vim: true}")
    result = run(["ansible-playbook", "-i", "localhost,", play])
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "node_base_extra_packages" in output
    assert "dict" in output
    assert "list" in output
    assert "Traceback" not in output
