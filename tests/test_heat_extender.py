"""The scheduling lab's extender (roles/lab_scheduling/files/heat_extender.py):
its decision function, and the program itself started on a loopback port and
sent extender/v1 filter requests shaped as kube-scheduler sends them (whole
Node objects, nodeCacheCapable: false). Bad requests get HTTP 400 with a
reason and the server keeps serving."""

from __future__ import annotations

import http.client
import importlib.util
import json
import math
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, wait_for

SOURCE = ROOT / "roles/lab_scheduling/files/heat_extender.py"
spec = importlib.util.spec_from_file_location("heat_extender", SOURCE)
heat_extender = importlib.util.module_from_spec(spec)
sys.modules["heat_extender"] = heat_extender  # dataclasses look their module up
spec.loader.exec_module(heat_extender)


def node(name: str, temp: str | None = None, **annotations: str) -> dict:
    """A Node object as the scheduler sends it (a trimmed real one)."""
    if temp is not None:
        annotations["nerdalize/temp"] = temp
    annotations.setdefault("node.alpha.kubernetes.io/ttl", "0")
    return {
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "uid": f"uid-{name}",
            "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"},
            "annotations": annotations,
        },
        "spec": {"podCIDR": "10.244.1.0/24"},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


def request(*nodes: dict, pod: str = "podpi9") -> dict:
    return {
        "Pod": {
            "metadata": {"name": pod, "namespace": "default"},
            "spec": {"schedulerName": "heat-scheduler", "containers": [{"name": pod}]},
        },
        "Nodes": {"metadata": {}, "items": list(nodes)},
        "NodeNames": None,
    }


# -- the decision, directly ----------------------------------------------------


def test_decide_keeps_the_coldest():
    d = heat_extender.decide(
        [("node1", {"nerdalize/temp": "40"}), ("node2", {"nerdalize/temp": "30"}),
         ("node3", {"nerdalize/temp": "35"}), ("node4", {"nerdalize/temp": "20"})]
    )  # fmt: skip
    assert d.kept == ["node4"]
    assert d.celsius == 20
    assert set(d.failed) == {"node1", "node2", "node3"}
    assert "node4" in d.failed["node1"]


def test_decide_keeps_every_node_of_a_tie():
    d = heat_extender.decide(
        [
            ("a", {"nerdalize/temp": "20"}),
            ("b", {"nerdalize/temp": "20.0"}),
            ("c", {"nerdalize/temp": "25"}),
        ]
    )
    assert d.kept == ["a", "b"]
    assert list(d.failed) == ["c"]


def test_missing_and_non_numbers_are_infinitely_hot():
    d = heat_extender.decide(
        [("none", {}), ("word", {"nerdalize/temp": "hot"}), ("nan", {"nerdalize/temp": "nan"}),
         ("inf", {"nerdalize/temp": "-inf"}), ("big", {"nerdalize/temp": "1e999"}),
         ("warm", {"nerdalize/temp": " 25.5 "})]
    )  # fmt: skip
    assert d.kept == ["warm"]
    assert d.celsius == 25.5
    notes = {c.name: c.note for c in d.candidates}
    assert "no nerdalize/temp annotation" in notes["none"]
    assert "'hot' is not a number" in notes["word"]
    assert "'nan' is not a number" in notes["nan"]
    assert "'-inf' is not a number" in notes["inf"]
    assert "out of range" in notes["big"]
    assert notes["warm"] == ""


def test_without_any_temperature_every_node_ties_at_infinity():
    d = heat_extender.decide([("a", {}), ("b", {"nerdalize/temp": "x"})])
    assert d.kept == ["a", "b"]
    assert math.isinf(d.celsius)
    assert d.failed == {}


def test_no_candidates():
    d = heat_extender.decide([])
    assert (d.kept, d.failed) == ([], {})


def test_another_annotation_name():
    d = heat_extender.decide(
        [
            ("a", {"nerdalize/temp": "1", "example.com/temp": "30"}),
            ("b", {"example.com/temp": "10"}),
        ],
        annotation="example.com/temp",
    )
    assert d.kept == ["b"]


# -- the program on a loopback port ----------------------------------------------


class Extender:
    def __init__(self, process: subprocess.Popen, port: int, lines: list[str]):
        self.process, self.port, self.lines = process, port, lines

    def post(self, body: bytes | str | dict, path: str = "/filter") -> tuple[int, dict]:
        if isinstance(body, dict):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            payload = response.read()
        finally:
            conn.close()
        return response.status, json.loads(payload)

    def log_since(self, mark: int, until: str) -> list[str]:
        """The log lines after line number mark, once one contains until."""
        wait_for(
            lambda: any(until in line for line in self.lines[mark:]), f"'{until}' in the log", 10
        )
        return self.lines[mark:]


