"""Helpers for tests on the sandbox cloud: a real OpenStack control plane on this
machine (Keystone, Nova, Neutron, Glance, Placement) with nova's fake compute
driver. A STAND-IN for a real cloud: its servers have addresses but no machine
behind them, so tests never send a packet to a server or floating IP."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import openstack
import yaml
from conftest import ROOT

CACHE = Path(os.environ.get("ATELIER_CACHE", Path.home() / ".cache/kube-atelier"))
CLOUDS_YAML = CACHE / "sandbox-cloud/clouds.yaml"


def start_sandbox_cloud() -> None:
    subprocess.run([str(ROOT / "scripts/sandbox-cloud.sh"), "up"], check=True, timeout=1800)
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(CLOUDS_YAML)


def connect(cloud: str = "sandbox"):
    return openstack.connect(cloud=cloud)


def write_cohort(
    folder: Path, name: str, learners: int, nodes: int, cloud: str = "sandbox"
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cohort.yml").write_text(
        textwrap.dedent(
            f"""\
            plugin: atelier.kube.cohort
            cohort: {name}
            cloud: {cloud}
            learners: {learners}
            nodes_per_cluster: {nodes}
            image: debian-12-sandbox
            ssh_user: debian
            flavors: {{control_plane: m3.small, worker: m3.small}}
            allowed_cidrs: [192.0.2.0/24]
            fetch_addresses: true
            """
        )
    )
    return folder


def cohort_resources(conn, cohort: str) -> dict[str, list[str]]:
    """Everything in the project named after the cohort or carrying its metadata."""
    prefix = f"{cohort}-"
    return {
        "servers": sorted(
            s.name
            for s in conn.compute.servers()
            if s.name.startswith(prefix) or (s.metadata or {}).get("atelier_cohort") == cohort
        ),
        "networks": sorted(n.name for n in conn.network.networks() if n.name.startswith(prefix)),
        "subnets": sorted(n.name for n in conn.network.subnets() if n.name.startswith(prefix)),
        "routers": sorted(r.name for r in conn.network.routers() if r.name.startswith(prefix)),
        "security_groups": sorted(
            g.name for g in conn.network.security_groups() if g.name.startswith(prefix)
        ),
        "keypairs": sorted(k.name for k in conn.compute.keypairs() if k.name.startswith(prefix)),
        "floating_ips": sorted(
            ip.floating_ip_address
            for ip in conn.network.ips()
            if (ip.description or "").startswith(f"kube-atelier {prefix}")
        ),
    }


def cloud_with_compute_endpoint(tmp_path: Path, endpoint: str) -> str:
    """A clouds.yaml copy with an extra cloud `sandbox-via-proxy` whose compute
    calls go through `endpoint`; returns its path."""
    clouds = yaml.safe_load(CLOUDS_YAML.read_text())
    entry = dict(clouds["clouds"]["sandbox"], compute_endpoint_override=endpoint)
    clouds["clouds"]["sandbox-via-proxy"] = entry
    path = tmp_path / "clouds.yaml"
    path.write_text(yaml.safe_dump(clouds))
    path.chmod(0o600)
    return str(path)
