import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

# The package lives in workflow/ (the Snakemake catalog layout); make it importable
# when the tests run from a checkout without an editable install.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

import project_copy  # noqa: E402  (tests/ is on the path: pytest puts a conftest's folder there)

# a module that reads metafor's values: tests/fixtures/metafor_*.csv, directly or through sensitivity_fixtures.py
METAFOR_FIXTURES = re.compile(r"metafor_\w*\.csv|\bsensitivity_fixtures\b")


def pytest_collection_modifyitems(config, items):
    """Every test of a module that compares with metafor's fixtures gets the `metafor` marker (besides the tests
    marked by hand), so that `pytest -m metafor` reruns them after `make fixtures`. (make test runs the workflow
    tests in a pass of their own, without pytest-xdist, so that the session's runs are made once.)"""
    reads = {}
    for item in items:
        path = item.path
        if path not in reads:
            reads[path] = bool(METAFOR_FIXTURES.search(path.read_text(encoding="utf-8")))
        if reads[path]:
            item.add_marker(pytest.mark.metafor)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Snakemake may run only in a test marked `workflow` (its fixtures included, which set up before it)."""
    project_copy.SNAKEMAKE_ALLOWED = item.get_closest_marker("workflow") is not None


@dataclass(frozen=True)
class ShippedRun:
    """A project copy after `snakemake` with the shipped config: its folder, the finished process, and the file
    of the ``sbrtmeta`` package each of the run's Python processes imported (tests/import_log/)."""

    work: Path
    proc: object
    imported: list[str]


ALL_FORMATS = ("png", "pdf", "svg")


def every_format(work: Path) -> None:
    """The copy's config with every figure format (png, pdf, svg) at 72 dpi: ``figures`` only, whose values no
    table's content depends on (a change of them still reruns the rules that both compute and draw)."""
    path = work / "config" / "config.yaml"
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    formats = list(cfg["figures"]["formats"])
    cfg["figures"].update(formats=formats + [f for f in ALL_FORMATS if f not in formats], dpi=72)
    path.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), encoding="utf-8")


@pytest.fixture(scope="session")
def shipped_run(tmp_path_factory) -> ShippedRun:
    """The one complete run of the shipped config, for every test that only reads it; a test that changes the
    project or its results works in ``project_copy.copy_run(shipped_run.work, tmp_path / ...)``. Its figures are
    in every format at 72 dpi (:func:`every_format`), so that the same run serves the figure and determinism
    tests (``all_formats_runs``): one cold run fewer in ``make test``."""
    work = project_copy.copy_project(tmp_path_factory.mktemp("shipped") / "project")
    every_format(work)
    log = work.parent / "imported_sbrtmeta.txt"
    hook = str(Path(__file__).resolve().parent / "import_log")
    path = os.pathsep.join(filter(None, [hook, os.environ.get("PYTHONPATH")]))
    # (a cold run takes about a minute on 2 idle cores; the timeout only stops a hung run, and ~40 tests wait on it)
    proc = project_copy.run_snakemake(work, env={"PYTHONPATH": path, "SBRTMETA_IMPORT_LOG": str(log)}, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return ShippedRun(work, proc, log.read_text(encoding="utf-8").splitlines())


@pytest.fixture(scope="session")
def all_formats_runs(shipped_run, tmp_path_factory) -> list[Path]:
    """Two complete runs of the shipped config with every figure format (png, pdf, svg; 72 dpi) at different
    paths, so that a path leaking into an output shows: the session's ``shipped_run`` and a second one elsewhere,
    copied from the checkout and run from scratch. tests/test_determinism.py compares them, and
    tests/test_figures_workflow.py works in a copy of the first."""
    work = project_copy.copy_project(tmp_path_factory.mktemp("second_run_elsewhere") / "project")
    every_format(work)
    proc = project_copy.run_snakemake(work, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return [shipped_run.work, work]


@pytest.fixture(scope="session")
def example_run(tmp_path_factory) -> Path:
    """The one complete run of config/examples/config.yaml (its own sheets and risk-of-bias workbook), for every
    test that only reads it; a test that changes it works in a ``project_copy.copy_run`` of it."""
    work = project_copy.copy_project(tmp_path_factory.mktemp("example") / "project")
    proc = project_copy.run_snakemake(work, "--configfile", "config/examples/config.yaml", timeout=1800)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return work
