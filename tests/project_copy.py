"""A temporary copy of the project and a `snakemake` run in it, for end-to-end tests and the benchmark."""

import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT_FILES = ("Snakefile", "workflow", "config", "data", "profiles")

# tests/conftest.py sets this before each test: True only for a test marked `workflow`, so that `make test-fast`
# (pytest -m "not workflow") never starts Snakemake. Outside pytest (bench/) it stays True.
SNAKEMAKE_ALLOWED = True


def copy_project(dest: Path) -> Path:
    """The files a user's checkout has (no results, caches or build metadata) copied to ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy(src, dest / name)
    return dest


def snakemake_env(extra: dict | None = None) -> dict:
    """This interpreter's bin first on PATH (so the rules' scripts use it), without a fixed hash seed."""
    if not SNAKEMAKE_ALLOWED:
        raise RuntimeError(
            "this test runs Snakemake: mark it @pytest.mark.workflow (or its module: pytestmark = pytest.mark.workflow)"
        )
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("PYTHONHASHSEED", None)  # each run draws its own hash seed: outputs must not depend on it
    env.update(extra or {})
    return env


def copy_run(work: Path, dest: Path) -> Path:
    """A copy of a project copy after its run (results, .snakemake metadata and times kept), for a test that
    changes it: the session's run of the shipped config (tests/conftest.py) is shared by every test."""
    return shutil.copytree(work, dest, symlinks=True)


def run_snakemake(cwd: Path, *args: str, timeout: float = 900, env: dict | None = None) -> subprocess.CompletedProcess:
    """``snakemake *args`` in ``cwd`` (``env``: variables added to :func:`snakemake_env`'s). With
    ``SBRTMETA_SNAKEMAKE_TIMES`` set to a file, a line per run is appended to it: the test, the arguments, the
    wall and the CPU seconds of the run and its jobs (what to cut when the workflow tests grow slow)."""
    start, cpu = time.perf_counter(), _children_cpu()
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=cwd,
        env=snakemake_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if os.environ.get("SBRTMETA_SNAKEMAKE_TIMES"):
        with open(os.environ["SBRTMETA_SNAKEMAKE_TIMES"], "a", encoding="utf-8") as log:
            test = os.environ.get("PYTEST_CURRENT_TEST", "-").split(" ")[0]
            wall, used = time.perf_counter() - start, _children_cpu() - cpu
            log.write(f"{wall:.1f}\t{used:.1f}\t{test}\t{' '.join(args)[:200]}\n")
    return proc


def job_stats(printed: str) -> dict[str, int]:
    """Jobs per rule of the "Job stats:" table Snakemake prints before a run or dry run ({} when it prints none,
    as with nothing to do)."""
    if "Job stats:" not in printed:
        return {}
    table = printed.split("Job stats:", 1)[1].split("\ntotal", 1)[0].splitlines()[3:]
    return {name: int(count) for name, count in (line.split() for line in table if line.strip())}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
