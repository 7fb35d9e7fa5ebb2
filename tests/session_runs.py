"""The session's complete Snakemake runs, made once per ``pytest`` session, also under pytest-xdist.

Every pytest-xdist worker is its own process with its own session fixtures, so a session fixture that ran
Snakemake would run it once per worker. Here each run is made in a folder every worker sees (the session's
base temporary folder, the parent of each worker's own), under a file lock: the first process to need a run
makes it, and the others wait for it and read it.

``make test`` runs the whole suite on one worker per core. Its controller (the process that hands out the tests
and runs none) starts the runs in a background thread as the session starts (:func:`start_early`), while the
workers run the tests that need no run (tests/conftest.py sorts the workflow tests last). So the cold runs fill
the cores while the in-process tests run, instead of after them.
"""

import fcntl
import json
import os
import subprocess
import threading
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import project_copy
import pytest
import yaml

ALL_FORMATS = ("png", "pdf", "svg")
TIMEOUT = 1800  # s: a cold run takes about a minute on 2 idle cores; the timeout only stops a hung run


def every_format(work: Path) -> None:
    """The copy's config with every figure format (png, pdf, svg) at 72 dpi: ``figures`` only, whose values no
    table's content depends on."""
    path = work / "config" / "config.yaml"
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    formats = list(cfg["figures"]["formats"])
    cfg["figures"].update(formats=formats + [f for f in ALL_FORMATS if f not in formats], dpi=72)
    path.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _every_format_run(folder: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """The shipped config in every figure format, copied into ``folder`` and run (``env``: variables added)."""
    work = project_copy.copy_project(folder / "project")
    every_format(work)
    return project_copy.run_snakemake(work, env=env, timeout=TIMEOUT)


def _shipped(folder: Path) -> subprocess.CompletedProcess:
    """The shipped config in every figure format, each job's ``sbrtmeta`` logged (tests/import_log/)."""
    hook = str(Path(__file__).resolve().parent / "import_log")
    path = os.pathsep.join(filter(None, [hook, os.environ.get("PYTHONPATH")]))
    return _every_format_run(folder, {"PYTHONPATH": path, "SBRTMETA_IMPORT_LOG": str(folder / "imported_sbrtmeta.txt")})


def _elsewhere(folder: Path) -> subprocess.CompletedProcess:
    """The same as :func:`_shipped`, at another path, without the import log: the determinism tests' second run."""
    return _every_format_run(folder)


def _example(folder: Path) -> subprocess.CompletedProcess:
    """config/examples/config.yaml: its own sheets and risk-of-bias workbook."""
    work = project_copy.copy_project(folder / "project")
    return project_copy.run_snakemake(work, "--configfile", "config/examples/config.yaml", timeout=TIMEOUT)


# name -> what makes it, in the order the controller starts them (the run most tests read first)
RUNS: dict[str, Callable[[Path], subprocess.CompletedProcess]] = {
    "shipped": _shipped,
    "example": _example,
    "elsewhere": _elsewhere,
}


def shared_folder(tmp_path_factory) -> Path:
    """The session's base temporary folder: the controller's own, which is each xdist worker's parent."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def _locked(path: Path):
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
        yield


def made(root: Path, name: str) -> tuple[Path, subprocess.CompletedProcess]:
    """The run ``name`` in ``root``: made now if no process has made it yet, else read. Returns its folder and
    its finished process (returncode, stdout, stderr)."""
    folder = root / f"run_{name}"
    record = folder / "process.json"
    with _locked(root / f"run_{name}.lock"):
        if not record.exists():
            folder.mkdir(parents=True, exist_ok=True)
            proc = RUNS[name](folder)
            fields = {"args": proc.args, "returncode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}
            record.write_text(json.dumps(fields), encoding="utf-8")
    fields = json.loads(record.read_text(encoding="utf-8"))
    proc = subprocess.CompletedProcess(**fields)
    if proc.returncode != 0:
        pytest.fail(f"the session's {name} run failed:\n{proc.stderr[-4000:]}", pytrace=False)
    return folder, proc


def _full_suite_with_workers(config) -> bool:
    """The controller of a pytest-xdist session over the default test paths whose selection keeps the workflow
    tests: the runs will be needed, so start them now."""
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return False
    if config.args_source != pytest.Config.ArgsSource.TESTPATHS or config.option.keyword:
        return False
    markexpr = config.option.markexpr
    if not markexpr:
        return True
    from _pytest.mark.expression import Expression

    return Expression.compile(markexpr).evaluate(lambda name, **_: name == "workflow")


def start_early(config, root: Path) -> None:
    """In the controller of a full xdist session, make every run in a background thread (one at a time, each on
    the profile's cores) while the workers run the other tests."""
    if not _full_suite_with_workers(config):
        return

    def make_all():
        for name in RUNS:
            try:
                made(root, name)
            except BaseException:  # noqa: BLE001  (a failed run is recorded; the tests that need it report it)
                pass

    threading.Thread(target=make_all, name="session-runs", daemon=True).start()
