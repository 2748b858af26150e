# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A learner's visit to a JupyterHub, over HTTP as a browser makes it: the
login form (its _xsrf), the hub's REST API with the login cookie, the user's
server through the proxy with a token of theirs. The decisions (what the
pages and the API say) are pure functions, unit-tested on captured
responses; HubSession only carries the requests. Standard library only: it
runs on the login host's Python."""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request

XSRF_INPUT = re.compile(r"""<input[^>]*name=["']_xsrf["'][^>]*value=["']([^"']+)["']""")
XSRF_INPUT_REVERSED = re.compile(r"""<input[^>]*value=["']([^"']+)["'][^>]*name=["']_xsrf["']""")


class ProbeError(Exception):
    """A step of the visit did not go as a learner's would."""


def login_form_xsrf(page: str) -> str:
    """The _xsrf value of the hub's login form."""
    match = XSRF_INPUT.search(page) or XSRF_INPUT_REVERSED.search(page)
    if not match:
        raise ProbeError("the login page has no _xsrf field: is this JupyterHub's /hub/login?")
    return match.group(1)


def server_state(user_model: dict, server_name: str = "") -> str:
    """'ready', 'pending: <what>' or 'stopped', from the hub's user model
    (GET /hub/api/users/<name>)."""
    server = (user_model.get("servers") or {}).get(server_name)
    if not server:
        return f"pending: {user_model['pending']}" if user_model.get("pending") else "stopped"
    if server.get("ready"):
        return "ready"
    return f"pending: {server.get('pending') or 'starting'}"


def spawn_failure(progress: str) -> str:
    """The hub's reason for a failed start, from the event stream of
    GET /hub/api/users/<name>/server/progress once the start has ended
    (one event, failed, whose message is "Spawn failed: <why>"); '' if none."""
    for line in progress.splitlines():
        if not line.startswith("data:"):
            continue
        try:
            event = json.loads(line.split(":", 1)[1])
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("failed"):
            return str(event.get("message") or "Spawn failed")
    return ""


def notebook(marker: str) -> dict:
    """A one-cell notebook (nbformat 4) whose source is marker."""
    return {
        "type": "notebook",
        "format": "json",
        "content": {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {},
            "cells": [{"cell_type": "markdown", "id": "atelier", "metadata": {}, "source": marker}],
        },
    }


def notebook_marker(model: dict) -> str:
    """The first cell's source of a notebook read back from the contents API."""
    try:
        source = model["content"]["cells"][0]["source"]
    except (KeyError, IndexError, TypeError) as error:
        raise ProbeError(f"the notebook read back has no first cell ({error})") from error
    return "".join(source) if isinstance(source, list) else source


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class HubSession:
    """One browser: its cookies, the hub's URL."""

    def __init__(self, base_url: str, timeout: float = 30):
        if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
            raise ProbeError(f"{base_url!r} is not an http(s) URL")
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self.cookies = http.cookiejar.CookieJar()
        cookies = urllib.request.HTTPCookieProcessor(self.cookies)
        self.follow = urllib.request.build_opener(cookies)
        self.stay = urllib.request.build_opener(cookies, _NoRedirect)

    def cookie(self, name: str) -> str:
        return next((c.value for c in self.cookies if c.name == name), "")

    def request(self, method, path, *, data=None, body=None, headers=None, follow=True, token=None):
        """(status, text) of one request; HTTP errors are statuses, not exceptions."""
        headers = dict(headers or {})
        payload = None
        if data is not None:
            payload = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"token {token}"
        elif self.cookie("_xsrf"):
            headers["X-XSRFToken"] = self.cookie("_xsrf")
        url = self.base + path
        # The scheme is http(s), checked in __init__.
        request = urllib.request.Request(url, data=payload, headers=headers, method=method)  # noqa: S310
        opener = self.follow if follow else self.stay
        try:
            with opener.open(request, timeout=self.timeout) as response:
                return response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")
        except (urllib.error.URLError, OSError) as error:
            raise ProbeError(
                f"{method} {self.base}{path}: {getattr(error, 'reason', error)}"
            ) from error

    def json(self, method, path, **kwargs):
        status, text = self.request(method, path, **kwargs)
        try:
            return status, json.loads(text) if text.strip() else {}
        except ValueError:
            return status, {"text": text[:300]}
