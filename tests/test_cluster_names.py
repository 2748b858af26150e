"""One cluster name, computed once by the inventory plugin: a cohort of 120
clusters names its hosts demo-c001-n1.., and the kubeconfig, the verify result
and the status row of cluster 1 use demo-c001 too (planned offline)."""

from __future__ import annotations

import json
import textwrap

from conftest import plain, run

PROBE = """\
- name: Names derived from the cluster's name
  hosts: demo-c001-n1
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Load the roles' defaults that name cluster files
      ansible.builtin.include_vars:
        file: "{{ item }}"
      loop:
        - ROOT/roles/kubeadm_cluster/defaults/main.yml
        - ROOT/roles/lab_autoscaling/defaults/main.yml
    - name: Write them down
      ansible.builtin.copy:
        content: "{{ [kubeadm_cluster_kubeconfig_name, lab_autoscaling_cluster_name] | to_json }}"
        dest: OUT
        mode: "0644"
"""


def cohort(tmp_path, learners: int):
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "cohort.yml").write_text(
        textwrap.dedent(f"""\
            plugin: atelier.kube.cohort
            fetch_addresses: false
            cohort: demo
            cloud: nowhere
            learners: {learners}
            nodes_per_cluster: 2
            """)
    )
    return folder


def test_a_120_cluster_cohort_names_cluster_1_demo_c001(tmp_path, project_root):
    folder = cohort(tmp_path, 120)
    listed = run(["ansible-inventory", "-i", str(folder), "--list"])
    assert listed.returncode == 0, listed.stderr
    hostvars = plain(json.loads(listed.stdout)["_meta"]["hostvars"])
    assert len(hostvars) == 240
    assert hostvars["demo-c001-n1"]["atelier_cluster_name"] == "demo-c001"
    assert hostvars["demo-c120-n2"]["atelier_cluster_name"] == "demo-c120"
    assert not [h for h in hostvars if h.startswith("demo-c01-")]

    probe = tmp_path / "probe.yml"
    out = tmp_path / "names.json"
    probe.write_text(PROBE.replace("ROOT", str(project_root)).replace("OUT", str(out)))
    shown = run(["ansible-playbook", "-i", str(folder), str(probe)])
    assert shown.returncode == 0, shown.stdout + shown.stderr
    names = json.loads(out.read_text())
    assert names == ["demo-c001-admin.conf", "demo-c001"]


def test_a_small_cohort_keeps_two_digits(tmp_path):
    folder = cohort(tmp_path, 3)
    listed = run(["ansible-inventory", "-i", str(folder), "--host", "demo-c03-n2"])
    assert listed.returncode == 0, listed.stderr
    assert plain(json.loads(listed.stdout))["atelier_cluster_name"] == "demo-c03"
