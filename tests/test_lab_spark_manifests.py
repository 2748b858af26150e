"""The lab_spark role's files, rendered by Ansible from the role's templates and
variables: the ServiceAccount and RoleBinding and the executors' pod template
against the OpenAPI schemas of every Kubernetes release the project supports
(kubernetes-validate --strict), least rights (a RoleBinding per namespace,
never a ClusterRoleBinding), the learners' submit-pi.sh run against stand-ins
of kubectl and spark-submit (what it would submit), the plug-in declaration,
the pins the role and the image build share, and bad input refused before
anything is applied, naming the variable. The image's entrypoint and SparkPi:
tests/test_lab_spark_image.py."""

from __future__ import annotations

import json
import re
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml
from conftest import RELEASES, ROOT, render_on_localhost, role_on_localhost, validation_problems

ROLE = ROOT / "roles/lab_spark"
DEFAULTS = yaml.safe_load((ROLE / "defaults/main.yml").read_text())
PINS = {
    k: v.strip('"')
    for k, v in re.findall(
        r"^(SPARK_[A-Z0-9_]+)=(\S+)$", (ROOT / "tools/lab-images/spark.env").read_text(), re.M
    )
}

# Variants: the defaults (a learner owns the cluster: namespace default), and
# the shared-cluster mode with every variable that changes a file.
VARIANTS = {
    "defaults": {},
    "shared": {
        "learner_access_kubeconfig": "namespace",
        "atelier_learners": [{"name": "learner01"}, {"name": "learner02"}],
        "lab_spark_images": {"spark": "mirror.example/spark:4.1.2"},
        "lab_spark_image_pull_policy": "Always",
        "lab_spark_executors": 3,
        "lab_spark_slices": 50,
    },
}
FILES = ["spark-rbac.yaml", "spark/submit-pi.sh", "spark/executor-template.yaml", "spark/README.md"]

