"""The Python half of `make test-slurm` (tests/slurm/run_slurm_test.sh starts and stops the daemons).

    python tests/slurm/slurm_harness.py conf  STATE_DIR > /etc/slurm/slurm.conf
    python tests/slurm/slurm_harness.py run   WORK_DIR [TARGET ...]

``conf`` writes a single-node slurm.conf for this machine: the node line is what ``slurmd -C`` reports
(its hostname, CPUs, sockets, cores, memory), with MinJobAge raised so that the executor
plugin can follow the jobs with ``squeue`` (no accounting database here). ``run`` makes two copies of
the project (tests/project_copy.py), runs the targets with plain local jobs in one and through
``--profile profiles/slurm`` in the other, and checks that every file under results/tables/ is
byte-identical between them and that the SLURM run really submitted its jobs to SLURM.

The pure parts (``slurm_conf``, ``differing_tables``, ``submitted_jobs``) are tested in
tests/test_slurm_harness.py, which needs no SLURM.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from project_copy import copy_project, snakemake_env  # noqa: E402

# The first line of every slurm.conf this harness writes: the shell script overwrites and removes
# /etc/slurm/slurm.conf only when it starts with this line.
MARKER = "# Written by sbrtmeta's tests/slurm/slurm_harness.py for `make test-slurm`; removed at its end."

# The rules run through SLURM: the robustness rules (GOSH and the multiverse, each in robustness.shards
# shard jobs and a gather job) and the cleanup, inclusion and pooling they start from.
TARGETS = ("results/tables/gosh_studies.csv", "results/tables/multiverse.csv")

# Seconds between the controller's status checks in the test: the workflow's jobs take seconds, and
# the profile's 10 s (fine on a cluster) would make the test wait most of its time.
STATUS_CHECK_SECONDS = "1"
# slurm.conf's MinJobAge (s): how long squeue still shows a finished job. The plugin uses squeue only
# when this is at least three times its first status-check delay, else it falls back to sacct, which
# needs an accounting database that this single node does not have.
MIN_JOB_AGE = 600
# Memory left to the system and the daemons (MB), out of what slurmd -C reports.
MEMORY_MARGIN_MB = 1024

NODE_KEYS = ("CPUs", "Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore", "RealMemory")


def parse_node_line(slurmd_c: str) -> dict[str, str]:
    """The ``Key=value`` pairs of ``slurmd -C``'s first line (``NodeName=vm CPUs=2 ... RealMemory=24105``)."""
    first = slurmd_c.strip().splitlines()[0]
    pairs = dict(item.split("=", 1) for item in first.split() if "=" in item)
    missing = [key for key in ("NodeName", "CPUs", "RealMemory") if key not in pairs]
    if missing:
        raise ValueError(f"slurmd -C printed no {', '.join(missing)}: {first!r}")
    return pairs


def slurm_conf(node: dict[str, str], state_dir: Path, min_job_age: int = MIN_JOB_AGE) -> str:
    """A slurm.conf for one node that is also the controller, named as slurmd names this machine (its
    short hostname): munge authentication, no accounting database, no cgroups (proctrack/linuxproc,
    task/none: the test runs in containers too), cores and memory as consumable resources so that the
    rules' ``threads`` and ``mem_mb`` are what SLURM schedules."""
    hostname = node["NodeName"]
    memory = max(int(node["RealMemory"]) - MEMORY_MARGIN_MB, 512)
    hardware = " ".join(f"{key}={node[key]}" for key in NODE_KEYS if key in node and key != "RealMemory")
    state = Path(state_dir)
    return "\n".join(
        [
            MARKER,
            "ClusterName=sbrtmeta-test",
            f"SlurmctldHost={hostname}",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            f"StateSaveLocation={state / 'ctld'}",
            f"SlurmdSpoolDir={state / 'spool'}",
            f"SlurmctldPidFile={state / 'slurmctld.pid'}",
            f"SlurmdPidFile={state / 'slurmd.pid'}",
            f"SlurmctldLogFile={state / 'slurmctld.log'}",
            f"SlurmdLogFile={state / 'slurmd.log'}",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "MpiDefault=none",
            "MailProg=/bin/true",
            "SchedulerType=sched/backfill",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            f"MinJobAge={min_job_age}",
            "ReturnToService=2",
            f"NodeName={hostname} {hardware} RealMemory={memory} State=UNKNOWN",
            f"PartitionName=test Nodes={hostname} Default=YES MaxTime=INFINITE State=UP",
            "",
        ]
    )


def differing_tables(local: Path, slurm: Path) -> tuple[list[str], list[str]]:
    """(files compared, files that differ or exist on one side only) under two results/tables/ folders."""
    names = sorted(
        {p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file()}
        | {p.relative_to(slurm).as_posix() for p in slurm.rglob("*") if p.is_file()}
    )
    differ = [
        name
        for name in names
        if not (local / name).is_file()
        or not (slurm / name).is_file()
        or (local / name).read_bytes() != (slurm / name).read_bytes()
    ]
    return names, differ


SUBMITTED = re.compile(r"^Job \S+ has been submitted with SLURM jobid (\d+)", re.MULTILINE)


def submitted_jobs(snakemake_log: str) -> list[str]:
    """The SLURM job ids that the executor plugin reported submitting (one line per job in its log)."""
    return SUBMITTED.findall(snakemake_log)


def _snakemake(cwd: Path, *args: str) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=cwd,
        env=snakemake_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seconds = time.perf_counter() - start
    (cwd / "snakemake.out").write_text(proc.stdout)
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-40:])
        raise SystemExit(f"snakemake {' '.join(args)} failed in {cwd} (exit {proc.returncode}):\n{tail}")
    return seconds, proc.stdout


def run(work: Path, targets: list[str]) -> None:
    local = copy_project(work / "local")
    slurm = copy_project(work / "slurm")
    local_s, _ = _snakemake(local, "--cores", "2", *targets)
    slurm_s, log = _snakemake(
        slurm,
        "--profile",
        "profiles/slurm",
        "--seconds-between-status-checks",
        STATUS_CHECK_SECONDS,
        "--slurm-init-seconds-before-status-checks",
        STATUS_CHECK_SECONDS,
        *targets,
    )
    jobs = submitted_jobs(log)
    if not jobs:
        raise SystemExit(f"the SLURM run submitted no job to SLURM (log: {slurm / 'snakemake.out'})")
    names, differ = differing_tables(local / "results" / "tables", slurm / "results" / "tables")
    if not names:
        raise SystemExit("no table under results/tables/ in either run")
    if differ:
        raise SystemExit(f"{len(differ)} of {len(names)} tables differ between the SLURM and the local run: {differ}")
    print(
        f"{len(names)} tables under results/tables/ byte-identical: {len(jobs)} SLURM jobs in {slurm_s:.0f} s, "
        f"local run (--cores 2) in {local_s:.0f} s"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    conf = sub.add_parser("conf", help="print a single-node slurm.conf for this machine")
    conf.add_argument("state_dir", type=Path)
    runp = sub.add_parser("run", help="run the targets locally and through SLURM, compare the tables")
    runp.add_argument("work_dir", type=Path)
    runp.add_argument("targets", nargs="*", default=list(TARGETS))
    args = parser.parse_args(argv)
    if args.command == "conf":
        node = parse_node_line(subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True).stdout)
        sys.stdout.write(slurm_conf(node, args.state_dir))
    else:
        run(args.work_dir, args.targets)


if __name__ == "__main__":
    main()
