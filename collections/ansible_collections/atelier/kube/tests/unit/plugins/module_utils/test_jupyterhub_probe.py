"""The decisions of a learner's visit to a JupyterHub (module_utils/
jupyterhub_probe.py), on pages and API answers shaped as JupyterHub 5 sends
them. The visit itself is proven against the real hub on the sandbox cluster
(tests/test_sandbox_main_job.py)."""

from __future__ import annotations

import pytest
from ansible_collections.atelier.kube.plugins.module_utils.jupyterhub_probe import (
    ProbeError,
    login_form_xsrf,
    notebook,
    notebook_marker,
    server_state,
    spawn_failure,
)

# The form of JupyterHub 5's login.html, as rendered.
LOGIN_PAGE = """
<form action="/hub/login?next=" method="post" role="form">
  <input type="hidden" name="_xsrf" value="2|8f3a91c2|0d6e3b1a5c|1733212345"/>
  <label for="username_input">Username:</label>
  <input id="username_input" type="text" autocapitalize="off" name="username"/>
  <input type="password" id="password_input" name="password"/>
</form>
"""


def test_the_login_form_s_xsrf_is_read():
    assert login_form_xsrf(LOGIN_PAGE) == "2|8f3a91c2|0d6e3b1a5c|1733212345"
    reversed_attributes = '<input value="abc" type="hidden" name="_xsrf">'
    assert login_form_xsrf(reversed_attributes) == "abc"


def test_a_page_without_the_form_is_not_taken_for_the_hub():
    with pytest.raises(ProbeError, match="no _xsrf field"):
        login_form_xsrf("<html>default backend - 404</html>")


@pytest.mark.parametrize(
    ("model", "state"),
    [
        ({"name": "learner01", "servers": {}, "pending": None}, "stopped"),
        ({"name": "learner01", "servers": {}, "pending": "spawn"}, "pending: spawn"),
        ({"servers": {"": {"ready": False, "pending": "spawn"}}}, "pending: spawn"),
        ({"servers": {"": {"ready": False, "pending": None}}}, "pending: starting"),
        ({"servers": {"": {"ready": True, "pending": None, "url": "/user/learner01/"}}}, "ready"),
        ({"servers": {"": {"ready": False, "pending": "stop"}}}, "pending: stop"),
        ({"name": "learner01"}, "stopped"),
    ],
)
def test_the_server_state_from_the_user_model(model, state):
    assert server_state(model) == state


def test_the_saved_notebook_s_marker_is_read_back():
    saved = notebook("kube-atelier 42")
    assert saved["type"] == "notebook" and saved["content"]["nbformat"] == 4
    # The contents API gives the source back as a string, or a list of lines.
    assert notebook_marker(saved) == "kube-atelier 42"
    listed = {"content": {"cells": [{"source": ["kube-atelier ", "42"]}]}}
    assert notebook_marker(listed) == "kube-atelier 42"
    with pytest.raises(ProbeError, match="no first cell"):
        notebook_marker({"content": {"cells": []}})


def test_the_hub_s_reason_for_a_failed_start_is_read_from_its_progress():
    # As JupyterHub 5 sends it once KubeSpawner's start timed out.
    failed = (
        'data: {"progress": 100, "failed": true, "message": "Spawn failed: Server at'
        " http://10.244.1.7:8888/user/learner01/ didn't respond in 30 seconds\"}\n\n"
    )
    assert spawn_failure(failed) == (
        "Spawn failed: Server at http://10.244.1.7:8888/user/learner01/"
        " didn't respond in 30 seconds"
    )
    keepalive_then_failed = ':keepalive\n\ndata: {"progress": 100, "failed": true}\n\n'
    assert spawn_failure(keepalive_then_failed) == "Spawn failed"


@pytest.mark.parametrize(
    "progress",
    [
        'data: {"progress": 100, "ready": true, "message": "Server ready at /user/learner01/"}\n\n',
        '{"status": 400, "message": "learner01 is not starting..."}',
        "data: not json\n\n",
        "",
    ],
)
def test_no_reason_when_the_progress_tells_no_failure(progress):
    assert spawn_failure(progress) == ""