RENDER_PLAYBOOK = """
- name: Render the lab_spark files
  hosts: localhost
  connection: local
  gather_facts: false
  vars_files:
    - {role}/defaults/main.yml
    - {role}/vars/main.yml
  tasks:
    - name: Create the folder
      ansible.builtin.file:
        path: "{{{{ out }}}}/spark"
        state: directory
        mode: "0755"
    - name: Render each file
      ansible.builtin.template:
        src: "{role}/templates/{{{{ item }}}}.j2"
        dest: "{{{{ out }}}}/{{{{ item }}}}"
        mode: "0755"
      loop: {files}
"""


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def rendered(request, tmp_path_factory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp(request.param)
    extra = {"out": str(out / "lab"), "role_path": str(ROLE), **VARIANTS[request.param]}
    render_on_localhost(out, RENDER_PLAYBOOK.format(role=ROLE, files=json.dumps(FILES)), extra)
    return request.param, out / "lab"


def docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


@pytest.mark.parametrize("release", RELEASES)
def test_every_manifest_is_valid_for_every_supported_release(rendered, release):
    _, folder = rendered
    files = [str(folder / "spark-rbac.yaml"), str(folder / "spark/executor-template.yaml")]
    problems = validation_problems(files, release)
    assert problems == "", problems


def test_the_slides_service_account_with_edit_in_each_namespace_only(rendered):
    variant, folder = rendered
    objects = docs(folder / "spark-rbac.yaml")
    namespaces = ["default"] if variant == "defaults" else ["learner01", "learner02"]
    assert sorted((o["kind"], o["metadata"]["namespace"]) for o in objects) == sorted(
        [("ServiceAccount", ns) for ns in namespaces] + [("RoleBinding", ns) for ns in namespaces]
    )
    for obj in objects:
        assert obj["metadata"]["labels"] == {"kube-atelier.io/lab": "spark"}
        if obj["kind"] == "ServiceAccount":
            assert obj["metadata"]["name"] == "spark"
        else:
            # The slides' binding name and role; a RoleBinding, not cluster-wide.
            assert obj["metadata"]["name"] == "spark-role"
            assert obj["roleRef"] == {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "edit",
            }
            assert obj["subjects"] == [
                {
                    "kind": "ServiceAccount",
                    "name": "spark",
                    "namespace": obj["metadata"]["namespace"],
                }
            ]
    assert (folder / "spark-rbac.yaml").read_text().startswith("# RyaxTech kube-tutorial §3")


def test_the_executor_template_spreads_the_executors(rendered):
    _, folder = rendered
    (pod,) = docs(folder / "spark/executor-template.yaml")
    assert pod["kind"] == "Pod"
    assert pod["metadata"]["labels"] == {"kube-atelier.io/lab": "spark"}
    (term,) = pod["spec"]["affinity"]["podAntiAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"
    ]
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert term["podAffinityTerm"]["labelSelector"] == {"matchLabels": {"spark-role": "executor"}}
    # Spark's own container name: the template's container is the executor's.
    assert pod["spec"]["containers"] == [{"name": "spark-kubernetes-executor"}]


@pytest.fixture
def stand_ins(tmp_path) -> Path:
    """Stand-ins for kubectl (answers the two `config view` questions from
    $FAKE_API and $FAKE_NS) and spark-submit (writes its arguments, one a
    line, to $FAKE_ARGS): what submit-pi.sh would run, without a cluster."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubectl").write_text(
        textwrap.dedent("""\
            #!/bin/bash
            # Stand-in for kubectl: only `config view --minify -o jsonpath=...`.
            case "$*" in
              *clusters*) printf %s "$FAKE_API" ;;
              *namespace*) printf %s "${FAKE_NS:-}" ;;
              *) echo "stand-in kubectl: unexpected $*" >&2; exit 1 ;;
            esac
            """)
    )
    (bin_dir / "spark-submit").write_text(
        "#!/bin/bash\n"
        "# Stand-in for spark-submit: records its arguments.\n"
        'printf "%s\\n" "$@" >"$FAKE_ARGS"\n'
    )
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    return bin_dir


def submit(folder: Path, bin_dir: Path, tmp_path: Path, *args: str, **env: str):
    out = tmp_path / "args"
    out.unlink(missing_ok=True)
    result = subprocess.run(
        [str(folder / "spark/submit-pi.sh"), *args],
        env={
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "FAKE_API": "https://192.0.2.10:6443",
            "FAKE_ARGS": str(out),
            **env,
        },
        capture_output=True,
        text=True,
        check=False,
    )
    argv = out.read_text().splitlines() if out.exists() else []
    return result, argv


def confs(argv: list[str]) -> dict[str, str]:
    return dict(argv[i + 1].split("=", 1) for i, a in enumerate(argv) if a == "--conf")


def test_submit_pi_is_the_slides_command_made_current(rendered, stand_ins, tmp_path):
    variant, folder = rendered
    shellcheck = subprocess.run(
        ["shellcheck", str(folder / "spark/submit-pi.sh")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert shellcheck.returncode == 0, shellcheck.stdout
    ns = {} if variant == "defaults" else {"FAKE_NS": "learner02"}
    result, argv = submit(folder, stand_ins, tmp_path, **ns)
    assert result.returncode == 0, result.stderr
    executors, slices = ("2", "10000") if variant == "defaults" else ("3", "50")
    image = (
        DEFAULTS["lab_spark_images"]["spark"]
        if variant == "defaults"
        else "mirror.example/spark:4.1.2"
    )
    assert argv[:8] == [
        "--master",
        "k8s://https://192.0.2.10:6443",
        "--deploy-mode",
        "cluster",
        "--name",
        "spark-pi",
        "--class",
        "org.apache.spark.examples.SparkPi",
    ]
    jar = f"local:///opt/spark/examples/jars/spark-examples_{PINS['SPARK_SCALA_VERSION']}-{PINS['SPARK_VERSION']}.jar"
    assert argv[-2:] == [jar, slices]
    conf = confs(argv)
    assert conf["spark.kubernetes.namespace"] == (
        "default" if variant == "defaults" else "learner02"
    )
    assert conf["spark.kubernetes.authenticate.driver.serviceAccountName"] == "spark"
    assert conf["spark.executor.instances"] == executors
    assert conf["spark.kubernetes.container.image"] == image
    assert conf["spark.kubernetes.submission.waitAppCompletion"] == "true"
    assert conf["spark.kubernetes.executor.podTemplateFile"] == str(
        folder / "spark/executor-template.yaml"
    )
    assert conf["spark.kubernetes.driver.label.kube-atelier.io/lab"] == "spark"
    assert re.fullmatch(
        r"spark-pi-driver-\d{8}-\d{6}-\d{1,3}", conf["spark.kubernetes.driver.pod.name"]
    )
    assert f"driver pod: {conf['spark.kubernetes.driver.pod.name']}" in result.stdout


def test_submit_pi_arguments_and_environment(rendered, stand_ins, tmp_path):
    _, folder = rendered
    result, argv = submit(
        folder,
        stand_ins,
        tmp_path,
        "4",
        "7",
        SPARK_PI_DRIVER="spark-pi-verify-1",
        SPARK_PI_WAIT="false",
    )
    assert result.returncode == 0, result.stderr
    conf = confs(argv)
    assert conf["spark.executor.instances"] == "4"
    assert argv[-1] == "7"
    assert conf["spark.kubernetes.driver.pod.name"] == "spark-pi-verify-1"
    assert conf["spark.kubernetes.submission.waitAppCompletion"] == "false"
    for bad, what in [(["0"], "EXECUTORS"), (["two"], "EXECUTORS"), (["2", "-5"], "SLICES")]:
        result, argv = submit(folder, stand_ins, tmp_path, *bad)
        assert result.returncode == 2, result.stderr
        assert f"{what} must be a whole number of at least 1, not '{bad[-1]}'" in result.stderr
        assert argv == []  # nothing submitted


def test_the_readme_lists_the_changes(rendered):
    variant, folder = rendered
    readme = (folder / "spark/README.md").read_text()
    assert "## What changed from the slides" in readme
    for said in [
        "gohnwej/spark:2.3.0",
        "spark-pi-driver1",
        "driver3",
        "RoleBinding",
        "kubectl get pods -w",
    ]:
        assert said in readme, said
    if variant == "shared":
        assert "`learner01`, `learner02`" in readme


def test_the_plug_in_declaration():
    lab = yaml.safe_load((ROLE / "meta/lab.yml").read_text())
    assert lab["name"] == "spark"
    assert ROLE.name == f"lab_{lab['name']}"
    assert lab["workloads"] == [
        {
            "kind": "ServiceAccount",
            "namespace": "{{ lab_spark_namespaces | first }}",
            "name": "{{ lab_spark_service_account }}",
        }
    ]
    assert lab["verify"]["result"] == "lab_spark_verify_result"
    assert lab["verify"]["figure"]["key"] == "pi_seconds"
    assert "{}" in lab["verify"]["figure"]["text"]
    verify = (ROLE / "tasks/verify.yml").read_text()
    assert "'pi_seconds': lab_spark_verify_seconds | float" in verify
    assert "ansible.builtin.copy" not in verify  # the caller records the result


def test_the_role_and_the_image_build_pin_the_same_release():
    releases = yaml.safe_load((ROLE / "vars/main.yml").read_text())["lab_spark_releases"]
    version = DEFAULTS["lab_spark_version"]
    assert (
        version
        == PINS["SPARK_VERSION"]
        == PINS["SPARK_IMAGE_TAG"].replace("$SPARK_VERSION", version)
    )
    assert releases[version]["scala"] == PINS["SPARK_SCALA_VERSION"]
    assert releases[version]["pyspark_sha256"] == PINS["SPARK_PYSPARK_SHA256"]
    assert DEFAULTS["lab_spark_images"]["spark"] == f"docker.io/apache/spark:{version}"
    specs = yaml.safe_load((ROLE / "meta/argument_specs.yml").read_text())
    assert specs["argument_specs"]["main"]["options"]["lab_spark_version"]["choices"] == sorted(
        releases
    )


# -- bad input -------------------------------------------------------------------


@pytest.fixture
def run_role(tmp_path):
    """The role on localhost with a kubeconfig that does not exist: a check that
    passed would fail on the cluster, so only a refusal in the checks is seen."""

    def play(extra_vars: dict) -> tuple[int, str]:
        extra = {
            "lab_spark_kubeconfig": str(tmp_path / "missing.conf"),
            "lab_spark_client_source": "none",
            "lab_spark_materials": False,
            **extra_vars,
        }
        return role_on_localhost(tmp_path, "lab_spark", extra)

    return play


def test_a_spark_version_not_pinned_is_refused(run_role):
    rc, output = run_role({"lab_spark_version": "3.5.8"})
    assert rc != 0
    assert "lab_spark_version" in output
    assert "3.5.8" in output
    assert PINS["SPARK_VERSION"] in output
    assert "missing.conf" not in output


@pytest.mark.parametrize("variable", ["lab_spark_executors", "lab_spark_verify_executors"])
def test_fewer_than_one_executor_is_refused(run_role, variable):
    rc, output = run_role({variable: 0})
    assert rc != 0
    assert f"{variable} (0) must be a whole number of at least 1" in output
    assert "missing.conf" not in output


def test_counts_given_as_strings_are_taken(run_role):
    """-e lab_spark_executors=3 arrives as the string '3': the checks take it,
    and the run goes on to the cluster (whose kubeconfig is missing here)."""
    rc, output = run_role({"lab_spark_executors": "3", "lab_spark_verify_slices": "50"})
    assert rc != 0
    assert "must be a whole number" not in output
    assert "missing.conf" in output


def test_a_bad_namespace_is_refused(run_role):
    rc, output = run_role({"lab_spark_namespaces": ["Learner_01"]})
    assert rc != 0
    assert (
        "lab_spark_namespaces ['Learner_01'] must be a non-empty list of namespace names" in output
    )
    assert "missing.conf" not in output


def test_the_rendered_files_name_no_registry_but_the_image(rendered):
    _, folder = rendered
    for name in FILES:
        text = (folder / name).read_text()
        assert not re.search(r"https?://", text.replace("https://192.0.2.10:6443", "")), name
