"""The Spark lab's image (scripts/lab-images/spark.sh), a stand-in for the
official apache/spark image built offline: its entrypoint's argument handling
(run as a script, printing the command it would run), then the image itself
under podman: the official image's user and paths, the project's SparkPi in
local mode, and the contract of Spark's Kubernetes backend end to end: a
driver in the image asks the sandbox control plane for executor pods, and this
test plays the kubelet (the control plane has no nodes): it runs each pod's
container under podman with the pod's own arguments, environment and emptyDir
mounts; the executors register with the driver, run its tasks, and the driver
prints pi and deletes the pods. The image tests need the archive
(scripts/build-lab-images.sh builds it); all traffic stays on loopback."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from conftest import ROOT, run, wait_for

ENTRYPOINT = ROOT / "scripts/lab-images/spark/entrypoint.sh"
PINS = dict(
    re.findall(r"^(SPARK_[A-Z_]+)=(\S+)$", (ROOT / "tools/lab-images/spark.env").read_text(), re.M)
)
IMAGE = f"docker.io/apache/spark:{PINS['SPARK_VERSION']}"
JAR = "/opt/spark/examples/jars/spark-examples_{}-{}.jar".format(
    PINS["SPARK_SCALA_VERSION"], PINS["SPARK_VERSION"]
)


# -- the entrypoint, as a script ---------------------------------------------------


def entrypoint(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ENTRYPOINT), *args],
        env={
            "PATH": "/usr/bin:/bin",
            "SPARK_HOME": "/opt/spark",
            "JAVA_HOME": "/usr/lib/jvm/java-17",
            "SPARK_ENTRYPOINT_DRY_RUN": "1",
            **env,
        },
        cwd="/",
        capture_output=True,
        text=True,
        check=False,
    )


def test_driver_runs_spark_submit_in_client_mode_bound_to_the_pod_ip():
    result = entrypoint(
        "driver",
        "--properties-file",
        "/opt/spark/conf/spark.properties",
        "--class",
        "X",
        "local:///a.jar",
        "7",
        SPARK_DRIVER_BIND_ADDRESS="10.244.1.5",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "/opt/spark/bin/spark-submit",
        "--conf",
        "spark.driver.bindAddress=10.244.1.5",
        "--conf",
        "spark.executorEnv.SPARK_DRIVER_POD_IP=10.244.1.5",
        "--deploy-mode",
        "client",
        "--properties-file",
        "/opt/spark/conf/spark.properties",
        "--class",
        "X",
        "local:///a.jar",
        "7",
    ]


EXECUTOR_ENV = {
    "SPARK_DRIVER_URL": "spark://CoarseGrainedScheduler@spark-pi-driver-svc.default.svc:7078",
    "SPARK_EXECUTOR_ID": "2",
    "SPARK_EXECUTOR_CORES": "1",
    "SPARK_EXECUTOR_MEMORY": "512m",
    "SPARK_APPLICATION_ID": "spark-0123",
    "SPARK_EXECUTOR_POD_IP": "10.244.2.7",
    "SPARK_EXECUTOR_POD_NAME": "spark-pi-exec-2",
    "SPARK_RESOURCE_PROFILE_ID": "0",
    # Numbered as the backend numbers them: in the order of n, not of the text.
    "SPARK_JAVA_OPT_0": "-Dspark.driver.port=7078",
    "SPARK_JAVA_OPT_10": "-Dten",
    "SPARK_JAVA_OPT_2": "-Dtwo",
}


def test_executor_runs_the_kubernetes_executor_backend_from_the_environment():
    result = entrypoint("executor", **EXECUTOR_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "/usr/lib/jvm/java-17/bin/java",
        "-Dspark.driver.port=7078",
        "-Dtwo",
        "-Dten",
        "-Xms512m",
        "-Xmx512m",
        "-cp",
        "/opt/spark/conf:/opt/spark/jars/*:/",
        "org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend",
        "--driver-url",
        EXECUTOR_ENV["SPARK_DRIVER_URL"],
        "--executor-id",
        "2",
        "--cores",
        "1",
        "--app-id",
        "spark-0123",
        "--hostname",
        "10.244.2.7",
        "--resourceProfileId",
        "0",
        "--podName",
        "spark-pi-exec-2",
    ]


@pytest.mark.parametrize(
    ("mode", "missing"),
    [
        ("driver", "SPARK_DRIVER_BIND_ADDRESS"),
        ("executor", "SPARK_DRIVER_URL"),
        ("executor", "SPARK_EXECUTOR_POD_IP"),
    ],
)
def test_a_missing_variable_of_the_backend_is_named(mode, missing):
    env = {k: v for k, v in EXECUTOR_ENV.items() if k != missing}
    if mode == "driver":
        env = {}
    result = entrypoint(mode, **env)
    assert result.returncode == 64
    assert f"entrypoint: {mode}: ${missing} is not set" in result.stderr
    assert result.stdout == ""


def test_anything_else_is_run_as_given_and_nothing_is_refused():
    result = entrypoint("echo", "hello", SPARK_ENTRYPOINT_DRY_RUN="0")
    assert (result.returncode, result.stdout) == (0, "hello\n")
    result = entrypoint()
    assert result.returncode == 64
    assert "say driver, executor, or a command" in result.stderr


# -- the image ---------------------------------------------------------------------


def podman(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def image() -> str:
    """The built image in podman's store, loaded from its archive when missing."""
    if shutil.which("podman") is None:
        pytest.skip("no podman")
    if podman("image", "exists", IMAGE).returncode != 0:
        listed = run(["scripts/build-lab-images.sh", "--list"], timeout=120)
        archives = dict(line.split("\t") for line in listed.stdout.splitlines() if "\t" in line)
        archive = Path(archives.get(IMAGE, "/nonexistent"))
        if not archive.exists():
            pytest.skip(f"{IMAGE} is not built: scripts/build-lab-images.sh")
        loaded = podman("load", "-q", "-i", str(archive))
        assert loaded.returncode == 0, loaded.stderr
    return IMAGE


