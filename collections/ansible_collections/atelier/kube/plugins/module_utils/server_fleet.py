"""Create and delete many OpenStack servers at once, converging on a wanted set.

Why not openstack.cloud.server in a loop: it creates and waits for one server
at a time (async tasks help, but each still polls on its own). Here creates run
in a thread pool and one list call per poll watches every server, so a cohort
of 60 servers costs about as much as the cloud needs to build them.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

# Errors worth another try: the cloud was busy or briefly unreachable.
RETRYABLE_STATUS = {408, 409, 429, 500, 502, 503, 504}


@dataclass
class ServerSpec:
    name: str
    flavor: str
    image: str
    network: str
    key_name: str | None = None
    security_groups: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    floating_ip: bool = False


@dataclass
class ServerOutcome:
    name: str
    id: str | None = None
    status: str = "planned"
    private_ip: str | None = None
    public_ip: str | None = None
    created: bool = False
    attempts: int = 0
    error: str | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class FleetError(Exception):
    """A problem with the request itself (missing flavor, image, network)."""


def describe_error(error: Exception) -> str:
    """One line a trainer can act on, from an openstacksdk or transport error."""
    details = getattr(error, "details", None) or ""
    message = getattr(error, "message", None) or str(error)
    status = getattr(error, "status_code", None)
    text = " ".join(part for part in (message, details) if part and part not in message)
    if status:
        return f"HTTP {status}: {text or message}"
    return f"{type(error).__name__}: {text or message}"


def is_quota_error(error: Exception) -> bool:
    return getattr(error, "status_code", None) in (403, 413) and "quota" in str(error).lower()


def is_retryable(error: Exception) -> bool:
    status = getattr(error, "status_code", None)
    if status is None:
        # No HTTP answer at all: connection refused or reset, timeout.
        return True
    return status in RETRYABLE_STATUS and not is_quota_error(error)


def address_description(name: str) -> str:
    """The description a server's floating IP carries: it finds the address
    kept for a server of that name (a rebuild) and the cohort's addresses."""
    return f"kube-atelier {name}"


def server_private_ip(server, network_name: str) -> str | None:
    for address in (server.addresses or {}).get(network_name, []):
        if address.get("OS-EXT-IPS:type", "fixed") == "fixed" and address.get("version") == 4:
            return address["addr"]
    return None


