# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lookup atelier.kube.lab_declarations on the project's own lab roles:
each declaration rendered with the role's defaults, overlaid by the host's
variables (what a cohort's vars: override is what a bake pulls)."""

from __future__ import annotations

import pytest
import yaml
from ansible.errors import AnsibleLookupError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible_collections.atelier.kube.plugins.lookup.lab_declarations import LookupModule
from ansible_collections.atelier.kube.plugins.plugin_utils import lab_catalog


def lookup() -> LookupModule:
    loader = DataLoader()
    return LookupModule(loader=loader, templar=Templar(loader=loader))


def test_a_labs_images_are_its_pinned_defaults():
    defaults = lab_catalog.project_roles_dir() / "lab_spark/defaults/main.yml"
    pinned = yaml.safe_load(defaults.read_text())["lab_spark_images"]
    [spark] = lookup().run(["spark"], variables={})
    assert spark["name"] == "spark"
    assert spark["images"] == list(pinned.values())


def test_a_cohort_override_is_what_the_declaration_says():
    mirrored = {"spark": "mirror.example.org/apache/spark:4.1.2"}
    [spark] = lookup().run(["spark"], variables={"lab_spark_images": mirrored})
    assert spark["images"] == ["mirror.example.org/apache/spark:4.1.2"]


def test_an_unknown_lab_is_refused_naming_the_labs_found():
    with pytest.raises(AnsibleLookupError, match=r"lab 'nope' has no role lab_nope .*spark"):
        lookup().run(["nope"], variables={})
