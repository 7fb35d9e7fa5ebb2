"""No rule can go stale: each rule's code inputs are the package modules its script loads, and editing a module
plans exactly the rules whose code imports it.

- In-process, no Snakemake: for every rule (and checkpoint) that runs a script, ``code_of`` of
  workflow/rules/common.smk (its functions executed here) gives the files of the script's import closure as
  measured from the import statements themselves, independently of the grimp graph ``code_of`` walks: those of the
  script (anywhere in it), then those of every package module they reach (also inside functions, which a call
  can reach), with the ``__init__.py`` of each package above (Python runs it first), found by reading the files.
  Every such rule names ``code=code_of(<its script>)``.
- In a copy of the session's run of the shipped config (tests/conftest.py), for each distinct set of rules that
  import a module of ``workflow/sbrtmeta`` (modules found on disk, never listed here), one module of the set is
  edited (a comment appended, the mtime bumped), and ``snakemake -n --quiet rules`` (run in-process through
  Snakemake's API: :func:`planned`) must plan exactly the jobs of
  those rules and of every job downstream of them in the run's job graph (``snakemake --dag``, read once): what
  ``--forcerun`` of the rules plans. The other modules of a set reach the same rules through the same ``code_of``,
  which the in-process test checks file by file. The dry runs name every file of the complete run as a target: a
  dry run cannot see past the pooling checkpoint, so the figure jobs that all_figures adds after it would
  otherwise be missing from the plans.
- The run's processes (Snakemake and every job) imported the copy's own ``sbrtmeta``, not an installed one.
"""

import ast
import contextlib
import functools
import io
import os
import re
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from project_copy import ROOT, copy_run, job_stats, run_snakemake, snakemake_env

PACKAGE = "sbrtmeta"
# what common.smk's code inputs need from it (executed here; the Snakefile defines PACKAGE_DIR)
CODE_OF_NAMES = ("PACKAGE", "RULES_DIR", "_import_graph", "_script_imports", "_module_file", "code_of")


def rule_scripts(work: Path) -> dict[str, Path]:
    """Each rule (and checkpoint) of workflow/rules/*.smk that runs a script, with that script."""
    return {name: script for name, (script, _) in _rule_blocks(work).items()}


