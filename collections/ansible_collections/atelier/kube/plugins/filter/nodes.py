# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Does every node of the inventory belong to the cluster? The decisions of
the Kubernetes stage that keep a run from ending green with a node missing:

- node_problems: which of the cluster's inventory hosts are not a Ready Node
  of it, and why (never registered, NotReady with the kubelet's message);
- kubelet_cluster_differences: why a worker's kubelet belongs to another
  cluster (its API endpoint or CA differ from the control plane's), as after
  the control-plane server was lost and made anew;
- volumes_on_node: the volumes that lived on one node's own disk (a
  PersistentVolume whose node affinity names that node alone, as
  local-path's), lost with the node's machine.

They take what kubectl and the files give (JSON and kubeconfig text) and
return lines a trainer can act on; nothing here talks to a cluster.
"""

from __future__ import annotations

import base64
import json

import yaml
from ansible.errors import AnsibleFilterError


def _items(objects, filter_name: str, kind: str) -> list[dict]:
    """The objects of a `kubectl get <kind> -o json` list (its text or parsed)."""
    if isinstance(objects, str):
        try:
            objects = json.loads(objects)
        except ValueError as error:
            raise AnsibleFilterError(f"{filter_name}: not kubectl's JSON: {error}") from error
    if isinstance(objects, dict):
        objects = objects.get("items")
    if not isinstance(objects, list):
        raise AnsibleFilterError(f"{filter_name}: expected a {kind}List or a list of {kind}s")
    return objects


def _ready_condition(node: dict) -> dict | None:
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition
    return None


def node_problems(nodes, expected) -> list[str]:
    """One line per inventory host of the cluster that is not a Ready Node of
    it, in the inventory's order; [] when every one is."""
    if isinstance(expected, str) or not isinstance(expected, list):
        raise AnsibleFilterError(f"node_problems: expected a list of host names, got {expected!r}")
    nodes = _items(nodes, "node_problems", "Node")
    by_name = {(node.get("metadata") or {}).get("name"): node for node in nodes}
    problems = []
    for name in expected:
        node = by_name.get(name)
        if node is None:
            problems.append(
                f"{name}: not a node of this cluster (it has not joined, or its kubelet"
                " is registered with another control plane)"
            )
            continue
        ready = _ready_condition(node)
        if ready is None:
            problems.append(f"{name}: registered, no Ready condition yet")
        elif ready.get("status") != "True":
            why = ready.get("reason") or "no reason given"
            if ready.get("message"):
                why += f": {ready['message']}"
            problems.append(f"{name}: NotReady ({why})")
    return problems


def _kubeconfig_cluster(text, what: str) -> dict:
    """The first cluster entry (server, certificate-authority-data) of a kubeconfig."""
    try:
        config = yaml.safe_load(str(text))
        return config["clusters"][0]["cluster"]
    except (yaml.YAMLError, KeyError, IndexError, TypeError) as error:
        raise AnsibleFilterError(
            f"kubelet_cluster_differences: {what} is not a kubeconfig with a cluster ({error})"
        ) from error


def _ca_text(cluster: dict) -> str:
    data = cluster.get("certificate-authority-data") or ""
    try:
        return base64.b64decode(data).decode().strip()
    except ValueError:
        return ""


def kubelet_cluster_differences(kubelet_conf, cluster_info) -> list[str]:
    """Why a worker's kubelet.conf belongs to another cluster than the one the
    control plane's cluster-info kubeconfig (kube-public) describes: [] when
    its API endpoint and CA are the control plane's."""
    kubelet = _kubeconfig_cluster(kubelet_conf, "the worker's kubelet.conf")
    control_plane = _kubeconfig_cluster(cluster_info, "the control plane's cluster-info")
    differences = []
    if kubelet.get("server") != control_plane.get("server"):
        differences.append(
            f"its kubelet talks to {kubelet.get('server')}, the control plane is"
            f" {control_plane.get('server')}"
        )
    if _ca_text(kubelet) != _ca_text(control_plane):
        differences.append("its kubelet trusts another cluster's CA")
    return differences


def _pinned_hosts(volume: dict) -> set[str]:
    """The host names a volume's required node affinity allows; empty when
    it allows any node or is not pinned by host name."""
    terms = (((volume.get("spec") or {}).get("nodeAffinity") or {}).get("required") or {}).get(
        "nodeSelectorTerms"
    ) or []
    hosts: set[str] = set()
    for term in terms:
        expressions = [
            expression
            for expression in term.get("matchExpressions") or []
            if expression.get("key") == "kubernetes.io/hostname"
            and expression.get("operator") == "In"
        ]
        if not expressions:
            return set()  # a term that any host may match: not one node's disk
        for expression in expressions:
            hosts.update(expression.get("values") or [])
    return hosts


def volumes_on_node(volumes, node) -> list[dict]:
    """The PersistentVolumes of `kubectl get pv -o json` that only `node` can
    mount (their data was on its disk), each as {volume, namespace, claim}
    (namespace and claim empty when unbound), sorted by volume name."""
    if not isinstance(node, str) or not node:
        raise AnsibleFilterError(f"volumes_on_node: expected a node name, got {node!r}")
    volumes = _items(volumes, "volumes_on_node", "PersistentVolume")
    found = []
    for volume in volumes:
        if _pinned_hosts(volume) != {node}:
            continue
        claim = (volume.get("spec") or {}).get("claimRef") or {}
        found.append(
            {
                "volume": (volume.get("metadata") or {}).get("name", ""),
                "namespace": claim.get("namespace", ""),
                "claim": claim.get("name", ""),
            }
        )
    return sorted(found, key=lambda found_volume: found_volume["volume"])


class FilterModule:
    def filters(self):
        return {
            "node_problems": node_problems,
            "kubelet_cluster_differences": kubelet_cluster_differences,
            "volumes_on_node": volumes_on_node,
        }
