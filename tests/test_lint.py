"""The linters of `make lint`, run as tests: `make test` (and so .ci/run) runs them here, once, and not also
through `make lint` (tests/test_layers.py runs lint-imports, the fifth). `make test-fast` runs all but
`snakemake --lint`, which runs in a project copy (it parses the workflow, and nothing else should run Snakemake
in the checkout).
"""

import subprocess
import sys
from pathlib import Path

import pytest
from project_copy import ROOT, copy_project, snakemake_env

BIN = Path(sys.executable).parent


def run(*cmd: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    "cmd",
    [
        ("ruff", "check", "."),
        ("ruff", "format", "--check", "."),
        ("snakefmt", "--check", "Snakefile", "workflow/rules"),
    ],
    ids=" ".join,
)
def test_linter_passes(cmd):
    proc = run(str(BIN / cmd[0]), *cmd[1:])
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]


@pytest.mark.workflow
def test_snakemake_lint_finds_nothing(tmp_path):
    proc = run(sys.executable, "-m", "snakemake", "--lint", cwd=copy_project(tmp_path / "project"), env=snakemake_env())
    assert proc.returncode == 0 and "Lints for" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
