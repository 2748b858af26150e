# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cohort file: validation with one clear line per problem, and the plan of
hosts and groups it describes. Pure Python, no cloud, no Ansible: the
inventory plugin and tests use it as is."""

from __future__ import annotations

import difflib
import ipaddress
import math
import re

KUBERNETES_MINORS = ("1.32", "1.33", "1.34", "1.35")
MAX_LEARNERS = 200
MAX_NODES = 10
DNS_LABEL = re.compile(r"^[a-z]([a-z0-9-]*[a-z0-9])?$")
USER_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
KUBERNETES_VERSION = re.compile(r"^1\.(\d+)(\.\d+)?$")
# Host names are <cohort>-cNN-nN: a cohort name of 40 keeps them under 63.
MAX_COHORT_LENGTH = 40

DEFAULTS = {
    "region": None,
    "learners_per_cluster": 1,
    "nodes_per_cluster": 3,
    "image": "Featured-Ubuntu24",
    # true: the nodes boot the image playbooks/image.yml bakes from `image`.
    "bake": False,
    "ssh_user": "ubuntu",
    "flavors": {"control_plane": "m3.medium", "worker": "m3.small"},
    "network": {"cidr": "10.42.0.0/16", "external_network": "public"},
    "floating_ip_for_all_nodes": False,
    "allowed_cidrs": ["0.0.0.0/0"],
    "labs": ["autoscaling"],
    "kubernetes_version": "1.34",
    "pod_cidr": "10.244.0.0/16",
    "service_cidr": "10.96.0.0/12",
    "vars": {},
    "host_overrides": {},
}
REQUIRED = ("cohort", "cloud", "learners")
FIELDS = REQUIRED + tuple(DEFAULTS)
LEARNER_KEYS = ("name", "email", "ssh_public_key")


class CohortProblems(ValueError):
    """All the problems of a cohort file, one per line."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def _suggest(key: str, allowed) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


class _Checker:
    def __init__(self):
        self.problems: list[str] = []
        self.labs: tuple[str, ...] = ()

    def fail(self, field: str, value, allowed: str) -> None:
        self.problems.append(f"{field}: {value!r} {allowed}")

    def keys(self, field: str, mapping: dict, allowed) -> None:
        for key in mapping:
            if key not in allowed:
                where = f"{field}.{key}" if field else str(key)
                hint = _suggest(str(key), allowed)
                self.problems.append(f"{where}: unknown key{hint}; allowed: {', '.join(allowed)}")

    def string(self, field: str, value, pattern=None, rule: str = "") -> bool:
        if not isinstance(value, str) or not value:
            self.fail(field, value, "is not a non-empty string")
            return False
        if pattern is not None and not pattern.match(value):
            self.fail(field, value, f"is not {rule}")
            return False
        return True

    def integer(self, field: str, value, low: int, high: int | None = None) -> bool:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(field, value, "is not a whole number")
            return False
        if value < low or (high is not None and value > high):
            self.fail(field, value, f"is out of range ({low} to {high if high else 'any'})")
            return False
        return True

    def network(self, field: str, value):
        if not isinstance(value, str):
            self.fail(field, value, "is not a CIDR such as 10.42.0.0/16")
            return None
        try:
            return ipaddress.ip_network(value, strict=True)
        except ValueError as error:
            self.fail(field, value, f"is not a valid CIDR ({error})")
            return None


def _check_learners(check: _Checker, learners) -> list[dict]:
    if isinstance(learners, int) and not isinstance(learners, bool):
        if check.integer("learners", learners, 1, MAX_LEARNERS):
            width = max(2, len(str(learners)))
            return [{"name": f"learner{i:0{width}d}"} for i in range(1, learners + 1)]
        return []
    if not isinstance(learners, list) or not learners:
        check.fail("learners", learners, "is neither a count (1 to 200) nor a list of learners")
        return []
    if len(learners) > MAX_LEARNERS:
        check.fail("learners", f"{len(learners)} learners", f"is more than {MAX_LEARNERS}")
    result, seen = [], set()
    for index, learner in enumerate(learners):
        field = f"learners[{index}]"
        if isinstance(learner, str):
            entry = {"name": learner}
        elif isinstance(learner, dict):
            check.keys(field, learner, LEARNER_KEYS)
            entry, field = learner, field + ".name"
        else:
            check.fail(
                field, learner, "is neither a name nor a mapping with name/email/ssh_public_key"
            )
            continue
        name = entry.get("name")
        rule = (
            "a valid user name (lowercase letters, digits, '-' and '_', "
            "starting with a letter or '_', at most 32)"
        )
        if not check.string(field, name, USER_NAME, rule):
            continue
        if name in seen:
            check.fail(field, name, "is listed twice")
        seen.add(name)
        result.append({key: entry[key] for key in LEARNER_KEYS if entry.get(key)})
    return result


