"""The node roles' platform names, from facts shaped as Ansible gathers them."""

from __future__ import annotations

import pytest
from ansible_collections.atelier.kube.plugins.filter.platform import go_arch, os_id


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"distribution": "Debian", "distribution_major_version": "12",
          "distribution_version": "12.12"}, "Debian 12"),
        ({"distribution": "Ubuntu", "distribution_major_version": "24",
          "distribution_version": "24.04"}, "Ubuntu 24.04"),
        ({"distribution": "Rocky", "distribution_version": "9.4"}, "Rocky 9.4"),
        ({}, ""),
        (None, ""),
    ],
)  # fmt: skip
def test_os_id(facts, expected):
    assert os_id(facts) == expected


@pytest.mark.parametrize(
    ("machine", "expected"),
    [("x86_64", "amd64"), ("aarch64", "arm64"), ("riscv64", "riscv64"), ("", ""), (None, "")],
)
def test_go_arch(machine, expected):
    assert go_arch(machine) == expected