def _rule_blocks(work: Path) -> dict[str, tuple[Path, str]]:
    blocks = {}
    for smk in sorted((work / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"(?m)^(?=(?:rule|checkpoint) )", smk.read_text(encoding="utf-8"))[1:]:
            name = re.match(r"(?:rule|checkpoint) (\w+):", block).group(1)
            script = re.search(r'\n    script:\n\s+"([^"]+)"', block)
            if script:
                blocks[name] = ((smk.parent / script.group(1)).resolve(), block)
    return blocks


# --- the import closure, measured from the files' import statements ------------------------------------------


def package_modules(root: Path) -> dict[str, Path]:
    """Module name -> file of every module of the package under ``root/workflow``."""
    base = root / "workflow"
    modules = {}
    for path in sorted((base / PACKAGE).rglob("*.py")):
        parts = path.relative_to(base).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path.resolve()
    return modules


def _imported_names(path: Path, module: str | None, modules: dict[str, Path]) -> set[str]:
    """The package modules that executing ``path``'s import statements (all of them, at any depth) loads:
    each named module, every package above it, and ``from m import x`` where ``m.x`` is a module."""
    package = None
    if module is not None:
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    named = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            named.add(base)
            named.update(f"{base}.{alias.name}" for alias in node.names)
    with_parents = {".".join(n.split(".")[:i]) for n in named for i in range(1, n.count(".") + 2)}
    return {n for n in with_parents if n in modules}


def import_closure(script: Path, modules: dict[str, Path]) -> set[Path]:
    """Files of the package modules that running ``script``'s imports loads, transitively."""
    todo, seen = list(_imported_names(script, None, modules)), set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += _imported_names(modules[name], name, modules)
    return {modules[name] for name in seen}


def _top_level_chunks(text: str) -> list[str]:
    """Each top-level statement with its decorators and indented lines (Snakemake's directives among them)."""
    chunks = [[]]
    for line in text.splitlines(keepends=True):
        top = line[:1] not in ("", " ", "\t", "\n", "#", ")", "]", "}")
        decorated = any(prev.startswith("@") for prev in chunks[-1][-1:])
        if top and chunks[-1] and not decorated:
            chunks.append([])
        chunks[-1].append(line)
    return ["".join(c) for c in chunks]


@functools.cache
def common_smk_code_of():
    """``code_of`` of workflow/rules/common.smk, executed here with the checkout's package (first on sys.path)."""
    text = (ROOT / "workflow" / "rules" / "common.smk").read_text(encoding="utf-8")
    namespace = {"workflow": SimpleNamespace(basedir=str(ROOT)), "PACKAGE_DIR": str(ROOT / "workflow")}
    found = set()
    for chunk in _top_level_chunks(text):
        try:
            tree = ast.parse(chunk)
        except SyntaxError:
            continue
        for node in tree.body:
            names = {getattr(node, "name", None)} | {getattr(t, "id", None) for t in getattr(node, "targets", [])}
            if isinstance(node, ast.Import | ast.ImportFrom) or names & set(CODE_OF_NAMES):
                exec(compile(ast.Module(body=[node], type_ignores=[]), "common.smk", "exec"), namespace)
                found |= names & set(CODE_OF_NAMES)
    assert found == set(CODE_OF_NAMES), f"common.smk no longer defines {set(CODE_OF_NAMES) - found}: update the test"
    return namespace["code_of"]


def test_code_of_is_the_import_closure_of_each_rules_script():
    code_of, modules = common_smk_code_of(), package_modules(ROOT)
    blocks = _rule_blocks(ROOT)
    assert len(blocks) > 10
    wrong = []
    for rule, (script, block) in sorted(blocks.items()):
        relative = os.path.relpath(script, ROOT / "workflow" / "rules")
        assert f'code=code_of("{relative}")' in block, f"rule {rule} does not name code=code_of({relative!r})"
        ours = {(Path.cwd() / f).resolve() for f in code_of(relative)}
        measured = import_closure(script, modules)
        assert measured, rule
        if ours != measured:
            missing = sorted(str(p.relative_to(ROOT)) for p in measured - ours)
            extra = sorted(str(p.relative_to(ROOT)) for p in ours - measured)
            wrong.append(f"{rule}: code_of misses {missing}, has {extra} too")
    assert not wrong, "\n".join(wrong)


# --- Snakemake, in copies of the session's run -------------------------------------------------------------------


def _targets(work: Path) -> list[str]:
    """Every file of the complete run (a file in a folder output, results/figures/forest/ ..., by its folder)."""
    files = [p.relative_to(work) for p in (work / "results").rglob("*") if p.is_file()]
    folders = {f.parent for f in files if f.parent.parent in (Path("results/figures"), Path("results/tables"))}
    targets = sorted({str(f.parent if f.parent in folders else f) for f in files})
    return [t for t in targets if not t.startswith(("results/logs/", "results/benchmarks/"))]


def planned(work: Path) -> dict[str, int]:
    """Jobs per rule that ``snakemake -n --quiet rules`` plans for every result file ({} when there is nothing
    to do). The dry run runs in this process, through Snakemake's API (``snakemake.api.SnakemakeApi``, what the
    command line calls): the test makes one per set of importing rules, some sixty, and a ``snakemake`` process
    costs about 2 CPU-s of start-up before its ~0.4 s of planning. The working folder, ``sys.path`` (the
    Snakefile puts the copy's ``workflow/`` first) and the Snakemake logger's filters are restored afterwards."""
    from snakemake.api import SnakemakeApi
    from snakemake.logging import logger
    from snakemake.settings.types import (
        ConfigSettings,
        DAGSettings,
        OutputSettings,
        Quietness,
        ResourceSettings,
        StorageSettings,
    )

    snakemake_env()  # refuses outside a test marked workflow, as a snakemake process would
    printed, folder, path, filters = io.StringIO(), os.getcwd(), list(sys.path), list(logger.filters)
    try:
        os.chdir(work)
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            with SnakemakeApi(OutputSettings(quiet={Quietness.RULES}, dryrun=True)) as api:
                workflow = api.workflow(
                    resource_settings=ResourceSettings(cores=1),
                    snakefile=work / "Snakefile",
                    workdir=work,
                    config_settings=ConfigSettings(),
                    storage_settings=StorageSettings(),
                )
                dag = workflow.dag(dag_settings=DAGSettings(targets=set(_targets(work))))
                dag.execute_workflow(executor="dryrun")
    finally:
        os.chdir(folder)
        sys.path[:] = path
        logger.filters[:] = filters  # (the Snakefile's quiet console: one per parse)
    text = printed.getvalue()
    jobs = job_stats(text)
    assert jobs or "Nothing to be done" in text, text[-3000:]
    return jobs


def job_graph(work: Path) -> tuple[dict[str, str], dict[str, set[str]]]:
    """The complete run's jobs (id -> rule) and each job's consumers, from ``snakemake --dag`` (dot)."""
    proc = run_snakemake(work, "--dag", "dot", *_targets(work), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rules = dict(re.findall(r'(?m)^\s*(\d+)\[label = "([^"\\]+)', proc.stdout))
    consumers = {job: set() for job in rules}
    for producer, consumer in re.findall(r"(?m)^\s*(\d+) -> (\d+)", proc.stdout):
        consumers[producer].add(consumer)
    assert rules and any(consumers.values()), proc.stdout[-2000:]
    return rules, consumers


def forced_plan(graph, rules: frozenset) -> dict[str, int]:
    """What ``--forcerun <rules>`` plans: their jobs and every job downstream of one, counted per rule."""
    job_rule, consumers = graph
    todo, jobs = [j for j, r in job_rule.items() if r in rules], set()
    while todo:
        job = todo.pop()
        if job not in jobs:
            jobs.add(job)
            todo += consumers[job]
    counts = {}
    for job in jobs:
        counts[job_rule[job]] = counts.get(job_rule[job], 0) + 1
    return counts


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


@pytest.mark.workflow
def test_jobs_import_the_projects_own_package(shipped_run):
    work, imported = shipped_run.work, shipped_run.imported
    assert len(imported) >= len(rule_scripts(work))  # a line per job, at least one job per rule
    assert set(imported) == {str(work / "workflow" / "sbrtmeta" / "__init__.py")}


@pytest.mark.workflow
def test_editing_a_module_plans_exactly_the_rules_that_import_it(shipped_run, tmp_path):
    work = copy_run(shipped_run.work, tmp_path / "project")
    modules = package_modules(work)
    scripts = rule_scripts(work)
    loaded = {rule: import_closure(script, modules) for rule, script in scripts.items()}
    importers = {}  # the set of rules importing a module -> the modules (relative to the copy) it holds
    for path in sorted(modules.values()):
        rules = frozenset(r for r, files in loaded.items() if path in files)
        importers.setdefault(rules, []).append(path.relative_to(work))
    assert len(modules) > 20 and len(importers) > 5
    graph = job_graph(work)
    assert planned(work) == {}, "the complete run left something to do"
    wrong = []
    for rules, group in importers.items():
        plan, expected = edited_plan(work, group[0]), forced_plan(graph, rules)
        if plan != expected:
            wrong.append(f"{group[0]}: imported by {sorted(rules)}; planned {plan}, not {expected}")
    assert not wrong, "\n".join(wrong)
