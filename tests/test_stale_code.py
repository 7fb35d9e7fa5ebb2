"""No rule can go stale: editing any module of the package plans exactly the rules whose code imports it.

In a project copy, after one complete run, every module file of ``workflow/sbrtmeta`` (``__init__.py``s
included, found on disk, never listed here) is edited in turn (a comment appended, the mtime bumped), and
``snakemake -n --quiet rules`` must plan the same jobs as ``--forcerun`` of the rules that import it, i.e.
those rules and the consumers downstream of them. Both dry runs name every file of the complete run as a
target: a dry run cannot see past the pooling checkpoint, so the figure jobs that all_figures adds after it
would otherwise be missing from both plans.

Which rules import a module is found here independently of the rules' ``code_of`` (grimp's import graph):
a subprocess per script executes the script's import statements (anywhere in the script), then those of
every package module loaded so far (also the ones inside functions, which a call can reach), until
nothing new loads, and reports the package modules in ``sys.modules``. The same subprocesses check that
the project's own ``workflow/`` package is the one imported, and the complete run checks that its jobs
import the copy's package, not an installed one.
"""

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from project_copy import copy_project, run_snakemake, snakemake_env

pytestmark = pytest.mark.workflow  # every test here runs Snakemake (make test-fast leaves them out)

# Executed with the copy's workflow/ on PYTHONPATH (as the Snakefile gives the jobs); argv: the script.
LOADED_MODULES = r"""
import ast, json, sys
from pathlib import Path

def run_imports(path, module=None):
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    package = None if module is None else (module if path.endswith("__init__.py") else module.rpartition(".")[0])
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            code = compile(ast.Module(body=[node], type_ignores=[]), path, "exec")
            exec(code, {"__name__": module or "__main__", "__package__": package})

run_imports(sys.argv[1])
done = set()
while True:
    todo = sorted(m for m in sys.modules if m.split(".")[0] == "sbrtmeta" and m not in done)
    if not todo:
        break
    for name in todo:
        done.add(name)
        run_imports(sys.modules[name].__file__, name)
print(json.dumps(sorted(sys.modules[m].__file__ for m in done)))
"""

IMPORT_LOG_HOOK = """
import os as _os
if _os.environ.get("SBRTMETA_IMPORT_LOG"):
    with open(_os.environ["SBRTMETA_IMPORT_LOG"], "a", encoding="utf-8") as _log:
        _log.write(__file__ + "\\n")
"""


