"""Benchmark: provisioning a cohort's servers on the sandbox cloud, three ways.

  serial  a plain loop of openstack.cloud.server (wait: true), one server after another
  floor   a plain openstacksdk script: creates in a thread pool, one list call per poll
  ours    atelier.kube.os_servers, as playbooks/provision.yml uses it

Each way creates the same servers (N clusters x M nodes) on one network, then
they are deleted before the next way runs (deletion is timed apart). Prints the
times side by side with the ratios the targets are stated in (ours at least 5x
faster than serial, within 1.5x of the floor). Then, on the servers "ours"
created and before they are deleted, it times two inventories of them with
ansible-inventory, cold (one list call) and cached (a jsonfile cache): the
cohort plugin (atelier.kube.cohort) and openstack.cloud.openstack, taking
turns, the median of --inventory-rounds rounds, checking that each run lists
every server.

The sandbox cloud is a stand-in: real OpenStack APIs, nova's fake compute
driver. Nothing here contacts a server address.

Usage (the sandbox cloud must be up: scripts/sandbox-cloud.sh up):
  .venv/bin/python scripts/bench/provision_bench.py [--clusters 20] [--nodes 3] [--skip-serial]
      [--inventory-rounds 3]

No activated venv is needed: ansible-playbook and ansible-inventory are the
ones beside the Python that runs this script. For the cloud "sandbox", when
OS_CLIENT_CONFIG_FILE is not set, the sandbox cloud's clouds.yaml is used.
Another cloud: ATELIER_BENCH_CLOUD=<name> with its clouds.yaml as usual.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
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
# As playbooks/provision.yml tags them: the cohort plugin finds servers by it.
METADATA = {"atelier_cohort": COHORT}
# The venv this script runs under, unresolved: .venv/bin/python may be a link to
# the system's Python, whose directory has no ansible-playbook.
VENV_BIN = Path(sys.executable).parent
SANDBOX_CLOUDS_YAML = (
    Path(os.environ.get("ATELIER_CACHE", Path.home() / ".cache/kube-atelier"))
    / "sandbox-cloud/clouds.yaml"
)


def tool(name: str) -> str:
    """The venv's own ansible tool, by absolute path; else the one on PATH."""
    found = VENV_BIN / name
    if found.is_file() and os.access(found, os.X_OK):
        return str(found)
    on_path = shutil.which(name)
    if not on_path:
        sys.exit(f"{name} is neither in {VENV_BIN} nor on PATH: run this with the venv's python")
    return on_path


def tool_env(**extra: str) -> dict[str, str]:
    """The environment of the ansible tools: the project's ansible.cfg, the venv
    first on PATH (for whatever they start in turn)."""
    path = os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", os.defpath)])
    return dict(os.environ, PATH=path, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), **extra)


def server_names(clusters: int, nodes: int) -> list[str]:
    # The inventory plugin's names: two digits, three from 100 clusters on.
    width = max(2, len(str(clusters)))
    return [
        f"{COHORT}-c{c:0{width}d}-n{n}" for c in range(1, clusters + 1) for n in range(1, nodes + 1)
    ]


def ensure_network(conn) -> bool:
    """The servers' network and subnet; True when this run created the network."""
    network = conn.network.find_network(f"{COHORT}-net")
    created = network is None
    if created:
        network = conn.network.create_network(name=f"{COHORT}-net")
    if not conn.network.find_subnet(f"{COHORT}-subnet"):
        conn.network.create_subnet(
            name=f"{COHORT}-subnet", network_id=network.id, cidr="10.99.0.0/16", ip_version=4
        )
    return created


def delete_network(conn) -> None:
    """Deletes the network ensure_network created (Neutron deletes its subnet with it),
    waiting for Nova to release the deleted servers' ports."""
    network = conn.network.find_network(f"{COHORT}-net")
    if network is None:
        return
    for _ in range(30):
        if not any(conn.network.ports(network_id=network.id, device_owner="compute:nova")):
            break
        time.sleep(2)
    try:
        conn.network.delete_network(network, ignore_missing=True)
    except openstack.exceptions.ConflictException as error:
        print(f"warning: network {COHORT}-net left on the cloud: {error}", file=sys.stderr)


def delete_all(conn, names: set[str]) -> float:
    started = time.monotonic()
    doomed = [s for s in conn.compute.servers() if s.name in names]
    with ThreadPoolExecutor(10) as pool:
        list(pool.map(lambda s: conn.compute.delete_server(s, ignore_missing=True), doomed))
    while any(s.name in names for s in conn.compute.servers()):
        time.sleep(2)
    return time.monotonic() - started


def run_tool(what: str, argv: list[str], **env: str) -> tuple[float, str]:
    """Runs one of the venv's ansible tools from the project root, timed;
    exits with its output's tail if it fails. Returns the time and its stdout."""
    started = time.monotonic()
    result = subprocess.run(
        [tool(argv[0]), *argv[1:]],
        cwd=ROOT,
        env=tool_env(**env),
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"{what} failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    return elapsed, result.stdout


def run_playbook(play: str, extra: dict) -> float:
    # The modules run on localhost with this venv's Python (it has openstacksdk);
    # interpreter discovery could pick another Python on the PATH.
    extra = {**extra, "ansible_python_interpreter": sys.executable}
    with tempfile.TemporaryDirectory() as tmp:
        playbook = Path(tmp) / "play.yml"
        playbook.write_text(textwrap.dedent(play))
        argv = ["ansible-playbook", "-i", "localhost,", "-c", "local", str(playbook)]
        elapsed, _ = run_tool("playbook", [*argv, "-e", json.dumps(extra)])
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
        metadata: "{{ metadata }}"
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
                    | map('combine', {'flavor': flavor, 'image': image, 'network': network,
                                      'metadata': metadata})
                    | list }}"