class Fleet:
    def __init__(
        self,
        conn,
        *,
        workers: int = 10,
        timeout: float = 600,
        poll_interval: float = 2.0,
        retries: int = 2,
        external_network: str | None = None,
        check_mode: bool = False,
    ):
        self.conn = conn
        self.workers = workers
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.retries = retries
        self.external_network = external_network
        self.check_mode = check_mode
        self.changed = False

    # -- helpers ---------------------------------------------------------
    def _call(self, what, *args, **kwargs):
        """Call the cloud, retrying transient failures with a short backoff."""
        for attempt in range(self.retries + 1):
            try:
                return what(*args, **kwargs)
            except Exception as error:
                if attempt == self.retries or not is_retryable(error):
                    raise
                time.sleep(min(2**attempt, 10))
        raise AssertionError("unreachable")

    def _list_servers(self, names: set[str]) -> dict[str, list]:
        found: dict[str, list] = {}
        for server in self._call(lambda: list(self.conn.compute.servers(details=True))):
            if server.name in names:
                found.setdefault(server.name, []).append(server)
        return found

    def _resolve(self, specs: list[ServerSpec]) -> dict[str, str]:
        """Look up every flavor, image and network once; name all that are missing."""
        ids: dict[str, str] = {}
        missing = []
        lookups = {
            "flavor": (self.conn.compute.find_flavor, {s.flavor for s in specs}),
            "image": (self.conn.image.find_image, {s.image for s in specs}),
            "network": (self.conn.network.find_network, {s.network for s in specs}),
        }
        for kind, (find, names) in lookups.items():
            for name in sorted(names):
                found = self._call(find, name, ignore_missing=True)
                if found is None:
                    missing.append(f"{kind} '{name}'")
                else:
                    ids[f"{kind}:{name}"] = found.id
        if missing:
            raise FleetError("not found in the cloud: " + ", ".join(missing))
        return ids

    # -- present ---------------------------------------------------------
    def ensure_present(self, specs: list[ServerSpec]) -> list[ServerOutcome]:
        by_name = {spec.name: spec for spec in specs}
        outcomes = {spec.name: ServerOutcome(spec.name) for spec in specs}
        ids = self._resolve(specs)
        existing = self._list_servers(set(by_name))

        to_create: list[str] = []
        doomed = []
        for name in by_name:
            servers = sorted(
                existing.get(name, []), key=lambda s: (s.status != "ACTIVE", s.created_at)
            )
            healthy = [s for s in servers if s.status != "ERROR"]
            # Duplicates come from a create that timed out but went through:
            # keep one, remove the rest so a re-run converges on one server.
            keep = healthy[0] if healthy else None
            doomed.extend(s for s in servers if s is not keep)
            if keep is None:
                to_create.append(name)
            else:
                outcomes[name].id = keep.id
                outcomes[name].status = keep.status.lower()

        if self.check_mode:
            for name in to_create:
                outcomes[name].status = "would be created"
            self.changed = bool(to_create or doomed)
            return list(outcomes.values())

        self._delete_servers(doomed)
        self._create_and_wait(to_create, by_name, ids, outcomes)
        self._attach_floating_ips([by_name[n] for n in by_name if by_name[n].floating_ip], outcomes)
        return list(outcomes.values())

    def _create_one(self, spec: ServerSpec, ids: dict[str, str], outcome: ServerOutcome) -> None:
        outcome.attempts += 1
        try:
            request = {
                "name": spec.name,
                "flavor_id": ids[f"flavor:{spec.flavor}"],
                "image_id": ids[f"image:{spec.image}"],
                "networks": [{"uuid": ids[f"network:{spec.network}"]}],
                "metadata": spec.metadata,
            }
            # Nova refuses key_name=None (HTTP 400) and an empty group list
            # would drop the project's default group: send only what is set.
            if spec.key_name:
                request["key_name"] = spec.key_name
            if spec.security_groups:
                request["security_groups"] = [{"name": g} for g in spec.security_groups]
            server = self._call(self.conn.compute.create_server, **request)
        except Exception as error:
            outcome.status = "failed"
            outcome.error = ("quota exceeded: " if is_quota_error(error) else "") + describe_error(
                error
            )
            return
        outcome.id = server.id
        outcome.status = "build"
        outcome.created = True
        self.changed = True

    def _create_and_wait(self, names, by_name, ids, outcomes) -> None:
        """Create the missing servers, then watch them (and any left building by an
        earlier run) until ACTIVE; one that ends in ERROR is deleted and created
        again, up to `retries` times."""
        pending = list(names)
        building = {n for n, outcome in outcomes.items() if outcome.status == "build"}
        deadline = time.monotonic() + self.timeout
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            while pending or building:
                list(pool.map(lambda n: self._create_one(by_name[n], ids, outcomes[n]), pending))
                building |= {n for n in pending if outcomes[n].status == "build"}
                pending = []
                while building and time.monotonic() < deadline:
                    time.sleep(self.poll_interval)
                    current = self._list_servers(building)
                    for name in list(building):
                        server = next(
                            (s for s in current.get(name, []) if s.id == outcomes[name].id), None
                        )
                        if server is None:
                            # Deleted behind our back: build it again if allowed.
                            building.discard(name)
                            outcomes[name].status = "gone"
                            if outcomes[name].attempts <= self.retries:
                                pending.append(name)
                            continue
                        if server.status == "BUILD":
                            continue
                        building.discard(name)
                        outcomes[name].status = server.status.lower()
                        if server.status == "ERROR":
                            fault = (server.fault or {}).get("message", "no fault message")
                            self._delete_servers([server])
                            if outcomes[name].attempts <= self.retries:
                                pending.append(name)
                            else:
                                outcomes[name].status = "failed"
                                outcomes[
                                    name
                                ].error = (
                                    f"server went to ERROR {outcomes[name].attempts} times: {fault}"
                                )
                for name in building:
                    outcomes[name].status = "failed"
                    outcomes[name].error = f"still building after {self.timeout:.0f}s"
                building = set()
        self._fill_addresses(by_name, outcomes)

    def _fill_addresses(self, by_name, outcomes) -> None:
        current = self._list_servers(set(by_name))
        for name, outcome in outcomes.items():
            server = next((s for s in current.get(name, []) if s.id == outcome.id), None)
            if server is not None:
                outcome.private_ip = server_private_ip(server, by_name[name].network)

    def _attach_floating_ips(self, specs: list[ServerSpec], outcomes) -> None:
        wanted = [s for s in specs if outcomes[s.name].status == "active"]
        if not wanted:
            return
        if not self.external_network:
            raise FleetError("floating_ip requested but no external_network given")
        external = self._call(self.conn.network.find_network, self.external_network)
        if external is None:
            raise FleetError(f"not found in the cloud: network '{self.external_network}'")
        server_ids = {outcomes[s.name].id: s.name for s in wanted}
        ports = {
            p.device_id: p
            for p in self._call(lambda: list(self.conn.network.ports()))
            if p.device_id in server_ids
        }
        all_ips = self._call(lambda: list(self.conn.network.ips()))
        by_port = {ip.port_id: ip for ip in all_ips if ip.port_id}
        # Kept by a rebuild (ensure_absent keep_floating_ips): the server's own
        # address again, so the learners' cards still name it.
        kept = {ip.description: ip for ip in all_ips if not ip.port_id and ip.description}

        def attach(spec: ServerSpec) -> None:
            outcome = outcomes[spec.name]
            port = ports.get(outcome.id)
            if port is None:
                outcome.error = "no port found to attach a floating IP to"
                return
            ip = by_port.get(port.id)
            if ip is None:
                kept_ip = kept.get(address_description(spec.name))
                try:
                    if kept_ip is not None:
                        ip = self._call(self.conn.network.update_ip, kept_ip, port_id=port.id)
                    else:
                        ip = self._call(
                            self.conn.network.create_ip,
                            floating_network_id=external.id,
                            port_id=port.id,
                            description=address_description(spec.name),
                        )
                except Exception as error:
                    outcome.error = "floating IP: " + describe_error(error)
                    return
                self.changed = True
            outcome.public_ip = ip.floating_ip_address

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            list(pool.map(attach, wanted))

    # -- absent ----------------------------------------------------------
    def _delete_servers(self, servers, keep_floating_ips: bool = False) -> None:
        if not servers:
            return
        ids = {s.id for s in servers}
        server_ports = [
            p.id for p in self._call(lambda: list(self.conn.network.ports())) if p.device_id in ids
        ]
        for ip in self._call(lambda: list(self.conn.network.ips())):
            if ip.port_id not in server_ports:
                continue
            if keep_floating_ips:
                self._call(self.conn.network.update_ip, ip, port_id=None)
            else:
                self._call(self.conn.network.delete_ip, ip, ignore_missing=True)
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            list(
                pool.map(
                    lambda s: self._call(self.conn.compute.delete_server, s, ignore_missing=True),
                    servers,
                )
            )
        self.changed = True
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            left = [s for s in self._call(lambda: list(self.conn.compute.servers())) if s.id in ids]
            if not left:
                return
            time.sleep(self.poll_interval)
        raise FleetError(f"{len(ids)} servers were still there {self.timeout:.0f}s after delete")

    def ensure_absent(
        self,
        names: set[str] | None = None,
        metadata: dict | None = None,
        keep_floating_ips: bool = False,
    ) -> list[str]:
        """Delete the servers with these names, or carrying all this metadata;
        their floating IPs too, or, with keep_floating_ips, only detached: the
        server of the same name made again gets its address back."""
        doomed = []
        for server in self._call(lambda: list(self.conn.compute.servers(details=True))):
            by_name = names is not None and server.name in names
            by_metadata = bool(metadata) and all(
                (server.metadata or {}).get(k) == v for k, v in metadata.items()
            )
            if by_name or by_metadata:
                doomed.append(server)
        kept = []
        if not keep_floating_ips:
            # Addresses kept by a rebuild that stopped before the servers came back.
            wanted = {address_description(n) for n in (names or set()) | {s.name for s in doomed}}
            kept = [
                ip
                for ip in self._call(lambda: list(self.conn.network.ips()))
                if not ip.port_id and ip.description in wanted
            ]
        if not self.check_mode:
            self._delete_servers(doomed, keep_floating_ips)
            for ip in kept:
                self._call(self.conn.network.delete_ip, ip, ignore_missing=True)
        self.changed = bool(doomed or kept)
        return sorted(s.name for s in doomed)