def test_the_image_is_a_named_stand_in_with_the_official_user_and_paths(image):
    (info,) = json.loads(podman("image", "inspect", image).stdout)
    config = info["Config"]
    assert config["User"] == "185"
    assert config["WorkingDir"] == "/opt/spark/work-dir"
    assert config["Entrypoint"] == ["/opt/entrypoint.sh"]
    assert "SPARK_HOME=/opt/spark" in config["Env"]
    assert f"pyspark={PINS['SPARK_VERSION']}" in config["Labels"]["io.kube-atelier.substitute"]
    listed = podman(
        "run",
        "--rm",
        "--pull=never",
        "--network",
        "none",
        image,
        "bash",
        "-c",
        f"id -u; ls {JAR}; ls /opt/spark/jars | wc -l",
    )
    assert listed.returncode == 0, listed.stderr
    uid, jar, jars = listed.stdout.split()
    assert (uid, jar) == ("185", JAR)
    assert int(jars) > 50


def test_sparkpi_in_local_mode(image):
    started = time.monotonic()
    result = podman(
        "run",
        "--rm",
        "--pull=never",
        "--network",
        "none",
        "-e",
        "SPARK_DRIVER_BIND_ADDRESS=127.0.0.1",
        image,
        "driver",
        "--master",
        "local[2]",
        "--conf",
        "spark.ui.enabled=false",
        "--class",
        "org.apache.spark.examples.SparkPi",
        f"local://{JAR}",
        "100",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    # 10^7 points: pi within 0.002 (four standard deviations).
    (pi,) = re.findall(r"^Pi is roughly (3\.1\d+)$", result.stdout, re.M)
    assert abs(float(pi) - 3.14159) < 0.002, pi
    assert time.monotonic() - started < 120


def test_sparkpi_refuses_bad_slices(image):
    result = podman(
        "run",
        "--rm",
        "--pull=never",
        "--network",
        "none",
        "-e",
        "SPARK_DRIVER_BIND_ADDRESS=127.0.0.1",
        image,
        "driver",
        "--master",
        "local[1]",
        "--class",
        "org.apache.spark.examples.SparkPi",
        f"local://{JAR}",
        "zero",
    )
    assert result.returncode != 0
    assert (
        "SparkPi: SLICES must be a whole number of at least 1, not 'zero'"
        in result.stdout + result.stderr
    )


def kubelet_run(pod: dict, image: str, name: str) -> None:
    """Run a pod's one container under podman as a kubelet would: its args,
    its environment (the downward API's pod IP and name filled in with
    loopback and the pod's name), its emptyDir volumes as tmpfs."""
    (container,) = pod["spec"]["containers"]
    assert container["image"] == image
    fields = {"status.podIP": "127.0.0.1", "metadata.name": pod["metadata"]["name"]}
    env = []
    for var in container.get("env", []):
        value = var.get("value")
        if value is None:
            value = fields.get(var["valueFrom"].get("fieldRef", {}).get("fieldPath"), "")
        env += ["-e", f"{var['name']}={value}"]
    empty = {v["name"] for v in pod["spec"].get("volumes", []) if "emptyDir" in v}
    mounts = [
        f"--tmpfs={m['mountPath']}:mode=1777"
        for m in container.get("volumeMounts", [])
        if m["name"] in empty
    ]
    started = podman(
        "run",
        "-d",
        "--rm",
        "--pull=never",
        "--name",
        name,
        "--network",
        "host",
        *mounts,
        *env,
        image,
        *container.get("args", []),
    )
    assert started.returncode == 0, started.stderr


def test_the_kubernetes_backend_contract_driver_and_executors(image, kubeconfig, tmp_path):
    from kubernetes import client, config  # noqa: PLC0415 (only this test needs it)

    api = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig)))
    namespace = f"lsp-contract-{uuid.uuid4().hex[:6]}"
    api.create_namespace({"metadata": {"name": namespace}})
    # The driver reads the admin kubeconfig as user 185.
    readable = tmp_path / "kubeconfig"
    shutil.copy(kubeconfig, readable)
    os.chown(readable, 185, 185)
    server = re.search(r"server: (https://\S+)", readable.read_text()).group(1)
    driver = f"lsp-driver-{namespace}"
    executors: list[str] = []
    try:
        started = podman(
            "run",
            "-d",
            "--pull=never",
            "--name",
            driver,
            "--network",
            "host",
            "-v",
            f"{readable}:/tmp/kubeconfig:ro",
            "-e",
            "KUBECONFIG=/tmp/kubeconfig",
            "-e",
            "SPARK_DRIVER_BIND_ADDRESS=127.0.0.1",
            image,
            "driver",
            "--master",
            f"k8s://{server}",
            "--name",
            "spark-pi",
            "--conf",
            f"spark.kubernetes.namespace={namespace}",
            "--conf",
            "spark.executor.instances=2",
            "--conf",
            f"spark.kubernetes.container.image={image}",
            "--conf",
            "spark.driver.host=127.0.0.1",
            "--conf",
            "spark.ui.enabled=false",
            "--conf",
            "spark.executor.memory=512m",
            "--class",
            "org.apache.spark.examples.SparkPi",
            f"local://{JAR}",
            "20",
        )
        assert started.returncode == 0, started.stderr

        def pods():
            found = api.list_namespaced_pod(namespace, label_selector="spark-role=executor").items
            return found if len(found) == 2 else None

        for pod in wait_for(pods, "two executor pods made by the driver", timeout=180):
            name = f"lsp-{pod.metadata.name}"
            kubelet_run(api.api_client.sanitize_for_serialization(pod), image, name)
            executors.append(name)
        waited = podman("wait", driver, timeout=300)
        log = podman("logs", driver)
        output = log.stdout + log.stderr
        assert waited.stdout.strip() == "0", output[-3000:]
        assert len(re.findall(r"Registered executor .* with ID [12],", output)) == 2, output[-3000:]
        for executor in ("1", "2"):
            assert re.search(rf"Finished task .* \(executor {executor}\)", output), output[-3000:]
        (pi,) = re.findall(r"^Pi is roughly (3\.1\d+)$", output, re.M)
        assert abs(float(pi) - 3.14159) < 0.01, pi
        # The driver removes its executors' pods as it ends.
        wait_for(
            lambda: not api.list_namespaced_pod(namespace).items,
            "the executor pods deleted by the driver",
            timeout=60,
        )
    finally:
        for name in [*executors, driver]:
            podman("rm", "-f", "-t", "0", name)
        api.delete_namespace(namespace)
