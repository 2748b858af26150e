#!/usr/bin/env python3
"""The heat-scheduler's extender: keeps the coldest node(s) for each pod.

A kube-scheduler extender (k8s.io/kube-scheduler extender/v1) that answers
one verb, filter, the way RyaxTech/heat-scheduler's Go extender did. The
scheduler POSTs the pod and the nodes that passed its own filters:

    POST /filter  {"Pod": {...}, "Nodes": {"items": [<Node>, ...]}, "NodeNames": null}

and gets back the nodes it may use, the others with a reason:

    {"Nodes": {"items": [<coldest Node>, ...]}, "NodeNames": null,
     "FailedNodes": {"<name>": "<why>"}, "Error": ""}

A node's temperature is its annotation nerdalize/temp (a decimal number,
degrees Celsius). A node without it counts as infinitely hot, and so does a
value that is not a number (said in the log). Every node at the lowest
temperature is kept: ties keep them all, and where no node has a temperature
every node ties at infinity and all are kept. A request that cannot be read
gets HTTP 400 with the reason; the server keeps serving.

Each decision is logged as the original did, one line per candidate, then
the choice:

    Received node node1 with temperature 40
    Chose node with lowest temperature node4 (celsius=20) for pod default/podpi9

Standard library only: it runs on a stock Python image (python3 heat_extender.py).
GET /healthz answers "ok" (the container's probe).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import signal
import sys
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANNOTATION = "nerdalize/temp"
# A plain decimal number: "20", "-3.5", "1e2". Not "nan", "inf" or "1_000",
# which Python's float() would take.
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# The scheduler's requests are a few kilobytes per node; refuse a body far larger.
MAX_BODY = 64 * 1024 * 1024

log = logging.getLogger("heat-extender")


class BadRequest(ValueError):
    """The request is not an extender/v1 filter request; the message says why."""


@dataclass
class Candidate:
    name: str
    celsius: float  # math.inf when unknown
    note: str = ""  # why it counts as infinitely hot


@dataclass
class Decision:
    candidates: list[Candidate]
    kept: list[str]
    failed: dict[str, str] = field(default_factory=dict)
    celsius: float = math.inf


def temperature(annotations: dict, annotation: str = ANNOTATION) -> tuple[float, str]:
    """A node's temperature from its annotations, and a note when it counts as infinite."""
    if annotation not in annotations:
        return math.inf, f"no {annotation} annotation: counted as infinitely hot"
    value = annotations[annotation]
    if not isinstance(value, str) or not NUMBER.fullmatch(value.strip()):
        return math.inf, f"{annotation}={value!r} is not a number: counted as infinitely hot"
    celsius = float(value)
    if not math.isfinite(celsius):  # "1e999"
        return math.inf, f"{annotation}={value!r} is out of range: counted as infinitely hot"
    return celsius, ""


def decide(nodes: list[tuple[str, dict]], annotation: str = ANNOTATION) -> Decision:
    """Keep the coldest of (name, annotations) pairs; every node that ties is kept."""
    candidates = [
        Candidate(name, *temperature(annotations, annotation)) for name, annotations in nodes
    ]
    if not candidates:
        return Decision(candidates, [])
    coldest = min(c.celsius for c in candidates)
    kept = [c.name for c in candidates if c.celsius == coldest]
    failed = {
        c.name: f"hotter ({show(c.celsius)}) than {', '.join(kept)} ({show(coldest)})"
        for c in candidates
        if c.celsius != coldest
    }
    return Decision(candidates, kept, failed, coldest)


def show(celsius: float) -> str:
    """20.0 -> "20", 20.5 -> "20.5", inf -> "inf"."""
    return "inf" if math.isinf(celsius) else f"{celsius:g}"


def lowered(obj: dict) -> dict:
    """Keys folded to lower case: Go's JSON decoding (the scheduler's) ignores case."""
    return {key.lower(): value for key, value in obj.items()}


