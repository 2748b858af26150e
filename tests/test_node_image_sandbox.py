"""The baked node image on the sandbox (docs/node-image.md): the main job's
first stage bakes it with the node roles on a builder (a podman container
standing in for the builder server of the sandbox cloud, whose fake compute
writes no snapshot: the container is committed and uploaded as the image's
data); the nodes boot from it and install nothing. Then what a trainer meets:
a cohort whose roles or pins moved since the bake is stopped before any
server is made, naming what differs; a failed bake leaves no builder and no
image; the generalize step removes a machine's identity."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, run
from test_sandbox_main_job import NODES

pytestmark = pytest.mark.podman


def cloud():
    import openstack  # noqa: PLC0415 (the sandbox cloud's clouds.yaml is in the environment)

    return openstack.connect(cloud="sandbox")


def baked_images(cohort: str = "sandbox") -> list:
    return [
        image
        for image in cloud().image.images()
        if (image.properties or {}).get("kube_atelier_baked_by") == cohort
    ]


def cohort_servers(cohort: str = "sandbox") -> list[tuple[str, str]]:
    """The cohort's servers (name, id): the sandbox cloud is shared with the
    lanes that provision other cohorts meanwhile."""
    return sorted(
        (server.name, server.id)
        for server in cloud().compute.servers(details=True)
        if (server.metadata or {}).get("atelier_cohort") == cohort
    )


def podman(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=check)


def sandbox_env() -> dict[str, str]:
    """What scripts/run.sh exports for the sandbox: the built binaries' and
    images' folders (cached, so this only reads their paths)."""
    folders = {
        "ATELIER_K8S_BIN_DIR": ["scripts/build-k8s-artifacts.sh", "--bin-dir"],
        "ATELIER_K8S_IMAGE_DIR": ["scripts/build-k8s-images.sh", "--dir"],
        "ATELIER_LAB_IMAGE_DIR": ["scripts/build-lab-images.sh", "--dir"],
    }
    return {name: run(command).stdout.strip() for name, command in folders.items()}


def copy_of_the_sandbox_cohort(tmp_path, **changes):
    """inventories/sandbox in tmp_path, with fields of its cohort file changed."""
    folder = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventories/sandbox", folder,
                    ignore=shutil.ignore_patterns("secrets", "artifacts"))  # fmt: skip
    cohort = yaml.safe_load((folder / "cohort.yml").read_text())
    for key, value in changes.items():
        if key == "vars":
            cohort["vars"].update(value)
        else:
            cohort[key] = value
    (folder / "cohort.yml").write_text(yaml.safe_dump(cohort, sort_keys=False))
    return folder


def failing_run(inventory, playbook: str) -> str:
    """A playbook on an inventory that must fail: its output, each run of
    whitespace made one space (the result callback folds long messages)."""
    result = run(
        ["ansible-playbook", "-i", str(inventory), playbook], env=sandbox_env(), timeout=900
    )
    assert result.returncode != 0, result.stdout[-3000:]
    return " ".join(result.stdout.split())


def test_the_main_job_baked_the_image_it_booted(main_job):
    """One active image baked by the sandbox cohort, with its components as
    properties; every node runs the podman image of that name."""
    images = baked_images()
    assert [image.status for image in images] == ["active"], [i.name for i in images]
    image = images[0]
    assert image.name.startswith("kube-atelier-node-k8s-v1.34-")
    props = image.properties
    assert props["kube_atelier_kubernetes_version"] == "1.34"
    assert props["kube_atelier_base_image"] == "debian-12-sandbox"
    assert props["kube_atelier_labs"] == "autoscaling,jupyterhub,scheduling,spark"
    assert props["kube_atelier_digest"].startswith(image.name.rsplit("-", 1)[1])
    assert image.size > 100 * 2**20
    assert image.container_format == "docker"
    for node in NODES:
        booted = podman("container", "inspect", "-f", "{{.ImageName}}", node).stdout.strip()
        assert booted == f"localhost/kube-atelier-node:{image.name}", node


