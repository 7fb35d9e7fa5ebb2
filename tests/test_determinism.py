"""Determinism: two clean runs give byte-identical results; a failing job leaves none.

Two temporary copies of the project (at different paths, so a path leaking into an
output shows up) are run from scratch with the default profile and with PDF and SVG added to
``figures.formats`` (at 72 dpi: tests/conftest.py's ``all_formats_runs``, which
tests/test_figures_workflow.py reads too). Every table and figure under results/ must be
byte-identical: CSV, PDF, SVG and PNG (the PNG writer is deterministic for the same pixels; if that
ever changes, this test is where it shows). The comparison globs over results/, so
new rules and outputs are covered without editing this file (results/benchmarks/ aside: the jobs'
times and memory, which differ from run to run).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from project_copy import copy_project as _copy_project
from project_copy import run_snakemake as _snakemake

pytestmark = pytest.mark.workflow  # every test here runs Snakemake (make test-fast leaves them out)

ROOT = Path(__file__).resolve().parents[1]
COMPARED = ("*.csv", "*.tsv", "*.pdf", "*.svg", "*.png")


def _outputs(work: Path) -> dict[str, str]:
    """sha256 of every compared file under results/ (but the benchmarks), by path relative to results/."""
    results = work / "results"
    files = sorted({p for pattern in COMPARED for p in results.rglob(pattern) if p.is_file()})
    files = [p for p in files if p.relative_to(results).parts[0] != "benchmarks"]
    return {str(p.relative_to(results)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture(scope="module")
def two_runs(all_formats_runs):
    return all_formats_runs


def test_both_runs_write_the_same_files(two_runs):
    a, b = (_outputs(w) for w in two_runs)
    assert sorted(a) == sorted(b)
    kinds = {Path(p).suffix for p in a}
    assert {".csv", ".pdf", ".svg", ".png"} <= kinds, kinds


@pytest.mark.parametrize("suffix", [".csv", ".pdf", ".svg", ".png"])
def test_outputs_are_byte_identical(two_runs, suffix):
    a, b = (_outputs(w) for w in two_runs)
    names = [p for p in a if p.endswith(suffix)]
    assert names, f"no {suffix} outputs"
    differ = [p for p in names if a[p] != b.get(p)]
    assert not differ, f"{len(differ)} of {len(names)} {suffix} files differ between two clean runs: {differ}"


def test_tables_do_not_mention_the_run_directory(two_runs):
    for work in two_runs:
        for table in (work / "results").rglob("*.csv"):
            text = table.read_text(encoding="utf-8", errors="replace")
            assert str(work) not in text and str(work.parent) not in text, table


def test_failing_job_leaves_no_output_behind(tmp_path):
    """A corrupt raw cell fails the first job: nothing of it, nor of any later rule, is left."""
    work = _copy_project(tmp_path / "project")
    raw = sorted((work / "data" / "raw").glob("*extraction*.csv"))[0]
    text = raw.read_text(encoding="utf-8")
    assert "57% (20)" in text
    raw.write_text(text.replace("57% (20)", "157% (20)", 1), encoding="utf-8")
    proc = _snakemake(work)
    assert proc.returncode != 0
    assert "outside 0-100" in proc.stderr
    results = work / "results"
    left = (
        sorted(
            str(p.relative_to(results))
            for p in results.rglob("*")
            if p.is_file() and not p.relative_to(results).parts[0] == "logs"
        )
        if results.exists()
        else []
    )
    assert left == [], f"a failed run left outputs behind: {left}"
    assert not (results / "clean").exists() or not any((results / "clean").iterdir())
    assert not (results / "tables").exists()
    # and the run is resumable: after the repair it builds the first outputs from scratch
    raw.write_text(text, encoding="utf-8")
    proc = _snakemake(work, "results/tables/included.csv")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (results / "tables" / "included.csv").stat().st_size > 0