def validate(data, other_keys: tuple[str, ...] = (), labs=tuple(DEFAULTS["labs"])) -> dict:
    """The cohort with defaults filled in, or CohortProblems naming every problem.
    `other_keys` are allowed and left alone (the inventory plugin's own options);
    `labs` are the labs a cohort may enable (the inventory plugin passes the
    project's lab roles)."""
    check = _Checker()
    check.labs = tuple(sorted(labs))
    if not isinstance(data, dict):
        raise CohortProblems(
            [f"the cohort file must be a mapping of fields, not {type(data).__name__}"]
        )
    check.keys("", data, FIELDS + tuple(other_keys))
    for field in REQUIRED:
        if field not in data:
            check.problems.append(f"{field}: missing (required)")
    spec = dict(DEFAULTS)
    spec.update({key: value for key, value in data.items() if key in FIELDS})
    spec["learners"] = _check_learners(check, data["learners"]) if "learners" in data else []
    for step in (
        _check_names,
        _check_sizes,
        _check_access,
        _check_labs_and_version,
        _check_networks,
    ):
        step(check, spec, data)
    _check_overrides(check, spec)
    if check.problems:
        raise CohortProblems(check.problems)
    return spec


def _check_names(check: _Checker, spec: dict, data: dict) -> None:
    dns_rule = "DNS-safe (lowercase letters, digits and '-')"
    valid_name = "cohort" in data and check.string("cohort", data["cohort"], DNS_LABEL, dns_rule)
    if valid_name and len(data["cohort"]) > MAX_COHORT_LENGTH:
        check.fail("cohort", data["cohort"], f"is longer than {MAX_COHORT_LENGTH} characters")
    if "cloud" in data:
        check.string("cloud", data["cloud"])
    if spec["region"] is not None:
        check.string("region", spec["region"])
    check.string("image", spec["image"])
    if not isinstance(spec["bake"], bool):
        check.fail("bake", spec["bake"], "is not true or false")
    check.string("ssh_user", spec["ssh_user"], USER_NAME, "a valid user name")


def _check_sizes(check: _Checker, spec: dict, data: dict) -> None:
    check.integer("learners_per_cluster", spec["learners_per_cluster"], 1, MAX_LEARNERS)
    check.integer("nodes_per_cluster", spec["nodes_per_cluster"], 1, MAX_NODES)
    for field in ("flavors", "network"):
        defaults = DEFAULTS[field]
        if not isinstance(spec[field], dict):
            check.fail(field, spec[field], f"is not a mapping with {', '.join(defaults)}")
            spec[field] = dict(defaults)
            continue
        check.keys(field, spec[field], tuple(defaults))
        spec[field] = {**defaults, **spec[field]}
        for key in defaults:
            check.string(f"{field}.{key}", spec[field][key])


def _check_access(check: _Checker, spec: dict, data: dict) -> None:
    if not isinstance(spec["floating_ip_for_all_nodes"], bool):
        check.fail(
            "floating_ip_for_all_nodes", spec["floating_ip_for_all_nodes"], "is not true or false"
        )
    if not isinstance(spec["allowed_cidrs"], list) or not spec["allowed_cidrs"]:
        check.fail("allowed_cidrs", spec["allowed_cidrs"], "is not a non-empty list of CIDRs")
        return
    for index, cidr in enumerate(spec["allowed_cidrs"]):
        check.network(f"allowed_cidrs[{index}]", cidr)


def _check_labs_and_version(check: _Checker, spec: dict, data: dict) -> None:
    allowed = check.labs
    if not isinstance(spec["labs"], list):
        check.fail("labs", spec["labs"], f"is not a list of labs ({', '.join(allowed)})")
    else:
        for index, lab in enumerate(spec["labs"]):
            if lab not in allowed:
                hint = _suggest(str(lab), allowed)
                check.fail(
                    f"labs[{index}]", lab, f"is not a lab{hint} (allowed: {', '.join(allowed)})"
                )
            elif spec["labs"].index(lab) != index:
                check.fail(f"labs[{index}]", lab, "is listed twice")
    version = str(spec["kubernetes_version"])
    match = KUBERNETES_VERSION.match(version)
    if not match or f"1.{match.group(1)}" not in KUBERNETES_MINORS:
        supported = ", ".join(KUBERNETES_MINORS)
        check.fail(
            "kubernetes_version",
            spec["kubernetes_version"],
            f"is not a supported release ({supported}, optionally with .PATCH)",
        )
    spec["kubernetes_version"] = version


