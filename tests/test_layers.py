"""The package's layers hold: import-linter's contracts (``[tool.importlinter]`` in
pyproject.toml) are kept, and they do break when a plot imports an estimator."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` run in ``root`` on its pyproject.toml, with ``root/workflow`` importable."""
    env = dict(os.environ, PYTHONPATH=str(root / "workflow"))
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_layer_contracts_are_kept():
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


def test_a_plot_that_fits_breaks_the_contracts(tmp_path):
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "workflow" / "sbrtmeta", tmp_path / "workflow" / "sbrtmeta")
    funnel = tmp_path / "workflow" / "sbrtmeta" / "plots" / "funnel.py"
    funnel.write_text(funnel.read_text() + "\nfrom sbrtmeta.stats.small_study import trimfill  # noqa\n")
    run = lint_imports(tmp_path)
    assert run.returncode != 0
    assert "sbrtmeta.plots.funnel -> sbrtmeta.stats.small_study" in run.stdout
