# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that make a lab's rendered manifest files into the one list of
objects a single kubernetes.core.k8s call applies: one Python process and one
API client for the whole lab instead of one per file (each costs 1 to 3 s)."""

from __future__ import annotations

import copy

import yaml
from ansible.errors import AnsibleFilterError


def k8s_documents(texts) -> list[dict]:
    """The objects of rendered multi-document YAML texts, in their order,
    without the empty documents (a file's leading `---`, a comment-only one)."""
    if isinstance(texts, str) or not isinstance(texts, list):
        raise AnsibleFilterError(
            f"k8s_documents: expected a list of rendered YAML texts, got {texts!r:.80}"
        )
    documents = []
    for number, text in enumerate(texts, start=1):
        try:
            loaded = list(yaml.safe_load_all(str(text)))
        except yaml.YAMLError as error:
            message = f"k8s_documents: text {number} is not YAML: {error}"
            raise AnsibleFilterError(message) from error
        for document in loaded:
            if document is None:
                continue
            if not isinstance(document, dict) or "kind" not in document:
                raise AnsibleFilterError(
                    f"k8s_documents: text {number} holds {document!r:.80}, not a Kubernetes object"
                )
            documents.append(document)
    return documents


def without_replicas(documents, names) -> list[dict]:
    """The documents, with spec.replicas left out of the Deployments and
    StatefulSets named in `names`: their replicas belong to an
    HorizontalPodAutoscaler, and applying the manifest's count again would undo
    a scale-out."""
    if not isinstance(documents, list) or isinstance(names, str):
        raise AnsibleFilterError("without_replicas: expected a list of objects and a list of names")
    result = []
    for document in documents:
        scaled = document.get("kind") in ("Deployment", "StatefulSet")
        if scaled and (document.get("metadata") or {}).get("name") in names:
            unscaled = copy.deepcopy(document)
            (unscaled.get("spec") or {}).pop("replicas", None)
            result.append(unscaled)
        else:
            result.append(document)
    return result


def lab_templates(manifests, folder: str, parts) -> list[str]:
    """The template paths (<folder>/<file>.j2) of a lab's manifest list
    (vars/main.yml: [{file, part}]) whose part is one of `parts`, in order."""
    if not isinstance(manifests, list) or isinstance(parts, str):
        raise AnsibleFilterError("lab_templates: expected a list of manifests and a list of parts")
    return [f"{folder}/{m['file']}.j2" for m in manifests if m.get("part") in parts]


class FilterModule:
    def filters(self):
        return {
            "k8s_documents": k8s_documents,
            "without_replicas": without_replicas,
            "lab_templates": lab_templates,
        }