"""


def floor(conn, names: list[str]) -> float:
    started = time.monotonic()
    flavor = conn.compute.find_flavor(FLAVOR)
    image = conn.image.find_image(IMAGE)
    network = conn.network.find_network(f"{COHORT}-net")

    def create(name):
        return conn.compute.create_server(
            name=name,
            flavor_id=flavor.id,
            image_id=image.id,
            networks=[{"uuid": network.id}],
            metadata=METADATA,
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


COHORT_SOURCE = """\
plugin: atelier.kube.cohort
cohort: {cohort}
cloud: {cloud}
learners: {clusters}
nodes_per_cluster: {nodes}
fetch_addresses: true
strict_cloud: true
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: {cache}
"""

# The same servers: this cloud's, named like the cohort's (a regex, applied by
# Nova). Defaults otherwise (no expand_hostvars: one list call, like the cohort
# plugin's); the file must be named openstack.yml for the plugin to take it.
OPENSTACK_SOURCE = """\
plugin: openstack.cloud.openstack
only_clouds: [{cloud}]
server_filters: {{name: "^{cohort}-c"}}
fail_on_errors: true
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: {cache}
"""

INVENTORIES = {
    # plugin: (source file name, its text, the host variable a found server has)
    "atelier.kube.cohort": ("cohort.yml", COHORT_SOURCE, "atelier_server_id"),
    "openstack.cloud.openstack": ("openstack.yml", OPENSTACK_SOURCE, "openstack"),
}


def list_inventory(plugin: str, source: Path, names: list[str]) -> float:
    """One ansible-inventory --list of source, timed; exits unless it lists
    every one of the servers names (with the variable a found server has)."""
    found_var = INVENTORIES[plugin][2]
    elapsed, listed = run_tool(
        f"{plugin}: ansible-inventory",
        ["ansible-inventory", "-i", str(source), "--list"],
        ANSIBLE_INVENTORY_ENABLED=plugin,
    )
    hostvars = json.loads(listed).get("_meta", {}).get("hostvars", {})
    missing = [n for n in names if found_var not in hostvars.get(n, {})]
    if missing:
        sys.exit(f"{plugin}: {len(missing)} of {len(names)} servers not listed, e.g. {missing[:5]}")
    return elapsed


def inventory_times(
    clusters: int, nodes: int, names: list[str], rounds: int
) -> dict[str, tuple[float, float]]:
    """Each inventory's median time, cold (an empty cache) then cached, on the
    servers that exist now. The plugins take turns in every round, so a load
    spike on this shared machine does not fall on one of them only."""
    times: dict[str, tuple[list[float], list[float]]] = {p: ([], []) for p in INVENTORIES}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(rounds):
            for plugin, (file_name, text, _) in INVENTORIES.items():
                folder = Path(tmp) / f"{plugin}-{round_}"
                folder.mkdir()
                source = folder / file_name
                source.write_text(
                    text.format(
                        cohort=COHORT,
                        cloud=CLOUD,
                        clusters=clusters,
                        nodes=nodes,
                        cache=folder / "cache",
                    )
                )
                cold, cached = times[plugin]
                cold.append(list_inventory(plugin, source, names))
                cached.append(list_inventory(plugin, source, names))
    return {p: (statistics.median(c), statistics.median(k)) for p, (c, k) in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--skip-serial", action="store_true", help="skip the slow serial loop")
    parser.add_argument(
        "--inventory-rounds",
        type=int,
        default=3,
        help="inventory timings: rounds of cold + cached per plugin (the median is printed)",
    )
    args = parser.parse_args()

    if CLOUD == "sandbox" and "OS_CLIENT_CONFIG_FILE" not in os.environ:
        # What `eval "$(scripts/sandbox-cloud.sh env)"` would export; the
        # subprocesses inherit it.
        os.environ["OS_CLIENT_CONFIG_FILE"] = str(SANDBOX_CLOUDS_YAML)
    conn = openstack.connect(cloud=CLOUD)
    names = server_names(args.clusters, args.nodes)
    network_created = ensure_network(conn)
    delete_all(conn, set(names))
    extra = {
        "cloud": CLOUD,
        "names": names,
        "flavor": FLAVOR,
        "image": IMAGE,
        "network": f"{COHORT}-net",
        "metadata": METADATA,
    }

    results: dict[str, tuple[float, float]] = {}
    try:
        if not args.skip_serial:
            created = run_playbook(SERIAL_PLAY, extra)
            results["serial (openstack.cloud.server loop)"] = (
                created,
                delete_all(conn, set(names)),
            )
        created = floor(conn, names)
        results["floor (openstacksdk, threads)"] = (created, delete_all(conn, set(names)))
        created = run_playbook(OURS_PLAY, extra)
        inventories = inventory_times(args.clusters, args.nodes, names, args.inventory_rounds)
        results["ours (atelier.kube.os_servers)"] = (created, delete_all(conn, set(names)))
    finally:
        # Whatever stopped the run, nothing it created stays on the cloud.
        delete_all(conn, set(names))
        if network_created:
            delete_network(conn)

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
    print(
        f"\nansible-inventory --list of the same {len(names)} servers "
        f"(median of {args.inventory_rounds} rounds)"
    )
    print(f"{'inventory':40} {'cold s':>9} {'cached s':>9}")
    for label, (cold, cached) in inventories.items():
        print(f"{label:40} {cold:9.2f} {cached:9.2f}")


if __name__ == "__main__":
    main()
