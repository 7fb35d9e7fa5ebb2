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
IMPORT_NAMES = {"yaml": "pyyaml"}  # import name -> package name where they differ


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


def test_job_environment_has_what_the_jobs_import():
    """Every third-party module that the package and the rules' scripts import is in the jobs' environment."""
    imported = set()
    for path in [*(ROOT / "workflow" / "sbrtmeta").rglob("*.py"), *(ROOT / "workflow" / "scripts").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"sbrtmeta", "__future__"}
    missing = {IMPORT_NAMES.get(m, m) for m in third_party} - set(_job_env_specs())
    assert not missing, f"imported by jobs but not in {JOB_ENV.name}: {sorted(missing)}"
