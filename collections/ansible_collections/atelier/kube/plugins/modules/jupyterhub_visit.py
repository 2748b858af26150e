#!/usr/bin/python
# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A learner's visit to a JupyterHub, proving login, spawn and kept storage."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: jupyterhub_visit
short_description: A learner's login, server and kept notebook on a JupyterHub
description:
  - Does over HTTP what a learner's browser does, from the host it runs on (the login host),
    through the hub's public entry O(url).
  - C(/hub/login) answers with its form; a wrong password is refused (HTTP 403); the right one
    logs in (a redirect and the hub's login cookie).
  - Starts the user's server through the hub's REST API (with the login cookie and its XSRF token)
    and waits until the hub reports it ready; the time from login to ready is RV(spawn_seconds).
    A start the hub gives up (its server pending, then stopped) fails at once with the hub's reason
    (its progress event, e.g. a server that did not answer within the hub's http_timeout).
  - Asks the server's own API (C(/user/<name>/api/status)) through the proxy, with a token the
    user made for themselves (C(POST /hub/api/users/<name>/tokens)); saves a notebook with its
    contents API; stops the server, starts it again and reads the notebook back (the storage is the
    user's PVC, not the pod's).
  - Asks O(other_user)'s server URL with the first user's cookie, which must be refused (HTTP 403
    or 404).
  - Stops the server at the end, whatever happened, and deletes the token it made.
  - Changes nothing that lasts except the saved notebook; reports changed=false.
version_added: 0.1.0
author: kube-atelier developers (@kube-atelier)
options:
  url:
    description: The hub's public entry, e.g. C(http://10.0.0.5:30880).
    type: str
    required: true
  user:
    description: The learner who logs in.
    type: str
    required: true
  password:
    description: Their password (that of their login card).
    type: str
    required: true
  other_user:
    description: Another user of the hub, whose server URL the first user must not reach.
    type: str
    required: true
  notebook:
    description: Path of the notebook saved in the user's home.
    type: str
    default: atelier-verify.ipynb
  timeout:
    description: Seconds each start (and each stop) may take.
    type: int
    default: 300
  poll_interval:
    description: Seconds between two readings of the server's state.
    type: float
    default: 2
"""

EXAMPLES = r"""
- name: A learner logs in, starts their server and keeps a notebook
  atelier.kube.jupyterhub_visit:
    url: "http://{{ ansible_default_ipv4.address }}:30880"
    user: learner01
    password: "{{ learner01_password }}"
    other_user: learner02
  no_log: false
  register: visit
"""

RETURN = r"""
checks:
  description: What was proven, in order.
  type: list
  elements: str
  returned: always
spawn_seconds:
  description: Seconds from the login to the server ready.
  type: float
  returned: success
respawn_seconds:
  description: Seconds from the second start to the server ready.
  type: float
  returned: success
other_user_status:
  description: The HTTP status of the first user's request for the other user's server.
  type: int
  returned: success
"""

import time
import uuid

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.atelier.kube.plugins.module_utils.jupyterhub_probe import (
    HubSession,
    ProbeError,
    login_form_xsrf,
    notebook,
    notebook_marker,
    server_state,
    spawn_failure,
)


def wait_for(session, user, want, timeout, interval):
    """Polls the hub's user model until the server is `want` ('ready' or 'stopped').
    A start the hub gave up (pending, then stopped) fails at once, with the hub's reason."""
    started = time.monotonic()
    deadline = started + timeout
    state, seen_pending = "unknown", False
    while time.monotonic() < deadline:
        status, model = session.json("GET", f"/hub/api/users/{user}")
        if status != 200:
            raise ProbeError(f"GET /hub/api/users/{user}: HTTP {status} {model}")
        state = server_state(model)
        if state == want:
            return
        seen_pending = seen_pending or state.startswith("pending")
        if want == "ready" and state == "stopped" and seen_pending:
            _status, progress = session.request("GET", f"/hub/api/users/{user}/server/progress")
            reason = spawn_failure(progress) or "no reason given"
            raise ProbeError(
                f"the hub gave up starting {user}'s server after"
                f" {round(time.monotonic() - started)} s ({reason})"
            )
        time.sleep(interval)
    raise ProbeError(f"{user}'s server is not {want} after {timeout} s (last: {state})")


def start(session, user, timeout, interval):
    status, body = session.json("POST", f"/hub/api/users/{user}/server")
    if status not in (201, 202, 400):  # 400: already running
        raise ProbeError(f"POST /hub/api/users/{user}/server: HTTP {status} {body}")
    wait_for(session, user, "ready", timeout, interval)


def stop(session, user, timeout, interval):
    status, body = session.json("DELETE", f"/hub/api/users/{user}/server")
    if status not in (202, 204, 400):  # 400: not running
        raise ProbeError(f"DELETE /hub/api/users/{user}/server: HTTP {status} {body}")
    wait_for(session, user, "stopped", timeout, interval)


def log_in(session, user, password, checks):
    """The login form, a wrong password refused, the right one accepted."""
    status, page = session.request("GET", "/hub/login")
    if status != 200:
        raise ProbeError(f"GET /hub/login: HTTP {status}")
    form = {"username": user, "password": password + "-wrong", "_xsrf": login_form_xsrf(page)}
    checks.append("/hub/login answers with its form")
    status, _page = session.request("POST", "/hub/login", data=form, follow=False)
    if status != 403:
        raise ProbeError(f"a wrong password for {user} got HTTP {status}, not 403")
    checks.append("a wrong password is refused")
    form["password"] = password
    status, _page = session.request("POST", "/hub/login", data=form, follow=False)
    if status != 302 or not any(c.name.startswith("jupyterhub-hub-login") for c in session.cookies):
        raise ProbeError(f"{user} with their password got HTTP {status} and no login cookie")
    checks.append(f"{user} logs in with their card's password")


def make_token(session, user):
    """(token, id): a token of the user's, for their server's API."""
    body = {"note": "kube-atelier verify", "expires_in": 3600}
    status, made = session.json("POST", f"/hub/api/users/{user}/tokens", body=body)
    if status != 201:
        raise ProbeError(f"POST /hub/api/users/{user}/tokens: HTTP {status} {made}")
    return made["token"], made["id"]


def keep_a_notebook(session, params, token, checks, result):
    """A notebook saved, the server stopped and started again, the notebook read back."""
    user, timeout, interval = params["user"], params["timeout"], params["poll_interval"]
    status, body = session.json("GET", f"/user/{user}/api/status", token=token)
    if status != 200:
        raise ProbeError(f"GET /user/{user}/api/status through the proxy: HTTP {status} {body}")
    checks.append("the server's API answers through the proxy")
    marker = f"kube-atelier {uuid.uuid4()}"
    path = f"/user/{user}/api/contents/{params['notebook']}"
    status, body = session.json("PUT", path, body=notebook(marker), token=token)
    if status not in (200, 201):
        raise ProbeError(f"PUT {path}: HTTP {status} {body}")
    checks.append(f"notebook {params['notebook']} saved")
    restarted = time.monotonic()
    stop(session, user, timeout, interval)
    start(session, user, timeout, interval)
    result["respawn_seconds"] = round(time.monotonic() - restarted, 1)
    status, model = session.json("GET", path + "?content=1", token=token)
    if status != 200 or notebook_marker(model) != marker:
        raise ProbeError(f"after a restart, {path} is not the saved notebook (HTTP {status})")
    checks.append("the notebook is still there after the server was stopped and started again")


def visit(params, checks):
    user, timeout, interval = params["user"], params["timeout"], params["poll_interval"]
    session = HubSession(params["url"])
    log_in(session, user, params["password"], checks)
    logged_in = time.monotonic()
    token_id = None
    try:
        start(session, user, timeout, interval)
        result = {"spawn_seconds": round(time.monotonic() - logged_in, 1)}
        checks.append(f"{user}'s server started, ready {result['spawn_seconds']} s after the login")
        token, token_id = make_token(session, user)
        keep_a_notebook(session, params, token, checks, result)
        other = params["other_user"]
        status, _page = session.request("GET", f"/user/{other}/api/status")
        if status not in (403, 404):
            raise ProbeError(f"{user}'s cookie on {other}'s server URL got HTTP {status}")
        result["other_user_status"] = status
        checks.append(f"{other}'s server URL refuses {user} (HTTP {status})")
    finally:
        if token_id:
            session.request("DELETE", f"/hub/api/users/{user}/tokens/{token_id}")
        stop(session, user, timeout, interval)
        checks.append(f"{user}'s server stopped")
    return result


def main():
    module = AnsibleModule(
        argument_spec={
            "url": {"type": "str", "required": True},
            "user": {"type": "str", "required": True},
            "password": {"type": "str", "required": True, "no_log": True},
            "other_user": {"type": "str", "required": True},
            "notebook": {"type": "str", "default": "atelier-verify.ipynb"},
            "timeout": {"type": "int", "default": 300},
            "poll_interval": {"type": "float", "default": 2},
        },
        supports_check_mode=True,
    )
    checks = []
    try:
        result = visit(module.params, checks)
    except ProbeError as error:
        module.fail_json(msg=str(error), checks=checks)
    module.exit_json(changed=False, checks=checks, **result)


if __name__ == "__main__":
    main()