def test_the_builder_is_gone(main_job):
    names = [server.name for server in cloud().compute.servers()]
    assert "sandbox-image-builder" not in names
    assert podman("container", "exists", "sandbox-image-builder", check=False).returncode == 1


def test_the_image_holds_no_identity_and_nothing_of_a_cluster(main_job):
    """Empty machine-id, no SSH host keys, no cloud-init state; kubeadm, the
    kubelet, containerd, hey and the Spark client installed, but no cluster
    configuration."""
    name = baked_images()[0].name
    script = (
        "wc -c </etc/machine-id; ls /etc/ssh/ssh_host_* /var/lib/cloud 2>/dev/null | wc -l;"
        " for tool in kubeadm kubelet containerd hey spark-submit;"
        " do command -v $tool; done | wc -l;"
        " ls /etc/kubernetes/admin.conf /etc/kubernetes/pki /var/lib/kubelet/config.yaml"
        " /etc/kubernetes/kubeadm-config.yaml 2>/dev/null | wc -l"
    )
    out = podman("run", "--rm", "--entrypoint", "sh", f"localhost/kube-atelier-node:{name}",
                 "-c", script).stdout.split()  # fmt: skip
    assert out == ["0", "0", "5", "0"], out


def test_each_node_s_containerd_store_links_to_the_bake_s(main_job):
    """The bake's containerd store (kept beside its podman image, as a
    volume a commit leaves out) seeded each node's volume with hard links:
    no node copied the GBs of preloaded images."""
    name = baked_images()[0].name
    cache = Path(os.environ.get("ATELIER_CACHE", Path.home() / ".cache/kube-atelier"))
    store = cache / "baked" / f"{name}.containerd"
    blobs = store / "io.containerd.content.v1.content/blobs/sha256"
    blob = max(blobs.iterdir(), key=lambda path: path.stat().st_size)
    assert blob.stat().st_size > 100 * 2**20
    assert blob.stat().st_nlink >= 1 + len(NODES)


def test_nodes_booted_from_it_installed_nothing_and_imported_no_image(main_job):
    """The main job's own output: the package and import tasks changed
    nothing on the nodes (the bake had done it), and every lab image is
    present on each worker."""
    # The nodes' part of the run, past the bake on its builder.
    output = main_job.stdout.split("PLAY [Provision the cohort on its cloud]", 1)[1]
    for task in (
        "node_base : Install the packages every node needs",
        "container_runtime : Install the distribution's containerd and runc",
    ):
        section = output.split(f"TASK [{task}]", 1)[1].split("TASK [", 1)[0]
        assert "changed:" not in section, section
        assert all(f"ok: [{node}]" in section for node in NODES), section
    imported = "TASK [container_runtime : Import the archives into containerd's k8s.io namespace]"
    section = output.split(imported, 1)[1].split("TASK [", 1)[0]
    assert "changed:" not in section, "an image was imported on a node booted from the baked image"
    listed = podman("exec", NODES[1], "ctr", "-n", "k8s.io", "images", "ls", "-q").stdout.split()
    assert "docker.io/apache/spark:4.1.2" in listed
    assert "quay.io/jupyterhub/k8s-hub:4.4.0" in listed


def test_a_rerun_finds_the_image_and_bakes_nothing(main_job):
    result = run(["scripts/run.sh", "--tags", "image"], timeout=600)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "is in the image service: nothing to bake" in " ".join(result.stdout.split())
    assert "changed=0" in result.stdout and "changed=1" not in result.stdout


