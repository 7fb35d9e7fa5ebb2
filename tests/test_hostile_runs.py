"""Whole runs with hostile or empty selections (issue 16), in copies of the session's runs.

- Every CSV the workflow writes, with the shipped config and with config/examples/config.yaml,
  holds no cell a spreadsheet would run as a formula (a cell starting with =, +, @, a tab or a
  carriage return, or with - and not a number).
- A valid config that selects nothing poolable runs to the end: every table is written with its
  header, not_pooled.csv and the pool log say why, the report says so in its first lines, and the
  figure jobs write empty folders. Each empty selection (no site, no time point, no study large
  enough) leaves inclusion and pooling with nothing, and one of them is run to the end: from an empty
  included.csv on, every job runs the same code whichever criterion emptied it. Likewise a
  dose-response with no arms (only the jobs that the changed time point reruns).
- A run killed (SIGKILL) in the middle of its pool job, unlocked and run again, writes pool tables
  byte-identical to an uninterrupted run; a second run started in the same folder while one
  runs stops with Snakemake's lock message, and the first finishes unharmed.

The runs are the session's (tests/conftest.py ``shipped_run``, ``example_run``): the empty selections
share one copy of the shipped run and reuse its cleaned outcomes (only the steps after the cleanup run
again; the result folders are emptied first so that no table of an earlier run is mistaken for one of this
run); the dose-response, killed and concurrent runs each work in a copy of their own and rerun only the
jobs they test (the pool job, forced), so that the suite stays within minutes.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from project_copy import copy_run, run_snakemake, snakemake_env

# A cell a spreadsheet would run as a formula (the rule of sbrtmeta.data.sheets.formula_reason,
# written out again here so that the test does not take it from the code it checks).
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def _formula_like(cell: str) -> bool:
    if cell[:1] in ("=", "+", "@", "\t", "\r"):
        return not _NUMBER.fullmatch(cell)  # '+5' is a number, not a formula
    return cell.startswith("-") and cell != "-" and not _NUMBER.fullmatch(cell)


def _formula_cells(results: Path) -> list[str]:
    found = []
    for path in sorted(results.rglob("*.csv")):
        with open(path, encoding="utf-8", newline="") as f:
            for r, row in enumerate(csv.reader(f), start=1):
                found += [f"{path.relative_to(results)} row {r}: {c!r}" for c in row if _formula_like(c)]
    return found


def _clear_results(work: Path) -> None:
    """Every result but the cleaned outcomes (reused: the cleanup's inputs and parameters are the same)."""
    for sub in ("tables", "figures", "report", "logs"):
        shutil.rmtree(work / "results" / sub, ignore_errors=True)


@pytest.fixture(scope="module")
def work(shipped_run, tmp_path_factory):
    """A copy of the session's run of the shipped config."""
    return copy_run(shipped_run.work, tmp_path_factory.mktemp("hostile") / "project")


def test_formula_rule_of_this_test():
    """The test's own rule, on hand-picked cells (the issue's examples)."""
    assert _formula_like('=HYPERLINK("http://x","y")') and _formula_like("@SUM(1+1)") and _formula_like("-2+3+cmd")
    assert _formula_like("\tx") and _formula_like("\rx") and _formula_like("+x")
    assert not any(_formula_like(c) for c in ("-", "-5", "-0.25", "1e-05", "+5", "", "a=b", "Wulf [70]"))


@pytest.fixture(scope="module")
def example_and_shipped_runs(example_run, work):
    """The formula-like cells of the example config's run and of the shipped config's (``work``, before any
    test changes it)."""
    found = {}
    for name, folder in (("example", example_run), ("shipped", work)):
        found[name] = _formula_cells(folder / "results")
        assert list((folder / "results").rglob("*.csv")), name
    return found


@pytest.mark.workflow
@pytest.mark.parametrize("config", ["example", "shipped"])
def test_no_written_cell_is_a_formula(example_and_shipped_runs, config):
    assert example_and_shipped_runs[config] == []


def _edit(cfg: dict, change) -> dict:
    change(cfg)
    return cfg


EMPTY_SELECTIONS = {
    "sites [spine]": lambda c: c["inclusion"].update(sites=["spine"]),
    "timepoints targets [7]": lambda c: c["inclusion"]["timepoints"].update(targets=[7]),
    "min_n 10000": lambda c: c["inclusion"].update(min_n=10000),
}
TO_THE_END = "min_n 10000"  # the selection run to the end; the others stop after the pool job
POOL_TABLES = ("results/tables/pooled.csv", "results/tables/not_pooled.csv", "results/tables/pooled_studies.csv")
HEADER_ONLY = ("included.csv", "pooled.csv", "pooled_studies.csv", "subgroup_tests.csv")


def _run_with(work: Path, name: str, change, *targets: str) -> tuple:
    cfg = _edit(yaml.safe_load((work / "config/config.yaml").read_text()), change)
    path = work / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    _clear_results(work)
    proc = run_snakemake(work, *targets, "--configfile", path.name)  # --configfile takes every word after it
    return proc, work / "results"


def _assert_every_table_has_its_header(results: Path) -> None:
    tables = sorted((results / "tables").glob("*.csv"))
    assert tables
    for t in tables:
        first = t.read_text(encoding="utf-8").split("\n", 1)[0]
        assert first and "," in first, t.name  # a header, not a 1-byte file
        pd.read_csv(t)  # parses (pandas.errors.EmptyDataError on a file with no header)


@pytest.mark.workflow
@pytest.mark.parametrize("kind", list(EMPTY_SELECTIONS))
def test_nothing_poolable_runs_to_the_end(example_and_shipped_runs, work, kind):
    end = kind == TO_THE_END
    proc, results = _run_with(work, re.sub(r"\W+", "_", kind), EMPTY_SELECTIONS[kind], *(() if end else POOL_TABLES))
    assert proc.returncode == 0, proc.stderr[-3000:]
    _assert_every_table_has_its_header(results)
    for name in HEADER_ONLY if end else ("included.csv", "pooled.csv", "pooled_studies.csv"):
        assert pd.read_csv(results / "tables" / name).empty, name
    not_pooled = pd.read_csv(results / "tables/not_pooled.csv")
    assert len(not_pooled) and not_pooled["reason"].notna().all()
    assert "NOTHING POOLED" in (results / "logs/pool.log").read_text(encoding="utf-8")
    if not end:
        return
    head = (results / "report/summary.md").read_text(encoding="utf-8").splitlines()[:6]
    assert any(line.startswith("**Nothing could be pooled**: ") for line in head), head
    for kind_dir in ("forest", "funnel"):  # one file per pooled cell: none (Snakemake's own marker aside)
        folder = results / "figures" / kind_dir
        assert folder.is_dir() and [p.name for p in folder.iterdir() if not p.name.startswith(".")] == []


@pytest.mark.workflow
def test_dose_response_with_no_arms_runs_to_the_end(shipped_run, tmp_path):
    """Only what the time point changes runs again (the dose-response and what reads it), in a copy of the run."""
    own = copy_run(shipped_run.work, tmp_path / "project")
    cfg = _edit(
        yaml.safe_load((own / "config/config.yaml").read_text()),
        lambda c: c["dose_response"].update(timepoint_months=7),
    )
    (own / "config/config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    proc = run_snakemake(own)
    results = own / "results"
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "rule pool:" not in proc.stderr  # the pooling did not run again
    _assert_every_table_has_its_header(results)
    for name in ("dose_response.csv", "dose_response_arms.csv"):
        assert pd.read_csv(results / "tables" / name).empty, name
    summary = (results / "report/summary.md").read_text(encoding="utf-8")
    assert "No dose-response model was fitted: no arm has a dose" in summary
    assert "no dose-response to fit" in (results / "logs/dose_response.log").read_text(encoding="utf-8")


# --- killed and concurrent runs ------------------------------------------------------------------------
# Each in a copy of the shipped run, where `snakemake --forcerun pool <the pool's tables, the subgroup tests and
# the cumulative analysis>` runs the pool job and two jobs after it (the second run must find the first still
# running): what a whole run does at that moment, without the ~20 jobs after the pool that the kill or the lock
# does not reach.
RUN = ("--forcerun", "pool", *POOL_TABLES, "results/tables/subgroup_tests.csv", "results/tables/cumulative.csv")


def _start(work: Path) -> subprocess.Popen:
    """`snakemake` in its own process group (so that a kill reaches its jobs too, as a power loss would)."""
    return subprocess.Popen(
        [sys.executable, "-m", "snakemake", *RUN],
        cwd=work,
        env=snakemake_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_for(condition, proc: subprocess.Popen, timeout: float = 300) -> None:
    start = time.monotonic()
    while not condition():
        assert proc.poll() is None, "the run ended before the moment the test waits for"
        assert time.monotonic() - start < timeout
        time.sleep(0.005)


def _assert_tables_as_shipped(work: Path, shipped: Path) -> None:
    for name in RUN[2:]:
        assert (work / name).read_bytes() == (shipped / name).read_bytes(), name


@pytest.mark.workflow
def test_run_killed_in_the_pool_job_reruns_to_identical_tables(shipped_run, tmp_path):
    work = copy_run(shipped_run.work, tmp_path / "project")
    pool_log = work / "results/logs/pool.log"
    pool_log.unlink()  # the pool job's first act is to open its log
    proc = _start(work)
    _wait_for(pool_log.exists, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert any((work / ".snakemake/incomplete").iterdir())  # the pool job's outputs are marked incomplete
    # the README's steps: the kill left Snakemake's lock behind; unlock, then run again
    locked = run_snakemake(work, *RUN[2:])
    assert locked.returncode != 0 and "Directory cannot be locked" in locked.stderr
    assert run_snakemake(work, "--unlock").returncode == 0
    rerun = run_snakemake(work, *RUN[2:])
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert not any((work / ".snakemake/incomplete").iterdir())  # the incomplete pool job ran again
    _assert_tables_as_shipped(work, shipped_run.work)


@pytest.mark.workflow
def test_second_run_in_the_same_folder_stops_at_the_lock(shipped_run, tmp_path):
    work = copy_run(shipped_run.work, tmp_path / "project")
    first = _start(work)
    locks = work / ".snakemake/locks"
    _wait_for(lambda: locks.is_dir() and any(locks.iterdir()), first)
    second = run_snakemake(work)
    assert first.poll() is None, "the first run ended before the second started: the test proves nothing"
    assert second.returncode != 0
    assert "Directory cannot be locked" in second.stderr
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-3000:]
    _assert_tables_as_shipped(work, shipped_run.work)
