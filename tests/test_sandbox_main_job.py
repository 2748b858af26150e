"""The README's main job on the local sandbox: scripts/run.sh starts the sandbox
cloud (real OpenStack APIs, fake compute driver) and three podman nodes (a
stand-in for the servers: real systemd, apt and networking, the host's kernel),
then runs playbooks/site.yml: provisioning on the sandbox cloud, then the node,
Kubernetes and access stages on the containers, through the offline sources
(binaries and images built from Go modules, Debian's containerd, Go and hey).
The result is a real cluster: kubeadm init and joins, Flannel, 3 Ready nodes;
a Deployment answers over a Service. No address the cloud invents is ever
contacted."""

from __future__ import annotations

import json
import re
import subprocess
import time

import pytest
import test_lab_scheduling_sandbox as scheduling
from conftest import ROOT, run, wait_for

pytestmark = pytest.mark.podman
NODES = ["sandbox-c01-n1", "sandbox-c01-n2", "sandbox-c01-n3"]
ADDRESS_FORMAT = "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"
# What verify writes for the cluster (playbooks/verify.yml, status.yml reads it).
VERIFY_RESULT = ROOT / "inventories/sandbox/artifacts/verify/sandbox-c01.json"


# main_job (conftest.py): scripts/run.sh on the sandbox, once for the session;
# tests/test_sandbox_recovery.py goes on with the same cluster.


