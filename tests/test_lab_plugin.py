"""A lab is its role: a minimal lab role (lab_hello) added to a temporary copy
of the project, with no other file changed, is allowed in a cohort file,
deployed by labs.yml (and alone by --tags hello), verified by verify.yml (its
result in artifacts/verify/<cluster>.json and a summary line with its figure,
a failure named), shown by status.yml and printed on the login cards with the
port its cohort overrides. The lab applies to the sandbox control plane (a
real control plane without nodes: a ConfigMap is all it needs); the login
host is this machine (connection local)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.controlplane

HELLO = {
    "defaults/main.yml": """\
        ---
        # lab_hello: the smallest lab, for the plug-in test.
        lab_hello_namespace: lab-hello
        lab_hello_greeting: hi
        lab_hello_expect: hi
        lab_hello_port: 30777
        lab_hello_kubeconfig: >-
          {{ inventory_dir }}/secrets/kubeconfigs/{{ atelier_cluster_name }}-admin.conf
        """,
    "meta/main.yml": """\
        ---
        galaxy_info:
          author: kube-atelier developers
          description: The smallest lab
          license: GPL-3.0-or-later
          min_ansible_version: "2.19"
          platforms: [{name: Debian, versions: [bookworm]}]
        dependencies: []
        """,
    "meta/argument_specs.yml": """\
        ---
        argument_specs:
          main:
            short_description: Deploy the hello lab
            options: &options
              lab_hello_namespace: {type: str, description: Its namespace.}
              lab_hello_greeting: {type: str, description: What its ConfigMap says.}
              lab_hello_expect: {type: str, description: What verify expects it to say.}
              lab_hello_port: {type: int, description: The port its card link names.}
              lab_hello_kubeconfig: {type: str, description: The admin kubeconfig.}
          verify:
            short_description: Verify the hello lab
            options: *options
        """,
    "meta/lab.yml": """\
        ---
        name: hello
        title: Hello
        workloads:
          - {kind: ConfigMap, namespace: "{{ lab_hello_namespace }}", name: hello}
        links:
          - {label: Hello page, port: "{{ lab_hello_port }}", path: /hello}
        verify:
          result: lab_hello_verify_result
          figure: {key: greeting, text: "it says {}"}
        """,
    "tasks/main.yml": """\
        ---
        - name: Apply the hello namespace and ConfigMap
          kubernetes.core.k8s:
            kubeconfig: "{{ lab_hello_kubeconfig }}"
            apply: true
            definition:
              - {apiVersion: v1, kind: Namespace, metadata: {name: "{{ lab_hello_namespace }}"}}
              - apiVersion: v1
                kind: ConfigMap
                metadata: {name: hello, namespace: "{{ lab_hello_namespace }}"}
                data: {greeting: "{{ lab_hello_greeting }}"}
          delegate_to: localhost
          become: false
        """,
    "tasks/verify.yml": """\
        ---
        - name: Check the greeting
          block:
            - name: Read the ConfigMap
              kubernetes.core.k8s_info:
                kubeconfig: "{{ lab_hello_kubeconfig }}"
                kind: ConfigMap
                namespace: "{{ lab_hello_namespace }}"
                name: hello
              register: lab_hello_found
              delegate_to: localhost
              become: false
            - name: Check it says what is expected
              ansible.builtin.assert:
                that: lab_hello_found.resources[0].data.greeting == lab_hello_expect
                fail_msg: >-
                  it says {{ lab_hello_found.resources[0].data.greeting }},
                  not {{ lab_hello_expect }}
            - name: Record the pass
              ansible.builtin.set_fact:
                lab_hello_verify_result:
                  passed: true
                  reason: all checks passed
                  checks: [ConfigMap hello read]
                  greeting: "{{ lab_hello_found.resources[0].data.greeting }}"
          rescue:
            - name: Record the failure
              ansible.builtin.set_fact:
                lab_hello_verify_result:
                  passed: false
                  reason: "{{ ansible_failed_task.name }}: {{ ansible_failed_result.msg }}"
                  checks: []
        """,
}


@pytest.fixture(scope="module")
def project(tmp_path_factory, kubeconfig: Path):
    """A copy of the project's tracked files plus roles/lab_hello, and a cohort
    'hello' of one 1-node cluster whose login host is this machine."""
    copy = tmp_path_factory.mktemp("project") / "kube-atelier"
    tracked = (
        subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, tracked):
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    for name, text in HELLO.items():
        (copy / "roles/lab_hello" / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / "roles/lab_hello" / name).write_text(textwrap.dedent(text))

    cohort = copy / "inventories/hello"
    cohort.mkdir(parents=True)
    local = {
        "ansible_connection": "local",
        "ansible_become": False,
        "ansible_python_interpreter": sys.executable,
        "status_kubeconfig": str(kubeconfig),
    }
    (cohort / "cohort.yml").write_text(
        json.dumps(
            {
                "plugin": "atelier.kube.cohort",
                "fetch_addresses": False,
                "cohort": "hello",
                "cloud": "none",
                "learners": ["learner01"],
                "nodes_per_cluster": 1,
                "labs": ["hello"],
                "vars": {"lab_hello_port": 30778},
                "host_overrides": {"hello-c01-n1": local},
            }
        )
    )
    (cohort / "secrets/kubeconfigs").mkdir(parents=True)
    shutil.copy(kubeconfig, cohort / "secrets/kubeconfigs/hello-c01-admin.conf")
    (cohort / "secrets/learners").mkdir()
    (cohort / "secrets/learners/learner01.password").write_text(
        "Pw4Learner01xyz salt=abcdefgh12345678"
    )
    yield copy
    subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), "delete", "namespace", "lab-hello",
         "--ignore-not-found", "--wait=false"],
        capture_output=True, check=False,
    )  # fmt: skip


def playbook(project: Path, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    bin_dir = os.environ.get("ATELIER_K8S_BIN_DIR", "")
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(project / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        PATH=f"{bin_dir}:{os.environ['PATH']}" if bin_dir else os.environ["PATH"],
    )
    return subprocess.run(
        ["ansible-playbook", "-i", "inventories/hello", f"playbooks/{name}", *args],
        cwd=project, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def test_the_new_lab_is_deployed_verified_shown_and_printed(project, api):
    from kubernetes import client  # noqa: PLC0415

    deployed = playbook(project, "labs.yml")
    assert deployed.returncode == 0, deployed.stdout[-4000:]
    found = client.CoreV1Api(api).read_namespaced_config_map("hello", "lab-hello")
    assert found.data == {"greeting": "hi"}

    verified = playbook(project, "verify.yml")
    assert verified.returncode == 0, verified.stdout[-4000:]
    assert "1/1 cluster labs passed" in verified.stdout
    assert "hello-c01 hello: passed, it says hi" in verified.stdout
    result = json.loads((project / "inventories/hello/artifacts/verify/hello-c01.json").read_text())
    assert result["cluster"] == "hello-c01"
    assert result["labs"]["hello"]["passed"] is True
    assert result["labs"]["hello"]["greeting"] == "hi"
    assert result["labs"]["hello"]["ended"]

    status = playbook(project, "status.yml")
    assert status.returncode == 0, status.stdout[-4000:]
    assert "hello:ok" in status.stdout
    page = (project / "inventories/hello/artifacts/status/index.html").read_text()
    assert "hello: ok" in page

    cards = playbook(project, "cards.yml")
    assert cards.returncode == 0, cards.stdout[-4000:]
    card = (project / "inventories/hello/artifacts/cards/cards.html").read_text()
    assert "Hello page" in card and ":30778/hello" in card
    assert "podinfo" not in card and "Prometheus" not in card


def test_the_new_lab_runs_alone_with_its_tag(project, api):
    """--tags hello deploys the lab (its ConfigMap, deleted first, is back);
    --tags autoscaling, a lab this cohort does not enable, leaves it alone."""
    from kubernetes import client  # noqa: PLC0415

    core = client.CoreV1Api(api)

    def greeting_with(*args: str) -> str | None:
        core.delete_namespaced_config_map("hello", "lab-hello")
        ran = playbook(project, "labs.yml", *args)
        assert ran.returncode == 0, ran.stdout[-4000:]
        found = core.list_namespaced_config_map("lab-hello", field_selector="metadata.name=hello")
        return found.items[0].data["greeting"] if found.items else None

    assert greeting_with("--tags", "hello") == "hi"
    assert greeting_with("--tags", "autoscaling") is None
    playbook(project, "labs.yml")  # as the other tests found it


def test_a_failed_lab_fails_the_summary_naming_it(project):
    failed = playbook(project, "verify.yml", "-e", "lab_hello_expect=bye")
    assert failed.returncode != 0
    assert "0/1 cluster labs passed" in failed.stdout
    assert "hello-c01 hello: FAILED (Check it says what is expected: it says hi, not bye)" in (
        failed.stdout
    )
    result = json.loads((project / "inventories/hello/artifacts/verify/hello-c01.json").read_text())
    assert result["labs"]["hello"]["passed"] is False


def test_a_cohort_naming_a_lab_without_a_role_is_refused(project, tmp_path):
    cohort = tmp_path / "bad"
    cohort.mkdir()
    (cohort / "cohort.yml").write_text(
        json.dumps({"plugin": "atelier.kube.cohort", "fetch_addresses": False, "cohort": "bad",
                    "cloud": "none", "learners": 1, "labs": ["hello", "helo", "hadoop"]})
    )  # fmt: skip
    env = dict(os.environ, ANSIBLE_CONFIG=str(project / "ansible.cfg"))
    listed = subprocess.run(
        ["ansible-inventory", "-i", str(cohort), "--list"],
        cwd=project, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert listed.returncode != 0
    assert "labs[1]: 'helo' is not a lab (did you mean 'hello'?) (allowed: autoscaling, hello" in (
        listed.stderr
    )
    assert "labs[2]: 'hadoop' is not a lab" in listed.stderr
