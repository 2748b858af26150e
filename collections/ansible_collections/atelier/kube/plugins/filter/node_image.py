# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over baked node images (module_utils/node_image.py decides)."""

from __future__ import annotations

from ansible_collections.atelier.kube.plugins.module_utils import node_image


def node_image_differences(image_properties, wanted_components):
    """One line per component that differs between an image's properties and
    the components the roles and pins want now (empty when it matches)."""
    return node_image.differences(dict(image_properties or {}), dict(wanted_components or {}))


def node_images_baked_by(images, cohort):
    """The images a cohort baked, from an image_info list."""
    return node_image.baked_by(list(images or []), str(cohort))


class FilterModule:
    def filters(self):
        return {
            "node_image_differences": node_image_differences,
            "node_images_baked_by": node_images_baked_by,
        }
