"""Benchmark: provisioning a cohort's servers on the sandbox cloud, three ways.

  serial  a plain loop of openstack.cloud.server (wait: true), one server after another
  floor   a plain openstacksdk script: creates in a thread pool, one list call per poll
  ours    atelier.kube.os_servers, as playbooks/provision.yml uses it

Each way creates the same servers (N clusters x M nodes) on one network, then
they are deleted before the next way runs (deletion is timed apart). Prints the
times side by side with the ratios the targets are stated in (ours at least 5x
faster than serial, within 1.5x of the floor), and the cohort inventory
plugin's parse time, cold and cached.

The sandbox cloud is a stand-in: real OpenStack APIs, nova's fake compute
driver. Nothing here contacts a server address.

Usage (the sandbox cloud must be up: scripts/sandbox-cloud.sh up):
  .venv/bin/python scripts/bench/provision_bench.py [--clusters 20] [--nodes 3] [--skip-serial]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openstack

ROOT = Path(__file__).resolve().parents[2]
CLOUD = os.environ.get("ATELIER_BENCH_CLOUD", "sandbox")
COHORT = "bench"
FLAVOR, IMAGE = "m3.small", "debian-12-sandbox"


def server_names(clusters: int, nodes: int) -> list[str]:
    return [f"{COHORT}-c{c:02d}-n{n}" for c in range(1, clusters + 1) for n in range(1, nodes + 1)]


def ensure_network(conn) -> None:
    network = conn.network.find_network(f"{COHORT}-net") or conn.network.create_network(
        name=f"{COHORT}-net"
    )
    if not conn.network.find_subnet(f"{COHORT}-subnet"):
        conn.network.create_subnet(
            name=f"{COHORT}-subnet", network_id=network.id, cidr="10.99.0.0/16", ip_version=4
        )


def delete_all(conn, names: set[str]) -> float:
    started = time.monotonic()
    doomed = [s for s in conn.compute.servers() if s.name in names]
    with ThreadPoolExecutor(10) as pool:
        list(pool.map(lambda s: conn.compute.delete_server(s, ignore_missing=True), doomed))
    while any(s.name in names for s in conn.compute.servers()):
        time.sleep(2)
    return time.monotonic() - started


def run_playbook(play: str, extra: dict) -> float:
    # The modules run on localhost with this venv's Python (it has openstacksdk);
    # interpreter discovery could pick another Python on the PATH.
    extra = {**extra, "ansible_python_interpreter": sys.executable}
    with tempfile.TemporaryDirectory() as tmp:
        playbook = Path(tmp) / "play.yml"
        playbook.write_text(textwrap.dedent(play))
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
        started = time.monotonic()
        result = subprocess.run(
            [
                "ansible-playbook",
                "-i",
                "localhost,",
                "-c",
                "local",
                str(playbook),
                "-e",
                json.dumps(extra),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"playbook failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    return elapsed


SERIAL_PLAY = """\
- hosts: localhost
  gather_facts: false
  tasks:
    - openstack.cloud.server:
        cloud: "{{ cloud }}"
        name: "{{ item }}"
        flavor: "{{ flavor }}"
        image: "{{ image }}"
        network: "{{ network }}"
        auto_ip: false
        wait: true
      loop: "{{ names }}"
"""

OURS_PLAY = """\
- hosts: localhost
  gather_facts: false
  tasks:
    - atelier.kube.os_servers:
        cloud: "{{ cloud }}"
        servers: "{{ names | map('community.general.dict_kv', 'name')
                    | map('combine', {'flavor': flavor, 'image': image, 'network': network})
                    | list }}"
"""


def floor(conn, names: list[str]) -> float:
    started = time.monotonic()
    flavor = conn.compute.find_flavor(FLAVOR)
    image = conn.image.find_image(IMAGE)
    network = conn.network.find_network(f"{COHORT}-net")

    def create(name):
        return conn.compute.create_server(
            name=name, flavor_id=flavor.id, image_id=image.id, networks=[{"uuid": network.id}]
        )

    with ThreadPoolExecutor(10) as pool:
        ids = {s.id for s in pool.map(create, names)}
    while True:
        statuses = [s.status for s in conn.compute.servers() if s.id in ids]
        if all(status == "ACTIVE" for status in statuses):
            return time.monotonic() - started
        if "ERROR" in statuses:
            sys.exit("floor: a server went to ERROR")
        time.sleep(2)


def inventory_parse_times(clusters: int, nodes: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        cohort = Path(tmp) / "cohort.yml"
        cohort.write_text(
            textwrap.dedent(f"""\
            plugin: atelier.kube.cohort
            cohort: {COHORT}
            cloud: {CLOUD}
            learners: {clusters}
            nodes_per_cluster: {nodes}
            fetch_addresses: true
            cache: true
            cache_plugin: ansible.builtin.jsonfile
            cache_connection: {tmp}/cache
            """)
        )
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
        times = []
        for _ in range(2):
            started = time.monotonic()
            subprocess.run(
                ["ansible-inventory", "-i", str(cohort), "--list"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                check=True,
            )
            times.append(time.monotonic() - started)
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--skip-serial", action="store_true", help="skip the slow serial loop")
    args = parser.parse_args()

    conn = openstack.connect(cloud=CLOUD)
    names = server_names(args.clusters, args.nodes)
    ensure_network(conn)
    delete_all(conn, set(names))
    extra = {
        "cloud": CLOUD,
        "names": names,
        "flavor": FLAVOR,
        "image": IMAGE,
        "network": f"{COHORT}-net",
    }

    results: dict[str, tuple[float, float]] = {}
    if not args.skip_serial:
        created = run_playbook(SERIAL_PLAY, extra)
        results["serial (openstack.cloud.server loop)"] = (created, delete_all(conn, set(names)))
    created = floor(conn, names)
    results["floor (openstacksdk, threads)"] = (created, delete_all(conn, set(names)))
    created = run_playbook(OURS_PLAY, extra)
    parse_cold, parse_cached = inventory_parse_times(args.clusters, args.nodes)
    results["ours (atelier.kube.os_servers)"] = (created, delete_all(conn, set(names)))

    print(f"\n{len(names)} servers ({args.clusters} clusters x {args.nodes} nodes), cloud {CLOUD}")
    print(f"{'way':40} {'create s':>9} {'delete s':>9}")
    for way, (create_s, delete_s) in results.items():
        print(f"{way:40} {create_s:9.1f} {delete_s:9.1f}")
    ours = results["ours (atelier.kube.os_servers)"][0]
    floor_s = results["floor (openstacksdk, threads)"][0]
    if "serial (openstack.cloud.server loop)" in results:
        serial = results["serial (openstack.cloud.server loop)"][0]
        print(f"serial / ours = {serial / ours:.1f}x   (target >= 5x)")
    print(f"ours / floor  = {ours / floor_s:.2f}x  (target <= 1.5x)")
    print(f"inventory plugin parse: cold {parse_cold:.2f}s, cached {parse_cached:.2f}s")


if __name__ == "__main__":
    main()
