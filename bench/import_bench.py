"""CPU seconds each Snakemake job spends importing, before it does any work (issues 21 and 23).

    .venv/bin/python bench/import_bench.py              # about a minute on 2 cores
    .venv/bin/python bench/import_bench.py --repeat 5 pool forest_plots

A job of the workflow is a fresh Python process: the interpreter, Snakemake's script preamble
(it unpickles the job's ``snakemake`` object: ``snakemake.iocontainers``, ``snakemake.logging``),
then the top-level imports of its script in ``workflow/scripts/``. For every script this runs those
imports alone in a new process (``PYTHONPATH=workflow``, the environment as it is, so
``PYTHONDONTWRITEBYTECODE`` counts if it is set) and prints the user + system CPU seconds, the least of
``--repeat`` runs, with the heavy libraries the imports pulled in. The floors are timed the same way:
the bare interpreter, the preamble, and numpy + pandas (which every step needs to read a table), so
the ratio "step / floor" says how much more than reading a table a job pays before it starts.

With ``PYTHONDONTWRITEBYTECODE`` set, no ``.pyc`` of the package is ever written, so every job compiles
the package's modules it imports again; the column "cached" times the same imports with bytecode cached
(``PYTHONPYCACHEPREFIX``: a temporary folder, filled by a first run that is not counted), the difference
being what the setting costs each job.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "workflow" / "scripts"
HEAVY = ("scipy.stats", "scipy.optimize", "statsmodels", "pandera", "matplotlib", "openpyxl", "docx")
PREAMBLE = "import pickle; from snakemake.logging import logger; from snakemake.iocontainers import Snakemake"
FLOORS = {
    "python (no import)": "pass",
    "snakemake preamble": PREAMBLE,
    "preamble + numpy + pandas": f"{PREAMBLE}; import numpy, pandas",
}
# run in the child: the imports, then which heavy libraries they loaded
PROBE = "\nimport json, sys\nprint(json.dumps([h for h in {heavy!r} if h in sys.modules]))\n"


def script_imports(script: Path) -> str:
    """The top-level import statements of a rule's script, as source (what the job runs before ``main``)."""
    tree = ast.parse(script.read_text(encoding="utf-8"))
    return "\n".join(ast.unparse(node) for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom))


def cpu_of(code: str, repeat: int, pycache: str | None = None) -> tuple[float, list[str]]:
    """Least user + system CPU seconds of ``python -c code`` over ``repeat`` runs, and the heavy modules loaded;
    with ``pycache``, bytecode is written to and read from that folder (a first run fills it, not counted)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "workflow")}
    if pycache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pycache
    best, heavy = float("inf"), []
    for run in range(repeat + bool(pycache)):
        proc = subprocess.Popen(
            [sys.executable, "-c", code + PROBE.format(heavy=HEAVY)], env=env, cwd=ROOT, stdout=subprocess.PIPE
        )
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise SystemExit(f"import failed ({proc.returncode}):\n{code}")
        if pycache and run == 0:  # the run that fills the cache
            continue
        best = min(best, usage.ru_utime + usage.ru_stime)
        heavy = json.loads(out)
    return best, heavy


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("steps", nargs="*", help="rule scripts to time (default: all of workflow/scripts)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per script; the least CPU is printed")
    args = parser.parse_args(argv)
    scripts = sorted(SCRIPTS.glob("*.py"))
    if args.steps:
        scripts = [s for s in scripts if s.stem in args.steps]
    print(f"\nImport CPU of each job (user + system seconds, least of {args.repeat}):\n")
    floors = {name: cpu_of(code, args.repeat)[0] for name, code in FLOORS.items()}
    for name, cpu in floors.items():
        print(f"  {name:<28} {cpu:6.2f}")
    floor = floors["preamble + numpy + pandas"]
    print(f"\n  {'step':<28} {'CPU s':>6} {'/ floor':>8} {'cached':>7}  heavy libraries imported")
    total = cached_total = 0.0
    with tempfile.TemporaryDirectory() as pycache:
        for script in scripts:
            code = f"{PREAMBLE}\n{script_imports(script)}"
            (cpu, heavy), (cached, _) = cpu_of(code, args.repeat), cpu_of(code, args.repeat, pycache)
            total, cached_total = total + cpu, cached_total + cached
            print(f"  {script.stem:<28} {cpu:6.2f} {cpu / floor:7.1f}x {cached:7.2f}  {', '.join(heavy) or '-'}")
    print(f"  {'sum (one job per script)':<28} {total:6.2f} {'':8} {cached_total:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
