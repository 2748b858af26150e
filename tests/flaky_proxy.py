"""A loopback HTTP proxy in front of one OpenStack API that answers some
requests with an error instead of forwarding them: the "API failure mid-run"
of the fault tests. It only ever talks to 127.0.0.1."""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class FlakyProxy:
    """Forwards to http://127.0.0.1:<upstream_port>; `fail(n, method, path_part)`
    makes the next n matching requests answer 503 without reaching the API."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.failures_left = 0
        self.match = ("", "")
        self.failed = 0
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _relay(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if proxy._should_fail(self.command, self.path):
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    return
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                upstream.request(self.command, self.path, body=body or None, headers=headers)
                response = upstream.getresponse()
                payload = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(payload)
                upstream.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _relay

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _should_fail(self, method: str, path: str) -> bool:
        with self.lock:
            wanted_method, path_part = self.match
            if self.failures_left and method == wanted_method and path_part in path:
                self.failures_left -= 1
                self.failed += 1
                return True
        return False

    def fail(self, count: int, method: str, path_part: str) -> None:
        with self.lock:
            self.failures_left, self.match = count, (method, path_part)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
