"""environment.yml (conda) and pyproject.toml (pip) name the same packages; the jobs' conda environment
(workflow/envs/sbrtmeta.yaml) is pyproject's runtime dependencies (the core and the `workflow` extra), and has
what the jobs import; the core is what the library needs (tests/test_api.py imports it without the rest)."""

import ast
import re
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec.strip(), maxsplit=1)[0].lower()


def test_conda_and_pip_list_the_same_packages():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = [d for group in project["optional-dependencies"].values() for d in group]
    pip = {_name(d) for d in project["dependencies"] + extras}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    assert pip == conda


def runtime_dependencies() -> list[str]:
    """What the workflow runs on: the library's dependencies and the `workflow` extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["dependencies"] + project["optional-dependencies"]["workflow"]


def test_the_library_needs_only_the_scientific_core():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert {_name(d) for d in project["dependencies"]} == {"numpy", "scipy", "pandas", "statsmodels"}


def test_minimum_versions_agree():
    pip = {_name(d): d.replace(" ", "") for d in runtime_dependencies()}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_name(d): d.replace(" ", "") for d in env["dependencies"] if isinstance(d, str)}
    for name, spec in pip.items():
        assert conda[name] == spec


# --- the jobs' conda environment (workflow/envs/sbrtmeta.yaml, `snakemake --sdm conda`) ---------------------

JOB_ENV = ROOT / "workflow" / "envs" / "sbrtmeta.yaml"
# runtime dependencies used by the snakemake process only: the config (pyyaml) and its schema (jsonschema),
# the import graph behind the rules' code inputs (grimp), and snakemake itself (its script preamble puts its own
# path on the job's sys.path, as in the catalog workflows' environments).
CONTROLLER_ONLY = {"snakemake", "grimp", "jsonschema", "pyyaml"}
# import name -> package name where they differ
IMPORT_NAMES = {"yaml": "pyyaml", "docx": "python-docx", "markdown_it": "markdown-it-py"}


def _job_env_specs() -> dict[str, str]:
    env = yaml.safe_load(JOB_ENV.read_text())
    assert all(isinstance(d, str) for d in env["dependencies"]), "no pip section: nothing is pip-installed in jobs"
    return {_name(d): d.replace(" ", "") for d in env["dependencies"]}


def test_job_environment_is_pyprojects_runtime_dependencies():
    """The same packages and minimum versions as pyproject.toml, minus what only the snakemake process needs."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    expected = {_name(d): d.replace(" ", "") for d in runtime_dependencies() if _name(d) not in CONTROLLER_ONLY}
    expected["python"] = "python" + project["requires-python"]
    assert _job_env_specs() == expected, "workflow/envs/sbrtmeta.yaml should list:\n" + "\n".join(
        f"  - {spec}" for spec in expected.values()
    )
    env = yaml.safe_load(JOB_ENV.read_text())
    assert env["channels"][0] == "conda-forge"


def test_every_rule_names_the_job_environment():
    for smk in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        text = smk.read_text()
        rules = len(re.findall(r"(?m)^(?:rule|checkpoint) \w+:", text))
        assert text.count('conda:\n        "../envs/sbrtmeta.yaml"') == rules, smk.name


def _imports(path: Path) -> set[str]:
    """Top-level names of the modules a file imports (any import statement, also inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def _job_files() -> list[Path]:
    """The rules' scripts and the package modules they run: their import closure in the import graph, with the
    __init__.py of every package above (as code_of in workflow/rules/common.smk). Modules that only the
    snakemake process imports (the config checks of the Snakefile) are not run by jobs."""
    import grimp

    graph = grimp.build_graph("sbrtmeta", cache_dir=None)
    scripts = sorted((ROOT / "workflow" / "scripts").glob("*.py"))
    todo = [m for script in scripts for m in _imports(script) if m in graph.modules]
    closure = set()
    while todo:
        name = todo.pop()
        if name not in closure:
            closure.add(name)
            todo += graph.find_modules_directly_imported_by(name)
            todo += [name.rpartition(".")[0]] if "." in name else []
    base = ROOT / "workflow"
    files = [base.joinpath(*m.split(".")).with_suffix(".py") for m in closure]
    files = [f if f.is_file() else f.with_suffix("") / "__init__.py" for f in files]
    return scripts + files


def test_job_environment_has_what_the_jobs_import():
    """Every third-party module that the rules' scripts and the package modules they run import is in the jobs'
    environment (what only the snakemake process imports may use CONTROLLER_ONLY's packages)."""
    files = _job_files()
    assert any(f.name == "pooling.py" for f in files) and all(f.is_file() for f in files)
    imported = {name.split(".")[0] for path in files for name in _imports(path)}
    third_party = imported - set(sys.stdlib_module_names) - {"sbrtmeta", "__future__"}
    missing = {IMPORT_NAMES.get(m, m) for m in third_party} - set(_job_env_specs())
    assert not missing, f"imported by jobs but not in {JOB_ENV.name}: {sorted(missing)}"