def _check_networks(check: _Checker, spec: dict, data: dict) -> None:
    networks = {
        "network.cidr": check.network("network.cidr", spec["network"]["cidr"]),
        "pod_cidr": check.network("pod_cidr", spec["pod_cidr"]),
        "service_cidr": check.network("service_cidr", spec["service_cidr"]),
    }
    named = [(name, net) for name, net in networks.items() if net is not None]
    for i, (name_a, net_a) in enumerate(named):
        for name_b, net_b in named[i + 1 :]:
            if net_a.version == net_b.version and net_a.overlaps(net_b):
                check.problems.append(
                    f"{name_a} {net_a} and {name_b} {net_b} overlap: choose ranges that do not"
                )


def _check_overrides(check: _Checker, spec: dict) -> None:
    for field in ("vars", "host_overrides"):
        if not isinstance(spec[field], dict):
            check.fail(field, spec[field], "is not a mapping")
            spec[field] = {}
    for host, overrides in spec["host_overrides"].items():
        if not isinstance(overrides, dict):
            check.fail(f"host_overrides.{host}", overrides, "is not a mapping of host variables")
    if check.problems:
        return  # the plan needs a valid cohort
    planned = {host["name"] for host in plan(spec)["hosts"]}
    for host in spec["host_overrides"]:
        if host not in planned:
            hint = _suggest(str(host), planned)
            check.fail("host_overrides", host, f"is not a planned host{hint}")


def group_name(text: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", text)


def image_builder_name(cohort: str) -> str:
    return f"{cohort}-image-builder"


def _image_builder(spec: dict) -> dict:
    """The server playbooks/image.yml bakes the node image on: of the cohort,
    in no cluster (so no stage but the bake touches it)."""
    name = image_builder_name(spec["cohort"])
    return {
        "name": name,
        "groups": ["image_builders"],
        "vars": {
            "atelier_cohort": spec["cohort"],
            "atelier_node_role": "image_builder",
            "atelier_labs": spec["labs"],
            "atelier_kubernetes_version": spec["kubernetes_version"],
            "atelier_flavor": spec["flavors"]["control_plane"],
            "atelier_image": spec["image"],
            "atelier_server_name": name,
            "atelier_server_state": "planned",
            "ansible_user": spec["ssh_user"],
        },
    }


def plan(spec: dict) -> dict:
    """Hosts (with their variables) and groups of a validated cohort."""
    learners = spec["learners"]
    per_cluster = spec["learners_per_cluster"]
    clusters = max(1, math.ceil(len(learners) / per_cluster))
    width = max(2, len(str(clusters)))
    hosts, groups = [], {}
    for cluster_index in range(1, clusters + 1):
        cluster = f"{cluster_index:0{width}d}"
        members = learners[(cluster_index - 1) * per_cluster : cluster_index * per_cluster]
        # The one name of the cluster: kubeconfigs, verify results, status rows
        # and host names all derive from it (three digits from 100 clusters).
        cluster_name = f"{spec['cohort']}-c{cluster}"
        login_host = f"{cluster_name}-n1"
        for node in range(1, spec["nodes_per_cluster"] + 1):
            role = "control_plane" if node == 1 else "worker"
            name = f"{cluster_name}-n{node}"
            hosts.append(
                {
                    "name": name,
                    "groups": [f"cluster_{cluster}", "control_plane" if node == 1 else "workers"]
                    + (["login_hosts"] if node == 1 else []),
                    "vars": {
                        "atelier_cohort": spec["cohort"],
                        "atelier_cluster": cluster,
                        "atelier_cluster_name": cluster_name,
                        "atelier_cluster_group": f"cluster_{cluster}",
                        "atelier_node_index": node,
                        "atelier_node_role": role,
                        "atelier_learners": members,
                        "atelier_login_host": login_host,
                        "atelier_labs": spec["labs"],
                        "atelier_kubernetes_version": spec["kubernetes_version"],
                        "atelier_flavor": spec["flavors"][role],
                        "atelier_image": spec["image"],
                        "atelier_server_name": name,
                        "atelier_server_state": "planned",
                        "ansible_user": spec["ssh_user"],
                    },
                }
            )
        groups[f"cluster_{cluster}"] = [
            h["name"] for h in hosts if h["vars"]["atelier_cluster"] == cluster
        ]
    if spec["bake"]:
        hosts.append(_image_builder(spec))
    return {
        "hosts": hosts,
        "cohort_group": f"cohort_{group_name(spec['cohort'])}",
        "groups": groups,
    }
