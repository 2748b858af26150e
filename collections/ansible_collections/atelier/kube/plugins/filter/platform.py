# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters naming a node's platform the way the node roles compare and
download it: the OS as their supported lists spell it, the CPU as Go does."""

from __future__ import annotations

# uname -m names of the architectures whose Go (and release file) name differs.
GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}


def os_id(facts) -> str:
    """'Debian 12' or 'Ubuntu 24.04': Debian by its major release, Ubuntu (and
    the others) by their full version; '' without facts (a play that gathered
    none, as a role's argument check under --tags is)."""
    facts = facts or {}
    distribution = facts.get("distribution", "")
    if not distribution:
        return ""
    key = "distribution_major_version" if distribution == "Debian" else "distribution_version"
    return f"{distribution} {facts.get(key, '')}".strip()


def go_arch(machine) -> str:
    """The Go name of a uname -m architecture (x86_64 -> amd64); other names as
    they are, '' for none."""
    machine = machine or ""
    return GO_ARCH.get(machine, machine)


class FilterModule:
    def filters(self):
        return {"os_id": os_id, "go_arch": go_arch}
