# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that turn a cohort's plan into OpenStack requests."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

SERVER_KEYS = ("name", "cluster", "role", "flavor", "image", "floating_ip")


def access_rules(allowed_cidrs, ports):
    """Security group rules: each port range and ICMP from each allowed CIDR, egress anywhere."""
    rules = []
    for cidr in allowed_cidrs:
        rules.extend(
            {
                "direction": "ingress",
                "protocol": port["protocol"],
                "ether_type": "IPv4",
                "port_range_min": int(port["min"]),
                "port_range_max": int(port["max"]),
                "remote_ip_prefix": cidr,
            }
            for port in ports
        )
        rules.append(
            {
                "direction": "ingress",
                "protocol": "icmp",
                "ether_type": "IPv4",
                "remote_ip_prefix": cidr,
            }
        )
    rules.append(
        {
            "direction": "egress",
            "protocol": "any",
            "ether_type": "IPv4",
            "remote_ip_prefix": "0.0.0.0/0",
        }
    )
    return rules


def planned_servers(hosts, floating_ip_for_all_nodes=False):
    """One server per planned host (the cohort inventory's host variables)."""
    servers = []
    for host in hosts:
        role = host["atelier_node_role"]
        servers.append(
            {
                "name": host["atelier_server_name"],
                "cluster": host["atelier_cluster"],
                "role": role,
                "flavor": host["atelier_flavor"],
                "image": host["atelier_image"],
                "floating_ip": role == "control_plane" or bool(floating_ip_for_all_nodes),
            }
        )
    return sorted(servers, key=lambda server: server["name"])


def server_requests(servers, cohort):
    """atelier.kube.os_servers entries for the cohort's servers."""
    requests = []
    for index, server in enumerate(servers):
        missing = [key for key in SERVER_KEYS if key not in server]
        if missing:
            raise AnsibleFilterError(f"servers[{index}]: missing {', '.join(missing)}")
        groups = [f"{cohort}-c{server['cluster']}"]
        if server["floating_ip"]:
            groups.append(f"{cohort}-access")
        requests.append(
            {
                "name": server["name"],
                "flavor": server["flavor"],
                "image": server["image"],
                "network": f"{cohort}-net",
                "key_name": f"{cohort}-key",
                "security_groups": groups,
                "metadata": {
                    "atelier_cohort": cohort,
                    "atelier_cluster": server["cluster"],
                    "atelier_role": server["role"],
                },
                "floating_ip": bool(server["floating_ip"]),
            }
        )
    return requests


class FilterModule:
    def filters(self):
        return {
            "access_rules": access_rules,
            "planned_servers": planned_servers,
            "server_requests": server_requests,
        }