def parse(body: bytes) -> tuple[str, list[dict]]:
    """The pod's namespace/name and the candidate Node objects, or BadRequest."""
    try:
        args = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadRequest(f"the body is not JSON: {error}") from None
    if not isinstance(args, dict):
        raise BadRequest(
            f"the body is a JSON {type(args).__name__}, not an object with Pod and Nodes"
        )
    args = lowered(args)
    pod = args.get("pod")
    if not isinstance(pod, dict):
        raise BadRequest("no Pod object in the request")
    meta = pod.get("metadata") if isinstance(pod.get("metadata"), dict) else {}
    pod_name = f"{meta.get('namespace', 'default')}/{meta.get('name', '?')}"
    nodes = args.get("nodes")
    if nodes is None:
        raise BadRequest(
            "no Nodes in the request (only NodeNames?): the extender reads the nodes' annotations,"
            " so the scheduler must send whole Node objects (nodeCacheCapable: false)"
        )
    if not isinstance(nodes, dict) or not isinstance(nodes.get("items"), list):
        raise BadRequest("Nodes is not a NodeList (an object with a list items)")
    for index, node in enumerate(nodes["items"]):
        node_meta = node.get("metadata") if isinstance(node, dict) else None
        if not isinstance(node_meta, dict) or not isinstance(node_meta.get("name"), str):
            raise BadRequest(f"Nodes.items[{index}] is not a Node with metadata.name")
        if not isinstance(node_meta.get("annotations") or {}, dict):
            raise BadRequest(f"Nodes.items[{index}].metadata.annotations is not an object")
    return pod_name, nodes["items"]


def filter_nodes(body: bytes, annotation: str = ANNOTATION) -> dict:
    """The extender's answer to a filter request (BadRequest if it cannot be read)."""
    pod_name, items = parse(body)
    decision = decide(
        [(n["metadata"]["name"], n["metadata"].get("annotations") or {}) for n in items], annotation
    )
    for c in decision.candidates:
        if c.note:
            log.info("Received node %s with %s", c.name, c.note)
        else:
            log.info("Received node %s with temperature %s", c.name, show(c.celsius))
    if not decision.kept:
        log.info("No candidate node for pod %s", pod_name)
    elif len(decision.kept) == 1:
        log.info(
            "Chose node with lowest temperature %s (celsius=%s) for pod %s",
            decision.kept[0],
            show(decision.celsius),
            pod_name,
        )
    else:
        log.info(
            "Chose %d nodes tied at the lowest temperature %s (celsius=%s) for pod %s",
            len(decision.kept),
            ", ".join(decision.kept),
            show(decision.celsius),
            pod_name,
        )
    kept = set(decision.kept)
    return {
        "Nodes": {"items": [n for n in items if n["metadata"]["name"] in kept]},
        "NodeNames": None,
        "FailedNodes": decision.failed,
        "Error": "",
    }


class Handler(BaseHTTPRequestHandler):
    server_version = "heat-extender/1"
    annotation = ANNOTATION

    def answer(self, status: HTTPStatus, payload: dict | str) -> None:
        body = (json.dumps(payload) if isinstance(payload, dict) else payload + "\n").encode()
        self.send_response(status)
        ctype = "application/json" if isinstance(payload, dict) else "text/plain; charset=utf-8"
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/healthz":
            self.answer(HTTPStatus.OK, "ok")
        else:
            self.answer(HTTPStatus.NOT_FOUND, f"no {self.path}: POST /filter, GET /healthz")

    def do_POST(self) -> None:
        if self.path.rstrip("/") != "/filter":
            self.answer(
                HTTPStatus.NOT_FOUND,
                {"Error": f"no verb {self.path}: this extender answers /filter"},
            )
            return
        try:
            length = int(self.headers.get("Content-Length") or "")
        except ValueError:
            self.refuse("no Content-Length")
            return
        if not 0 <= length <= MAX_BODY:
            self.refuse(f"Content-Length {length} out of range (at most {MAX_BODY})")
            return
        try:
            self.answer(HTTPStatus.OK, filter_nodes(self.rfile.read(length), self.annotation))
        except BadRequest as error:
            self.refuse(str(error))

    def refuse(self, reason: str) -> None:
        log.warning("Refused a request from %s: %s", self.client_address[0], reason)
        self.answer(HTTPStatus.BAD_REQUEST, {"Error": reason})

    def log_message(self, format: str, *args) -> None:
        log.debug(format, *args)


def make_server(host: str, port: int, annotation: str = ANNOTATION) -> ThreadingHTTPServer:
    handler = type("ConfiguredHandler", (Handler,), {"annotation": annotation})
    return ThreadingHTTPServer((host, port), handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=8100, help="port (default 8100)")
    parser.add_argument(
        "--annotation", default=ANNOTATION, help=f"the temperature annotation ({ANNOTATION})"
    )
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    server = make_server(options.host, options.port, options.annotation)
    # As a container's first process it gets no default SIGTERM action: without
    # this, the pod's deletion would wait out its grace period.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        log.info(
            "heat extender: filter on http://%s:%d/filter, annotation %s",
            options.host,
            server.server_port,
            options.annotation,
        )
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        log.info("heat extender: stopped")


if __name__ == "__main__":
    main()