@pytest.fixture(scope="module")
def extender() -> Iterator[Extender]:
    """heat_extender.py as the container runs it, on a free loopback port."""
    process = subprocess.Popen(
        [sys.executable, "-u", str(SOURCE), "--host", "127.0.0.1", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    first = process.stderr.readline()
    lines.append(first)
    match = re.search(r"http://127\.0\.0\.1:(\d+)/filter", first)
    assert match, first

    def read() -> None:
        for line in process.stderr:
            lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    yield Extender(process, int(match.group(1)), lines)
    process.terminate()
    process.wait(timeout=10)


def test_filter_keeps_the_coldest_node_and_logs_the_decision(extender):
    mark = len(extender.lines)
    status, answer = extender.post(
        request(node("node1", "40"), node("node2", "30"), node("node3", "35"), node("node4", "20"))
    )
    assert status == 200
    assert [n["metadata"]["name"] for n in answer["Nodes"]["items"]] == ["node4"]
    # The kept node comes back whole, as the scheduler uses it.
    assert answer["Nodes"]["items"][0] == node("node4", "20")
    assert set(answer["FailedNodes"]) == {"node1", "node2", "node3"}
    assert answer["Error"] == ""
    assert answer["NodeNames"] is None
    log = extender.log_since(mark, "Chose node")
    assert any("Received node node1 with temperature 40" in line for line in log)
    assert any("Received node node4 with temperature 20" in line for line in log)
    assert any(
        "Chose node with lowest temperature node4 (celsius=20) for pod default/podpi9" in line
        for line in log
    )


def test_filter_keeps_every_node_of_a_tie(extender):
    mark = len(extender.lines)
    status, answer = extender.post(request(node("a", "20"), node("b", "20"), node("c", "21")))
    assert status == 200
    assert [n["metadata"]["name"] for n in answer["Nodes"]["items"]] == ["a", "b"]
    assert list(answer["FailedNodes"]) == ["c"]
    log = extender.log_since(mark, "tied at the lowest temperature")
    assert any("a, b (celsius=20) for pod default/podpi9" in line for line in log)


def test_filter_counts_a_missing_annotation_as_infinitely_hot(extender):
    mark = len(extender.lines)
    status, answer = extender.post(request(node("bare"), node("warm", "35")))
    assert status == 200
    assert [n["metadata"]["name"] for n in answer["Nodes"]["items"]] == ["warm"]
    assert "inf" in answer["FailedNodes"]["bare"]
    log = extender.log_since(mark, "Chose node")
    assert any("bare with no nerdalize/temp annotation" in line for line in log)


def test_filter_counts_a_non_number_as_infinitely_hot_and_says_so(extender):
    mark = len(extender.lines)
    status, answer = extender.post(request(node("odd", "very hot"), node("warm", "35")))
    assert status == 200
    assert [n["metadata"]["name"] for n in answer["Nodes"]["items"]] == ["warm"]
    log = extender.log_since(mark, "Chose node")
    assert any("odd with nerdalize/temp='very hot' is not a number" in line for line in log)


def test_filter_with_an_empty_node_list(extender):
    mark = len(extender.lines)
    status, answer = extender.post(request())
    assert status == 200
    assert answer["Nodes"]["items"] == []
    assert answer["FailedNodes"] == {}
    extender.log_since(mark, "No candidate node for pod default/podpi9")


def test_keys_are_read_as_go_reads_them(extender):
    """Go's JSON decoding ignores case: {"pod", "nodes"} is what the original's tags said."""
    body = {k.lower(): v for k, v in request(node("x", "3"), node("y", "4")).items()}
    status, answer = extender.post(body)
    assert status == 200
    assert [n["metadata"]["name"] for n in answer["Nodes"]["items"]] == ["x"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        ("[1, 2]", "JSON list, not an object"),
        ({"Nodes": {"items": []}}, "no Pod"),
        ({"Pod": {}, "NodeNames": ["a"]}, "nodeCacheCapable: false"),
        ({"Pod": {}, "Nodes": {"items": "node1"}}, "not a NodeList"),
        ({"Pod": {}, "Nodes": [node("a")]}, "not a NodeList"),
        ({"Pod": {}, "Nodes": {"items": [{"metadata": {}}]}}, "items[0] is not a Node"),
        ({"Pod": {}, "Nodes": {"items": [node("a"), 7]}}, "items[1] is not a Node"),
        (
            {"Pod": {}, "Nodes": {"items": [{"metadata": {"name": "a", "annotations": ["x"]}}]}},
            "annotations is not an object",
        ),
    ],
    ids=[
        "malformed-json",
        "not-utf8",
        "array",
        "no-pod",
        "node-names-only",
        "items-not-list",
        "nodes-not-object",
        "node-without-name",
        "item-not-object",
        "annotations-not-object",
    ],
)
def test_a_bad_request_gets_400_with_a_reason(extender, body, reason):
    mark = len(extender.lines)
    status, answer = extender.post(body)
    assert status == 400
    assert reason in answer["Error"]
    extender.log_since(mark, "Refused a request")
    # Still serving.
    status, _ = extender.post(request(node("a", "1")))
    assert status == 200
    assert extender.process.poll() is None


def test_other_verbs_and_health(extender):
    status, answer = extender.post(request(), path="/prioritize")
    assert status == 404
    assert "/filter" in answer["Error"]
    conn = http.client.HTTPConnection("127.0.0.1", extender.port, timeout=10)
    conn.request("GET", "/healthz")
    response = conn.getresponse()
    assert (response.status, response.read()) == (200, b"ok\n")
    conn.close()


def test_a_request_without_length_is_refused(extender):
    conn = http.client.HTTPConnection("127.0.0.1", extender.port, timeout=10)
    conn.putrequest("POST", "/filter")
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 400
    assert "Content-Length" in json.loads(response.read())["Error"]
    conn.close()


def test_it_is_stdlib_only():
    """A stock Python image runs it: it imports nothing from outside the standard library."""
    imports = re.findall(r"^(?:from|import) (\w+)", SOURCE.read_text(), re.M)
    assert set(imports) <= set(sys.stdlib_module_names) | {"__future__"}
    assert Path(SOURCE).stat().st_size < 16_000


def test_sigterm_stops_it_at_once(tmp_path):
    """A container's first process has no default SIGTERM action: the extender
    installs one, or every pod deletion would wait out its grace period."""
    process = subprocess.Popen(
        [sys.executable, "-u", str(SOURCE), "--port", "0"], stderr=subprocess.PIPE, text=True
    )
    assert "filter on http://127.0.0.1:" in process.stderr.readline()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=5) == 0
    assert "heat extender: stopped" in process.stderr.read()
