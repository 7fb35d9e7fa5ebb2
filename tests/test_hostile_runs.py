"""Whole runs with hostile or empty selections (issue 16), in one temporary copy of the project.

- Every CSV the workflow writes, with the shipped config and with config/examples/config.yaml,
  holds no cell a spreadsheet would run as a formula (a cell starting with =, +, @, a tab or a
  carriage return, or with - and not a number).
- A valid config that selects nothing poolable runs to the end: every table is written with its
  header, not_pooled.csv and the pool log say why, the report says so in its first lines, and the
  figure jobs write empty folders. Likewise a dose-response with no arms.
- A run killed (SIGKILL) in the middle of its pool job, unlocked and run again, writes tables
  byte-identical to an uninterrupted run; a second run started in the same folder while one
  runs stops with Snakemake's lock message, and the first finishes unharmed.

The shipped config's run is the session's (tests/conftest.py ``shipped_run``): the runs here share one
copy of it, where the empty selections and the killed and concurrent runs reuse its cleaned outcomes
(only the steps after the cleanup run again; the result folders are emptied first so that no table of
an earlier run is mistaken for one of this run). The example config runs in a fresh copy of its own.
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
from project_copy import copy_project, copy_run, run_snakemake, snakemake_env

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
def example_and_shipped_runs(work, tmp_path_factory):
    """The example config's run (in a copy of its own) and the shipped config's (``work``, before any test
    changes it): the formula-like cells of each."""
    example = copy_project(tmp_path_factory.mktemp("hostile_example") / "project")
    proc = run_snakemake(example, "--configfile", "config/examples/config.yaml")
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = {}
    for name, folder in (("example", example), ("shipped", work)):
        found[name] = _formula_cells(folder / "results")
        assert list((folder / "results").rglob("*.csv")), name
    shutil.copytree(work / "results/tables", work.parent / "shipped_tables")  # for the killed runs below
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
HEADER_ONLY = ("included.csv", "pooled.csv", "pooled_studies.csv", "subgroup_tests.csv")


def _run_with(work: Path, name: str, change) -> tuple:
    cfg = _edit(yaml.safe_load((work / "config/config.yaml").read_text()), change)
    path = work / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    _clear_results(work)
    proc = run_snakemake(work, "--configfile", path.name)
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
    proc, results = _run_with(work, re.sub(r"\W+", "_", kind), EMPTY_SELECTIONS[kind])
    assert proc.returncode == 0, proc.stderr[-3000:]
    _assert_every_table_has_its_header(results)
    for name in HEADER_ONLY:
        assert pd.read_csv(results / "tables" / name).empty, name
    not_pooled = pd.read_csv(results / "tables/not_pooled.csv")
    assert len(not_pooled) and not_pooled["reason"].notna().all()
    assert "NOTHING POOLED" in (results / "logs/pool.log").read_text(encoding="utf-8")
    head = (results / "report/summary.md").read_text(encoding="utf-8").splitlines()[:6]
    assert any(line.startswith("**Nothing could be pooled**: ") for line in head), head
    for kind_dir in ("forest", "funnel"):  # one file per pooled cell: none (Snakemake's own marker aside)
        folder = results / "figures" / kind_dir
        assert folder.is_dir() and [p.name for p in folder.iterdir() if not p.name.startswith(".")] == []


@pytest.mark.workflow
def test_dose_response_with_no_arms_runs_to_the_end(example_and_shipped_runs, work):
    proc, results = _run_with(work, "no_dose_arms", lambda c: c["dose_response"].update(timepoint_months=7))
    assert proc.returncode == 0, proc.stderr[-3000:]
    _assert_every_table_has_its_header(results)
    for name in ("dose_response.csv", "dose_response_arms.csv"):
        assert pd.read_csv(results / "tables" / name).empty, name
    summary = (results / "report/summary.md").read_text(encoding="utf-8")
    assert "No dose-response model was fitted: no arm has a dose" in summary
    assert "no dose-response to fit" in (results / "logs/dose_response.log").read_text(encoding="utf-8")


# --- killed and concurrent runs ------------------------------------------------------------------------


def _start(work: Path) -> subprocess.Popen:
    """`snakemake` in its own process group (so that a kill reaches its jobs too, as a power loss would)."""
    return subprocess.Popen(
        [sys.executable, "-m", "snakemake"],
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


def _assert_tables_as_shipped(work: Path) -> None:
    expected = work.parent / "shipped_tables"
    names = sorted(p.name for p in expected.glob("*.csv"))
    assert sorted(p.name for p in (work / "results/tables").glob("*.csv")) == names
    for name in names:
        assert (work / "results/tables" / name).read_bytes() == (expected / name).read_bytes(), name


@pytest.mark.workflow
def test_run_killed_in_the_pool_job_reruns_to_identical_tables(example_and_shipped_runs, work):
    _clear_results(work)
    proc = _start(work)
    pool_log = work / "results/logs/pool.log"  # the pool job's first act is to open its log
    _wait_for(pool_log.exists, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert any((work / ".snakemake/incomplete").iterdir())  # the pool job's outputs are marked incomplete
    # the README's steps: the kill left Snakemake's lock behind; unlock, then run again
    locked = run_snakemake(work)
    assert locked.returncode != 0 and "Directory cannot be locked" in locked.stderr
    assert run_snakemake(work, "--unlock").returncode == 0
    rerun = run_snakemake(work)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    _assert_tables_as_shipped(work)


@pytest.mark.workflow
def test_second_run_in_the_same_folder_stops_at_the_lock(example_and_shipped_runs, work):
    _clear_results(work)
    first = _start(work)
    locks = work / ".snakemake/locks"
    _wait_for(lambda: locks.is_dir() and any(locks.iterdir()), first)
    second = run_snakemake(work)
    assert first.poll() is None, "the first run ended before the second started: the test proves nothing"
    assert second.returncode != 0
    assert "Directory cannot be locked" in second.stderr
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-3000:]
    _assert_tables_as_shipped(work)