def rule_scripts(work: Path) -> dict[str, Path]:
    """Each rule (and checkpoint) of workflow/rules/*.smk that runs a script, with that script."""
    scripts = {}
    for smk in sorted((work / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"(?m)^(?=(?:rule|checkpoint) )", smk.read_text(encoding="utf-8"))[1:]:
            name = re.match(r"(?:rule|checkpoint) (\w+):", block).group(1)
            script = re.search(r'\n    script:\n\s+"([^"]+)"', block)
            if script:
                scripts[name] = (smk.parent / script.group(1)).resolve()
    return scripts


def modules_loaded_by(work: Path, scripts: dict[str, Path]) -> dict[str, set[Path]]:
    """Rule -> package module files that importing its script loads (one subprocess per script, in parallel)."""
    env = snakemake_env({"PYTHONPATH": str(work / "workflow")})
    procs = {
        script: subprocess.Popen(
            [sys.executable, "-c", LOADED_MODULES, str(script)],
            cwd=work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for script in set(scripts.values())
    }
    loaded = {}
    for script, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"importing {script.name} failed:\n{err[-3000:]}"
        loaded[script] = {Path(f).resolve() for f in json.loads(out)}
    package = (work / "workflow" / "sbrtmeta").resolve()
    for script, files in loaded.items():
        assert files and all(package in f.parents for f in files), f"{script.name} imports another sbrtmeta"
    return {rule: loaded[script] for rule, script in scripts.items()}


def planned(work: Path, *args: str) -> dict[str, int]:
    """Jobs per rule that ``snakemake -n --quiet rules`` plans for every result file ({} when there is nothing
    to do)."""
    files = [p.relative_to(work) for p in (work / "results").rglob("*") if p.is_file()]
    # a file in a folder output (results/figures/forest/, results/tables/gosh/, ...) is named by its folder
    folders = {f.parent for f in files if f.parent.parent in (Path("results/figures"), Path("results/tables"))}
    targets = sorted({str(f.parent if f.parent in folders else f) for f in files})
    targets = [t for t in targets if not t.startswith("results/logs/")]
    proc = run_snakemake(work, "-n", *targets, "--quiet", "rules", *args, timeout=300)  # (options take lists)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = proc.stdout + proc.stderr
    if "Job stats:" not in text:
        return {}
    table = text.split("Job stats:", 1)[1].split("\ntotal", 1)[0].splitlines()[3:]
    return {name: int(count) for name, count in (line.split() for line in table if line.strip())}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A copy after one complete run whose jobs logged the file of the sbrtmeta package they imported."""
    work = copy_project(tmp_path_factory.mktemp("stale") / "project")
    init = work / "workflow" / "sbrtmeta" / "__init__.py"
    original, stat = init.read_bytes(), init.stat()
    init.write_bytes(original + IMPORT_LOG_HOOK.encode())
    import_log = work / "imported_sbrtmeta.txt"
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake"],
        cwd=work,
        env=snakemake_env({"SBRTMETA_IMPORT_LOG": str(import_log)}),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    init.write_bytes(original)
    os.utime(init, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    return work, import_log.read_text(encoding="utf-8").splitlines()


def test_jobs_import_the_projects_own_package(project):
    work, imported = project
    assert len(imported) >= len(rule_scripts(work))  # a line per job, at least one job per rule
    assert set(imported) == {str(work / "workflow" / "sbrtmeta" / "__init__.py")}


def edited_plan(work: Path, module: Path) -> dict[str, int]:
    """The plan after ``module`` (relative to ``work``) is edited; the file is restored afterwards."""
    path = work / module
    original, stat = path.read_bytes(), path.stat()
    try:
        path.write_bytes(original + b"\n# edited by tests/test_stale_code.py\n")
        later = time.time() + 10
        os.utime(path, (later, later))
        return planned(work)
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_editing_a_module_plans_exactly_the_rules_that_import_it(project):
    work, _ = project
    copies = [work, shutil.copytree(work, work.with_name("project2"), symlinks=True)]
    free = queue.Queue()  # the copies not in use: two dry runs at a time, never two in one copy

    def in_a_copy(task, *args):
        copy = free.get()
        try:
            return task(copy, *args)
        finally:
            free.put(copy)

    loaded = modules_loaded_by(work, rule_scripts(work))
    modules = sorted(p.relative_to(work) for p in (work / "workflow" / "sbrtmeta").rglob("*.py"))
    assert len(modules) > 20
    importers = {m: frozenset(r for r, files in loaded.items() if (work / m).resolve() in files) for m in modules}
    with ThreadPoolExecutor(max_workers=len(copies)) as pool:
        assert list(pool.map(planned, copies)) == [{}] * len(copies), "the complete run left something to do"
        for copy in copies:
            free.put(copy)
        forced = {
            rules: pool.submit(in_a_copy, planned, "--forcerun", *sorted(rules))
            for rules in set(importers.values())
            if rules
        }
        edited = {m: pool.submit(in_a_copy, edited_plan, m) for m in modules}
        expected = {rules: f.result() for rules, f in forced.items()} | {frozenset(): {}}
        wrong = [
            f"{m}: imported by {sorted(importers[m])}; planned {f.result()}, not {expected[importers[m]]}"
            for m, f in edited.items()
            if f.result() != expected[importers[m]]
        ]
    assert not wrong, "\n".join(wrong)
