import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# The package lives in workflow/ (the Snakemake catalog layout); make it importable
# when the tests run from a checkout without an editable install.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

import project_copy  # noqa: E402  (tests/ is on the path: pytest puts a conftest's folder there)
import session_runs  # noqa: E402

# a module that reads metafor's values: tests/fixtures/metafor_*.csv, directly or through sensitivity_fixtures.py
METAFOR_FIXTURES = re.compile(r"metafor_\w*\.csv|\bsensitivity_fixtures\b")


def pytest_collection_modifyitems(config, items):
    """Every test of a module that compares with metafor's fixtures gets the `metafor` marker (besides the tests
    marked by hand), so that `pytest -m metafor` reruns them after `make fixtures`."""
    reads = {}
    for item in items:
        path = item.path
        if path not in reads:
            reads[path] = bool(METAFOR_FIXTURES.search(path.read_text(encoding="utf-8")))
        if reads[path]:
            item.add_marker(pytest.mark.metafor)
    # the workflow tests last (a stable sort): under pytest-xdist the workers run the others first, while the
    # controller makes the session's Snakemake runs (tests/session_runs.py)
    items.sort(key=lambda item: item.get_closest_marker("workflow") is not None)


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


def pytest_sessionstart(session):
    """Under pytest-xdist's controller, start the session's Snakemake runs (tests/session_runs.py)."""
    config = session.config
    if hasattr(config, "_tmp_path_factory"):
        session_runs.start_early(config, session_runs.shared_folder(config._tmp_path_factory))


@pytest.fixture(scope="session")
def shipped_run(tmp_path_factory) -> ShippedRun:
    """The one complete run of the shipped config, for every test that only reads it; a test that changes the
    project or its results works in ``project_copy.copy_run(shipped_run.work, tmp_path / ...)``. Its figures are
    in every format at 72 dpi (:func:`session_runs.every_format`), so that the same run serves the figure and
    determinism tests (``all_formats_runs``). Made once per session, also under pytest-xdist (tests/session_runs.py)."""
    folder, proc = session_runs.made(session_runs.shared_folder(tmp_path_factory), "shipped")
    imported = (folder / "imported_sbrtmeta.txt").read_text(encoding="utf-8").splitlines()
    return ShippedRun(folder / "project", proc, imported)


@pytest.fixture(scope="session")
def all_formats_runs(shipped_run, tmp_path_factory) -> list[Path]:
    """Two complete runs of the shipped config with every figure format (png, pdf, svg; 72 dpi) at different
    paths, so that a path leaking into an output shows: the session's ``shipped_run`` and a second one elsewhere,
    copied from the checkout and run from scratch. tests/test_determinism.py compares them, and
    tests/test_figures_workflow.py works in a copy of the first."""
    folder, _ = session_runs.made(session_runs.shared_folder(tmp_path_factory), "elsewhere")
    return [shipped_run.work, folder / "project"]


@pytest.fixture(scope="session")
def example_run(tmp_path_factory) -> Path:
    """The one complete run of config/examples/config.yaml (its own sheets and risk-of-bias workbook), for every
    test that only reads it; a test that changes it works in a ``project_copy.copy_run`` of it."""
    folder, _ = session_runs.made(session_runs.shared_folder(tmp_path_factory), "example")
    return folder / "project"
