"""playbooks/status.yml on a cohort whose nodes do not answer: every cluster is
reported not ready with the reason, and the HTML page is written. (The nodes
are pointed at a closed port on loopback: nothing leaves this machine.) The
ready path runs on the sandbox cluster in tests/test_sandbox_main_job.py."""

from __future__ import annotations

import json
import sys

from conftest import run


def test_unreachable_cohort_is_reported_not_ready(tmp_path):
    folder = tmp_path / "k8s-status"
    folder.mkdir()
    (folder / "cohort.yml").write_text(
        json.dumps(
            {
                "plugin": "atelier.kube.cohort",
                "cohort": "k8s-status",
                "cloud": "none",
                "learners": 2,
                "nodes_per_cluster": 2,
            }
        )
    )
    extra = {
        "ansible_python_interpreter": sys.executable,
        "ansible_host": "127.0.0.1",
        "ansible_port": 9,
        "ansible_ssh_common_args": "-o ConnectTimeout=5",
    }
    result = run(
        ["ansible-playbook", "-i", str(folder), "playbooks/status.yml", "-e", json.dumps(extra)],
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "0 of 2 clusters ready" in output
    assert "k8s-status-c01-n1 unreachable" in output
    page = (folder / "artifacts" / "status" / "index.html").read_text()
    assert page.count('<tr class="bad">') == 2
    assert "0 of 2 clusters ready" in page