def test_roles_or_pins_moved_since_the_bake_stop_provisioning_naming_them(main_job, tmp_path):
    folder = copy_of_the_sandbox_cohort(tmp_path, kubernetes_version="1.33")
    before = cohort_servers()
    output = failing_run(folder, "playbooks/provision.yml")
    assert "bake: the cohort boots kube-atelier-node-k8s-v1.33-" in output, output[-3000:]
    assert "kubernetes_version: image has 1.34, wanted 1.33" in output
    assert "Bake it: ansible-playbook playbooks/image.yml" in output
    assert "TASK [openstack_cohort" not in output
    assert cohort_servers() == before


def test_a_failed_bake_leaves_no_builder_and_no_image(main_job, tmp_path):
    """A bad input in a node role fails the bake on its builder: the builder
    server, its machine and any image are gone; the cohort's network is then
    torn down by the test."""
    folder = copy_of_the_sandbox_cohort(
        tmp_path, cohort="bakefail", vars={"node_base_extra_packages": {"not": "a list"}}
    )
    try:
        output = failing_run(folder, "playbooks/image.yml")
        assert "The bake of kube-atelier-node-k8s-v1.34-" in output, output[-3000:]
        assert "no image was kept and the builder is deleted" in output
        assert "bakefail-image-builder" not in [s.name for s in cloud().compute.servers()]
        assert podman("container", "exists", "bakefail-image-builder", check=False).returncode == 1
        assert baked_images("bakefail") == []
    finally:
        run(["ansible-playbook", "-i", str(folder), "playbooks/teardown.yml",
             "-e", "teardown_confirmed=true"], env=sandbox_env())  # fmt: skip


def test_generalize_removes_a_machine_s_identity(tmp_path):
    """playbooks/tasks/node_image_generalize.yml on a sandbox machine given an
    identity first (SSH host keys, machine-id, cloud-init state, an
    authorized key, logs): all of it is gone afterwards."""
    name = "generalize-image-builder"
    machines = str(ROOT / "scripts/sandbox-nodes.sh")
    started = run([machines, "start", name], timeout=300)
    assert started.returncode == 0, started.stderr
    try:
        podman("exec", name, "sh", "-c",
               "mkdir -p /etc/ssh /var/lib/cloud/instance /root/.ssh /var/log/apt"
               " && echo key >/etc/ssh/ssh_host_ed25519_key"
               " && echo pub >/etc/ssh/ssh_host_ed25519_key.pub"
               " && echo ssh-ed25519 AAAA builder >/root/.ssh/authorized_keys"
               " && echo log >/var/log/apt/history.log"
               " && echo done >/var/lib/cloud/instance/boot-finished"
               # containerd stands in as a unit that does nothing: the step stops it.
               " && printf '[Service]\\nType=oneshot\\nExecStart=/bin/true\\n"
               "RemainAfterExit=yes\\n'"
               " >/etc/systemd/system/containerd.service && systemctl daemon-reload"
               " && systemctl start containerd && test -s /etc/machine-id")  # fmt: skip
        play = tmp_path / "play.yml"
        play.write_text(
            "- name: Generalize\n  hosts: all\n  gather_facts: true\n"
            "  vars: {sandbox_machines: true}\n  tasks:\n"
            "    - name: The bake's generalize step\n"
            "      ansible.builtin.import_tasks:"
            f" {ROOT}/playbooks/tasks/node_image_generalize.yml\n"
        )
        result = run(["ansible-playbook", "-i", f"{name},", "-c", "containers.podman.podman",
                      "-e", "ansible_python_interpreter=/usr/bin/python3", str(play)])  # fmt: skip
        assert result.returncode == 0, result.stdout[-3000:]
        left = podman("exec", name, "sh", "-c",
                      "ls /etc/ssh/ssh_host_* /var/lib/cloud /root/.ssh/authorized_keys"
                      " /var/log/apt/history.log 2>/dev/null; wc -c </etc/machine-id;"
                      " systemctl is-active containerd", check=False)  # fmt: skip
        assert left.stdout.split() == ["0", "inactive"], left.stdout
    finally:
        run([machines, "remove", name], timeout=120)