def recap(output: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP counters per host."""
    counters = {}
    for host, fields in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", output, re.M):
        counters[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", fields)}
    return counters


def test_main_job_succeeds_on_every_node(main_job):
    assert main_job.returncode == 0, main_job.stdout[-3000:] + main_job.stderr[-3000:]
    counters = recap(main_job.stdout)
    # The image builder is in the recap when this run baked (the roles or pins
    # changed since the last bake).
    assert sorted(set(counters) - {"sandbox-image-builder"}) == ["localhost", *NODES]
    assert all(c["failed"] == 0 and c["unreachable"] == 0 for c in counters.values())


def test_the_nodes_are_reached_over_ssh_with_the_cohort_key(main_job):
    """As on a cloud: the cohort's key is root's authorized key on each node
    (cloud-init's part, played by sandbox-nodes.sh), and the cohort's
    ssh_config names each node at its container's address, private to root."""
    secrets = ROOT / "inventories/sandbox/secrets"
    config = secrets / "ssh_config"
    assert config.stat().st_mode & 0o777 == 0o600
    key = (secrets / "id_ed25519.pub").read_text().strip()
    for node in NODES:
        address = subprocess.run(
            ["podman", "container", "inspect", "-f",
             "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", node],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        assert f"Host {node}\n  HostName {address}\n" in config.read_text()
        assert on_node(node, "cat", "/root/.ssh/authorized_keys").stdout.strip() == key
        hostname = subprocess.run(
            ["ssh", "-F", str(config), "-i", str(secrets / "id_ed25519"), "-o", "BatchMode=yes",
             f"root@{node}", "hostname"],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        assert hostname.stdout.strip() == node, hostname.stderr


def test_main_job_provisioned_the_sandbox_servers(main_job):
    """The servers exist on the sandbox cloud, ACTIVE, with the cohort's metadata
    (read from the cloud's API, not from the play's output)."""
    import openstack  # noqa: PLC0415 (the sandbox cloud's clouds.yaml is in the environment)

    cloud = openstack.connect(cloud="sandbox")
    servers = {
        server.name: server
        for server in cloud.compute.servers(details=True)
        if (server.metadata or {}).get("atelier_cohort") == "sandbox"
    }
    assert sorted(servers) == NODES
    assert {server.status for server in servers.values()} == {"ACTIVE"}
    assert servers[NODES[0]].metadata["atelier_role"] == "control_plane"


def test_main_job_says_what_it_could_not_apply(main_job):
    assert "Not applied in this container" in main_job.stdout


@pytest.mark.parametrize("node", NODES)
def test_every_node_resolves_the_whole_cluster(main_job, node):
    addresses = {}
    for peer in NODES:
        address = subprocess.run(
            ["podman", "inspect", "-f", ADDRESS_FORMAT, peer],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        addresses[peer] = address
    for peer, address in addresses.items():
        resolved = subprocess.run(
            ["podman", "exec", node, "getent", "-s", "files", "hosts", peer],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        assert resolved[0] == address, f"{node} resolves {peer} to {resolved}, expected {address}"


@pytest.mark.parametrize("node", NODES)
def test_every_node_has_the_pinned_kubernetes_binaries_and_containerd(main_job, node):
    version = subprocess.run(
        ["podman", "exec", node, "kubeadm", "version", "-o", "short"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert version == "v1.34.4"
    containerd = subprocess.run(
        ["podman", "exec", node, "systemctl", "is-active", "containerd"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    assert containerd == "active"


def test_control_plane_config_was_validated_by_kubeadm(main_job):
    """The config kubeadm init used is one the pinned kubeadm accepts (checked
    again here: a banner in the output would be printed for a skipped task too)."""
    validated = subprocess.run(
        ["podman", "exec", NODES[0], "kubeadm", "config", "validate",
         "--config", "/etc/kubernetes/kubeadm-config.yaml"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert validated.returncode == 0, validated.stdout + validated.stderr
    config = subprocess.run(
        ["podman", "exec", NODES[0], "cat", "/etc/kubernetes/kubeadm-config.yaml"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "kubernetesVersion: v1.34.4" in config
    assert "podSubnet: 10.244.0.0/16" in config


def test_login_host_has_hey_and_go(main_job):
    go = on_node(NODES[0], "go", "version", user="learner01")
    assert go.returncode == 0, go.stderr
    assert re.match(r"go version go1\.\d+(\.\d+)? linux/amd64$", go.stdout.strip()), go.stdout
    # hey has no version flag; -h prints its usage and exits 2.
    hey = on_node(NODES[0], "hey", "-h", user="learner01")
    assert hey.returncode == 2 and "Usage: hey [options...] <url>" in hey.stderr, hey.stderr


def on_node(node: str, *command: str, stdin: str | None = None, user: str | None = None):
    """A command on a sandbox node (as root, or as user through a login shell)."""
    if user:
        command = ("su", "-", user, "-c", " ".join(command))
    return subprocess.run(
        ["podman", "exec", "-i", node, *command], input=stdin, capture_output=True, text=True,
        check=False, timeout=300,
    )  # fmt: skip


def kubectl(*args: str, stdin: str | None = None):
    return on_node(
        NODES[0], "kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf", *args, stdin=stdin
    )


def node_address(node: str) -> str:
    return subprocess.run(
        ["podman", "inspect", "-f", ADDRESS_FORMAT, node],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def ready_nodes() -> dict[str, bool]:
    """{node: Ready} as the control plane lists them ({} when it does not answer)."""
    listed = kubectl("get", "nodes", "-o", "json")
    if listed.returncode != 0:
        return {}
    nodes = json.loads(listed.stdout)["items"]
    return {
        node["metadata"]["name"]: any(
            c["type"] == "Ready" and c["status"] == "True" for c in node["status"]["conditions"]
        )
        for node in nodes
    }


def test_cluster_has_three_ready_nodes(main_job):
    assert ready_nodes() == dict.fromkeys(NODES, True)
    nodes = json.loads(kubectl("get", "nodes", "-o", "json").stdout)["items"]
    versions = {node["status"]["nodeInfo"]["kubeletVersion"] for node in nodes}
    assert versions == {"v1.34.4"}


# busybox httpd from the preloaded kube-proxy image (its Debian root has
# busybox): no registry, no extra image. Each pod answers with its name.
WEB = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: registry.k8s.io/kube-proxy:v1.34.4
          imagePullPolicy: Never
          command:
            - busybox
            - sh
            - -c
            - hostname > /tmp/index.html; exec busybox httpd -f -p 8080 -h /tmp
          ports: [{containerPort: 8080}]
          readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 2}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080, nodePort: 30080}]
"""
FETCH = (
    "import sys, urllib.request;"
    " print(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode().strip())"
)


def fetch_from(node: str, url: str, deadline: float) -> str:
    """The body at url seen from node, retried: pods are Ready a moment before
    every kube-proxy has programmed the Service."""
    while True:
        result = on_node(node, "python3", "-c", FETCH, url)
        if result.returncode == 0 or time.monotonic() > deadline:
            assert result.returncode == 0, f"{node} -> {url}: {result.stderr[-500:]}"
            return result.stdout.strip()
        time.sleep(2)


def test_service_addresses_never_leave_the_sandbox(main_job):
    """A dial to a Service address kube-proxy has not translated (here one no
    Service has) is refused on the host, at once, by sandbox-nodes.sh's guard:
    without it, it left the host and this machine's egress proxy answered."""
    table = subprocess.run(
        ["nft", "list", "table", "inet", "kube_atelier_sandbox"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert table.returncode == 0, table.stderr
    assert "10.96.0.0/12" in table.stdout and "reject with tcp reset" in table.stdout
    started = time.monotonic()
    dial = on_node(NODES[0], "curl", "-sk", "-m", "10", "https://10.111.222.233:443/")
    assert dial.returncode == 7, dial  # curl: could not connect
    assert time.monotonic() - started < 5


def test_a_deployment_answers_over_its_service_and_nodeport(main_job):
    applied = kubectl("apply", "-f", "-", stdin=WEB)
    assert applied.returncode == 0, applied.stderr
    rollout = kubectl("rollout", "status", "deployment/web", "--timeout=180s")
    assert rollout.returncode == 0, rollout.stdout + rollout.stderr
    pods = set(
        kubectl(
            "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}"
        ).stdout.split()
    )
    cluster_ip = kubectl("get", "service", "web", "-o", "jsonpath={.spec.clusterIP}").stdout
    deadline = time.monotonic() + 120
    for index, node in enumerate(NODES):
        assert fetch_from(node, f"http://{cluster_ip}/", deadline) in pods
        other = NODES[(index + 1) % len(NODES)]
        assert fetch_from(node, f"http://{node_address(other)}:30080/", deadline) in pods
    kubectl("delete", "-f", "-", stdin=WEB)


def test_the_learner_has_a_kubeconfig_of_their_own(main_job):
    mode = on_node(NODES[0], "stat", "-c", "%a %U", "/home/learner01/.kube/config").stdout.split()
    assert mode == ["600", "learner01"]
    username = "jsonpath={.status.userInfo.username}"
    whoami = on_node(NODES[0], "kubectl", "auth", "whoami", "-o", username, user="learner01")
    assert whoami.stdout == "learner01", whoami.stderr
    nodes = on_node(NODES[0], "kubectl", "get", "nodes", "-o", "name", user="learner01")
    assert len(nodes.stdout.split()) == 3, nodes.stderr


def test_namespace_mode_confines_the_learner_and_can_be_undone(main_job):
    """learner_access_kubeconfig: namespace (learners sharing a cluster) on a
    cohort that had cluster-admin: the learner keeps their kubeconfig, loses
    the cluster, is admin of their own namespace; switching back restores it."""
    access = ["ansible-playbook", "-i", "inventories/sandbox", "playbooks/access.yml"]
    namespaced = [*access, "-e", "learner_access_kubeconfig=namespace"]
    switched = run(namespaced)
    assert switched.returncode == 0, switched.stdout[-3000:]
    nodes = on_node(NODES[0], "kubectl", "get", "nodes", user="learner01")
    assert "Forbidden" in nodes.stderr, nodes
    default = on_node(NODES[0], "kubectl", "config", "view", "--minify", "-o",
                      "jsonpath={..namespace}", user="learner01")  # fmt: skip
    assert default.stdout == "learner01"
    can = on_node(NODES[0], "kubectl", "auth", "can-i", "create", "deployments", user="learner01")
    assert can.stdout.strip() == "yes", can
    elsewhere = on_node(NODES[0], "kubectl", "auth", "can-i", "create", "deployments", "-n",
                        "default", user="learner01")  # fmt: skip
    assert elsewhere.stdout.strip() == "no", elsewhere
    again = run(namespaced)
    assert recap(again.stdout)["sandbox-c01-n1"]["changed"] == 0, again.stdout[-3000:]
    back = run(access)
    assert back.returncode == 0, back.stdout[-3000:]
    nodes = on_node(NODES[0], "kubectl", "get", "nodes", "-o", "name", user="learner01")
    assert len(nodes.stdout.split()) == 3, nodes.stderr
    kubectl("delete", "namespace", "learner01", "--wait=false")


def test_a_learner_without_a_key_logs_in_with_the_cards_credentials(main_job):
    """learner01 has no SSH key: password login is on for them (and only them)
    and their login card prints the password. ssh goes to the login host's
    container, the sandbox's stand-in for the address the card prints (the
    sandbox cloud's invented floating IP, never contacted)."""
    card = the_learners_card()
    assert card["user"] == "learner01" and card["password"], "the card must print the password"
    assert card["ssh"] == f"ssh learner01@{card['host']}"
    login = log_in_with(card)
    assert login.returncode == 0, login.stderr
    assert login.stdout.split() == ["learner01", *(f"node/{node}" for node in NODES)]


def labs_playbook(*args: str) -> subprocess.CompletedProcess:
    """playbooks/labs.yml on the sandbox cohort, with args (tags, extra vars)."""
    return run(["ansible-playbook", "-i", "inventories/sandbox", "playbooks/labs.yml", *args],
               timeout=900)  # fmt: skip


def the_learners_card() -> dict:
    """learner01's login card, as playbooks/cards.yml prints it now."""
    cards = run(["ansible-playbook", "-i", "inventories/sandbox", "playbooks/cards.yml"])
    assert cards.returncode == 0, cards.stdout[-3000:]
    [card] = [
        json.loads(line)
        for line in (ROOT / "inventories/sandbox/artifacts/cards/logins.jsonl")
        .read_text()
        .splitlines()
    ]
    return card


def log_in_with(card: dict) -> subprocess.CompletedProcess:
    """ssh with exactly the card's user and password, to the login host's container."""
    return subprocess.run(
        ["sshpass", "-e", "ssh", "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "PreferredAuthentications=password",
         "-o", "PubkeyAuthentication=no", "-o", "ConnectTimeout=10",
         f"{card['user']}@{node_address(NODES[0])}", "id -un; kubectl get nodes -o name"],
        env={"SSHPASS": card["password"], "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def status_row() -> list[str]:
    """The sandbox cluster's row of the status table (playbooks/status.yml)."""
    status = run(["ansible-playbook", "-i", "inventories/sandbox", "playbooks/status.yml"])
    assert status.returncode == 0, status.stdout[-3000:]
    return re.search(r"^\s*- (sandbox-c01 .*)$", status.stdout, re.M).group(1).split()


def test_status_reports_the_cluster(main_job):
    row = status_row()
    labs = ["autoscaling:ok", "scheduling:ok", "spark:ok", "jupyterhub:ok"]
    assert row == ["sandbox-c01", "3/3", "3/3", *labs, "1/1", "yes"]


def test_kubectl_top_nodes_works(main_job):
    top = kubectl("top", "nodes", "--no-headers")
    assert top.returncode == 0, top.stderr
    assert sorted(line.split()[0] for line in top.stdout.splitlines()) == NODES


def test_the_autoscaling_lab_passed_verify_with_a_scale_out(main_job):
    """The verify stage of the main job: the APIs, the HPA, the custom metric,
    then hey from the login host until the HPA scaled podinfo out."""
    result = json.loads(VERIFY_RESULT.read_text())
    lab = result["labs"]["autoscaling"]
    assert lab["passed"], lab
    assert lab["replicas_under_load"] > lab["replicas_before"]["min"] == 2
    assert 0 < lab["scale_out_seconds"] < 300
    assert any("Requests/sec" in line for line in lab["hey_summary"]), lab["hey_summary"]
    assert "4/4 cluster labs passed" in main_job.stdout


def test_the_scheduling_lab_placed_each_pod_on_the_coldest_worker(main_job):
    scheduling.verify_passed(json.loads(VERIFY_RESULT.read_text()))
    scheduling.verify_left_nothing(kubectl)


def test_the_heat_scheduler_runs_as_designed(main_job):
    scheduling.scheduler_runs_as_designed(kubectl)


def test_the_spark_lab_ran_sparkpi_as_a_learner(main_job):
    lab = json.loads(VERIFY_RESULT.read_text())["labs"]["spark"]
    assert lab["passed"], lab
    assert 0 < lab["pi_seconds"] < 600
    assert any("Pi is roughly 3.14" in check for check in lab["checks"]), lab["checks"]


def test_the_cluster_has_a_default_storage_class_that_binds_on_a_worker(main_job):
    """cluster_storage's local-path provisioner, marked default; the role's own
    check (a claim bound, written and read back by two pods) passed in the run."""
    classes = json.loads(kubectl("get", "storageclass", "-o", "json").stdout)["items"]
    default = "storageclass.kubernetes.io/is-default-class"
    marked = [
        c["metadata"]["name"]
        for c in classes
        if c["metadata"].get("annotations", {}).get(default) == "true"
    ]
    assert marked == ["local-path"], marked
    # The role's check ran, and passed, on the login host (a skipped task
    # prints its banner too, followed by "skipping").
    banner = "TASK [cluster_storage : Check it is Bound to a volume of the default class]"
    assert banner in main_job.stdout
    after = main_job.stdout[main_job.stdout.index(banner) :]
    result = re.search(r"^(ok|changed|skipping|fatal): \[([^\]\s]+)", after, re.M)
    assert result and result.groups() == ("ok", NODES[0]), after[:1000]
    left = kubectl("get", "namespace", "kube-atelier-storage-check")
    assert left.returncode != 0, "the storage check left its namespace"


def test_the_jupyterhub_lab_kept_a_learner_s_notebook(main_job):
    """verify's visit, as learner01 with their card's password through the
    NodePort: login, a server with claim-learner01 Bound, a notebook kept
    across a restart, another user's server refused, the server stopped."""
    lab = json.loads(VERIFY_RESULT.read_text())["labs"]["jupyterhub"]
    assert lab["passed"], lab
    assert 0 < lab["spawn_seconds"] < 300
    assert "a wrong password is refused" in lab["checks"]
    assert (
        "the notebook is still there after the server was stopped and started again"
        in lab["checks"]
    )
    assert any(check.startswith("claim-learner01 Bound (local-path)") for check in lab["checks"]), (
        lab["checks"]
    )
    # Stopped at the end; the learner's volume stays for the class.
    assert kubectl("get", "pod", "-n", "jupyterhub", "jupyter-learner01").returncode != 0
    claim = kubectl(
        "get", "pvc", "-n", "jupyterhub", "claim-learner01", "-o", "jsonpath={.status.phase}"
    )
    assert claim.stdout == "Bound"


def test_the_login_card_prints_the_hub(main_job):
    """The printed card (cards.html) links the enabled labs' pages on the login
    host, the hub's login page among them (logins.jsonl has no links)."""
    card = the_learners_card()
    printed = (ROOT / "inventories/sandbox/artifacts/cards/cards.html").read_text()
    assert f"http://{card['host']}:30880/hub/login" in printed


def test_the_custom_metric_is_served_for_podinfo(main_job):
    path = "/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/*/http_requests"
    served = json.loads(kubectl("get", "--raw", path).stdout)
    pods = {item["describedObject"]["name"] for item in served["items"]}
    names = "jsonpath={.items[*].metadata.name}"
    running = kubectl("get", "pods", "-l", "app=podinfo", "-o", names)
    assert pods and pods <= set(running.stdout.split())


def test_the_learner_has_the_lab_materials(main_job):
    listing = on_node(NODES[0], "ls", "k8s-prom-hpa", "k8s-prom-hpa/podinfo", user="learner01")
    assert listing.returncode == 0, listing.stderr
    expected = {"CHANGES.md", "custom-metrics-api", "metrics-server", "prometheus"}
    expected |= {"podinfo-dep.yaml", "podinfo-hpa.yaml", "podinfo-hpa-custom.yaml"}
    assert expected <= set(listing.stdout.split()), listing.stdout
    dry_run = on_node(
        NODES[0], "kubectl", "create", "--dry-run=server",
        "-f", "./k8s-prom-hpa/podinfo/podinfo-dep.yaml", "-o", "name", user="learner01",
    )  # fmt: skip
    # The lab is deployed already: the slides' command reaches the API and is
    # told so (for the Service the apiserver answers "port is already allocated"
    # before it looks for the name).
    assert "already exists" in dry_run.stderr, dry_run.stdout + dry_run.stderr


def test_one_stage_runs_alone_with_its_tag(main_job):
    """--tags verify skips every other play, but their roles' argument checks
    run all the same (Ansible tags them always), before any facts: they must
    pass there too."""
    only = run(["scripts/run.sh", "inventories/sandbox", "--tags", "verify",
                "-e", "lab_autoscaling_verify_load=false"], timeout=900)  # fmt: skip
    assert only.returncode == 0, only.stdout[-3000:] + only.stderr[-3000:]
    assert "4/4 cluster labs passed" in only.stdout
    ran = set(re.findall(r"^TASK \[(\w+) : (?!Validating arguments)", only.stdout, re.M))
    # The storage check is a proof as well.
    labs = {"lab_autoscaling", "lab_scheduling", "lab_spark", "lab_jupyterhub"}
    assert ran == {*labs, "cluster_storage"}, ran
    assert "Write a file to the claim, then read it back from a second pod" in only.stdout
    # Verify proves, it does not change: the re-run below skips it for that.
    changed = {host: c["changed"] for host, c in recap(only.stdout).items() if c["changed"]}
    assert changed == {}, changed


def test_a_rerun_changes_nothing(main_job):
    # The whole job again but verify, which the test above ran alone, changing
    # nothing (every lab's verify again here would cost minutes of the suite).
    rerun = run(["scripts/run.sh", "inventories/sandbox", "--skip-tags", "verify"], timeout=1800)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    changed = {host: c["changed"] for host, c in recap(rerun.stdout).items() if c["changed"]}
    assert changed == {}, changed
    main_job.rerun_output = rerun.stdout + rerun.stderr


def test_a_full_rerun_skips_the_converged_cluster_until_a_stage_runs_alone(main_job):
    """A full re-run skips a cluster it converged before with the same inputs
    (playbooks/converged.yml). A run of one stage (here one lab's) may change
    what that run left: it forgets the cluster's record, and the next full run
    converges the cluster again, changing nothing more, then skips it."""
    one_lab = labs_playbook("--tags", "scheduling")
    assert one_lab.returncode == 0, one_lab.stdout[-3000:] + one_lab.stderr[-3000:]
    assert on_node(NODES[0], "test", "-e", "/var/lib/kube-atelier/converged.json").returncode != 0
    full = ["scripts/run.sh", "inventories/sandbox", "--skip-tags", "verify"]
    converges = run(full, timeout=1800)
    assert converges.returncode == 0, converges.stdout[-3000:] + converges.stderr[-3000:]
    # n1 at least (other nodes too if a run of some stages came before).
    forgotten = rf"converges \(no record of a converged run on [^)]*{NODES[0]}"
    assert re.search(forgotten, converges.stdout), converges.stdout[-3000:]
    assert "TASK [node_base" in converges.stdout
    changed = {h: c["changed"] for h, c in recap(converges.stdout).items() if c["changed"]}
    assert changed == {}, changed
    for node in NODES:
        assert on_node(node, "test", "-s", "/var/lib/kube-atelier/converged.json").returncode == 0
    skips = run(full, timeout=900)
    assert skips.returncode == 0, skips.stdout[-3000:] + skips.stderr[-3000:]
    assert "sandbox-c01: converged before with the same inputs" in skips.stdout
    assert "TASK [node_base" not in skips.stdout and "TASK [lab_" not in skips.stdout
    changed = {h: c["changed"] for h, c in recap(skips.stdout).items() if c["changed"]}
    assert changed == {}, changed


def test_the_custom_metric_hpa_scales_out_under_load(main_job):
    """The lab's other HPA (lab_autoscaling_hpa: custom: http_requests, 10/s a
    pod) in place of the CPU/memory one: verify's hey load scales podinfo out
    on the custom metric alone."""
    custom = ["-e", "lab_autoscaling_hpa=custom"]
    applied = labs_playbook("--tags", "autoscaling", *custom)
    assert applied.returncode == 0, applied.stdout[-3000:]
    hpa = json.loads(kubectl("get", "hpa", "podinfo", "-o", "json").stdout)
    assert [m["pods"]["metric"]["name"] for m in hpa["spec"]["metrics"]] == ["http_requests"]

    def at_minimum():  # the earlier verify's scale-out, undone at rest
        time.sleep(5)
        replicas = kubectl("get", "deployment", "podinfo", "-o", "jsonpath={.spec.replicas}")
        return replicas.stdout == "2"

    wait_for(at_minimum, "podinfo back at 2 replicas", timeout=300)
    # This lab's verify alone: the others' results stay as the first run recorded them.
    verify = ["ansible-playbook", "-i", "inventories/sandbox", "playbooks/verify.yml",
              "--tags", "autoscaling", *custom]  # fmt: skip
    verified = run(verify, timeout=900)
    assert verified.returncode == 0, verified.stdout[-3000:]
    lab = json.loads(VERIFY_RESULT.read_text())["labs"]["autoscaling"]
    assert lab["passed"] and lab["replicas_under_load"] > 2, lab
    hpa = json.loads(kubectl("get", "hpa", "podinfo", "-o", "json").stdout)
    assert [m["type"] for m in hpa["status"]["currentMetrics"]] == ["Pods"], hpa["status"]


def test_the_lab_reset_leaves_nothing_of_the_lab(main_job):
    reset = labs_playbook("-e", "lab_autoscaling_state=absent")
    assert reset.returncode == 0, reset.stdout[-3000:] + reset.stderr[-3000:]
    kinds = (
        "deployments,services,configmaps,serviceaccounts,hpa,"
        "clusterroles,clusterrolebindings,rolebindings,apiservices"
    )
    left = kubectl("get", kinds, "-A", "-l", "kube-atelier.io/lab=autoscaling", "-o", "name")
    assert left.returncode == 0 and left.stdout == "", left.stdout + left.stderr
    assert kubectl("get", "namespace", "monitoring").returncode != 0
    assert kubectl("get", "apiservice", "v1beta1.metrics.k8s.io").returncode != 0
    main_job.reset_output = reset.stdout + reset.stderr


def test_the_scheduling_reset_then_the_slides_by_hand(main_job):
    """The lab's Reset, then learner01 follows the slides from their materials
    on the emptied cluster, and their own Reset leaves it as empty."""
    absent = ["--tags", "scheduling", "-e", "lab_scheduling_state=absent"]
    reset = labs_playbook(*absent)
    assert reset.returncode == 0, reset.stdout[-3000:] + reset.stderr[-3000:]
    scheduling.reset_left_nothing(kubectl)
    scheduling.learner_runs_the_slides(
        lambda *command: on_node(NODES[0], *command, user="learner01"), kubectl
    )
    scheduling.reset_left_nothing(kubectl)


def test_no_learner_password_in_the_output(main_job):
    passwords = [
        path.read_text().split(" salt=")[0]
        for path in (ROOT / "inventories/sandbox/secrets/learners").glob("*.password")
    ]
    assert passwords
    output = main_job.stdout + main_job.stderr + getattr(main_job, "rerun_output", "")
    for password in passwords:
        assert password not in output
