"""The pure parts of `make test-slurm` (tests/slurm/): the generated slurm.conf, the table comparison and the
count of submitted jobs; and profiles/slurm/config.yaml's options. None of it needs SLURM or the plugin."""

import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent / "slurm"))
import slurm_harness as harness  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SLURMD_C = (
    "NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105\n"
    "UpTime=0-02:18:37\n"
)


def _conf_lines(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_slurm_conf_describes_this_node_as_slurmd_reports_it(tmp_path):
    conf = harness.slurm_conf(harness.parse_node_line(SLURMD_C), tmp_path)
    assert conf.splitlines()[0] == harness.MARKER
    keys = _conf_lines(conf)
    assert keys["SlurmctldHost"] == "vm"
    node = keys["NodeName"]
    assert node.startswith("vm ") and "CPUs=2" in node and "CoresPerSocket=2" in node
    assert f"RealMemory={24105 - harness.MEMORY_MARGIN_MB}" in node  # never more than the machine has
    assert keys["PartitionName"].startswith("test Nodes=vm Default=YES")
    # the executor plugin follows jobs with squeue only while MinJobAge >= 3 x its first status-check delay
    assert int(keys["MinJobAge"]) >= 3 * int(harness.STATUS_CHECK_SECONDS)
    assert (
        int(keys["MinJobAge"])
        >= 3
        * yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())["slurm-init-seconds-before-status-checks"]
    )
    assert keys["StateSaveLocation"] == str(tmp_path / "ctld")
    assert keys["AccountingStorageType"] == "accounting_storage/none"


def test_slurmd_output_without_a_node_line_is_an_error():
    with pytest.raises(ValueError, match="NodeName"):
        harness.parse_node_line("CPUs=2 RealMemory=100\n")


def test_differing_tables_names_changed_and_one_sided_files(tmp_path):
    local, slurm = tmp_path / "local", tmp_path / "slurm"
    for root in (local, slurm):
        (root / "sub").mkdir(parents=True)
        (root / "same.csv").write_bytes(b"a,b\n1,2\n")
        (root / "sub" / "part.csv").write_bytes(b"x\n")
    assert harness.differing_tables(local, slurm) == (["same.csv", "sub/part.csv"], [])
    (slurm / "sub" / "part.csv").write_bytes(b"x\r\n")
    (local / "only_local.csv").write_bytes(b"")
    names, differ = harness.differing_tables(local, slurm)
    assert names == ["only_local.csv", "same.csv", "sub/part.csv"]
    assert differ == ["only_local.csv", "sub/part.csv"]


def test_submitted_jobs_reads_the_plugins_lines():
    log = (
        "rule pool:\n"
        "Job 2 has been submitted with SLURM jobid 17 (log: /x/.snakemake/slurm_logs/rule_pool/17.log).\n"
        "Job 0 has been submitted with SLURM jobid 18 (log: /x/18.log).\n"
        "Finished jobid: 2 (Rule: pool)\n"
    )
    assert harness.submitted_jobs(log) == ["17", "18"]
    assert harness.submitted_jobs("Finished jobid: 2 (Rule: pool)\n") == []


def test_slurm_profile_names_the_executor_and_its_options():
    profile = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())
    assert profile["executor"] == "slurm"
    assert profile["slurm-status-command"] in ("squeue", "sacct")
    assert isinstance(profile["jobs"], int) and profile["jobs"] > 0
    resources = dict(item.split("=", 1) for item in profile["default-resources"])
    assert {"mem_mb", "runtime"} <= set(resources)
