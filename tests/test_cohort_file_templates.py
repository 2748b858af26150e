"""The cohort file's `vars:` may template other variables (the sandbox sets
node_base_address from facts): the plugin must load the file as trusted, like
Ansible's own yaml inventory, or ansible-core 2.19 leaves the Jinja unrendered."""

from __future__ import annotations

from conftest import run


def test_vars_in_the_cohort_file_are_templated(tmp_path):
    (tmp_path / "cohort.yml").write_text(
        "plugin: atelier.kube.cohort\ncohort: probe\ncloud: nowhere\nlearners: 1\n"
        "nodes_per_cluster: 1\nvars:\n  probe_sum: '{{ 40 + 2 }}'\n"
    )
    result = run(
        [
            "ansible",
            "-i",
            str(tmp_path),
            "probe-c01-n1",
            "-c",
            "local",
            "-m",
            "ansible.builtin.debug",
            "-a",
            "var=probe_sum",
        ]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "probe_sum: 42" in result.stdout
