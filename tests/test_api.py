"""The public API: ``import sbrtmeta`` and the names of ``sbrtmeta.__all__``, with only the core dependencies."""

import doctest
import importlib
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import sbrtmeta

ROOT = Path(__file__).resolve().parents[1]
IMPORT_NAMES = {"pyyaml": "yaml", "python-docx": "docx"}  # package name -> import name where they differ


def _workflow_only() -> tuple[str, ...]:
    """The import names of pyproject's `workflow` extra: what only the workflow needs."""
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["workflow"]
    names = (re.split(r"[<>=!~ \[]", spec, maxsplit=1)[0].lower() for spec in extra)
    return tuple(IMPORT_NAMES.get(name, name) for name in names)


WORKFLOW_ONLY = _workflow_only()


@pytest.mark.parametrize("name", sbrtmeta.__all__)
def test_every_public_name_is_the_stats_object(name):
    value = getattr(sbrtmeta, name)
    module = importlib.import_module(sbrtmeta._PUBLIC[name])
    assert value is getattr(module, name)
    assert module.__name__.startswith("sbrtmeta.stats.")
    assert name in dir(sbrtmeta)


def test_the_models_and_effect_sizes_are_public():
    wanted = {"pool_proportions", "fit_random_effects", "fit_meta_regression", "fit_multilevel", "fit_glmm_logit"}
    wanted |= {"proportion_effect_sizes", "inverse_transform"}
    assert wanted <= set(sbrtmeta.__all__)


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'pool'"):
        sbrtmeta.pool  # noqa: B018


# A fresh interpreter in which importing any of WORKFLOW_ONLY fails, as after `pip install .` without the
# workflow extra: `import sbrtmeta` and a pooled frame work, and none of them was imported.
_WITHOUT_WORKFLOW = """
import sys
sys.path.insert(0, {workflow!r})
BLOCKED = {blocked!r}

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{{name}} is blocked: not a core dependency")
        return None

sys.meta_path.insert(0, Blocker())
import pandas as pd
import sbrtmeta
assert sbrtmeta.__file__.startswith({workflow!r}), sbrtmeta.__file__
res = sbrtmeta.pool_proportions(pd.DataFrame(dict(events=[58, 23, 69], n=[63, 31, 76])))
frame = res.summary_frame()
print(round(float(frame.estimate.iloc[0]), 6), res.conf_int(0.9))
for name in sbrtmeta.__all__:
    getattr(sbrtmeta, name)
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set(BLOCKED))
assert not loaded, loaded
"""


@pytest.mark.slow  # a fresh interpreter imports scipy, pandas and statsmodels (seconds)
def test_import_and_pool_without_the_workflow_packages():
    code = _WITHOUT_WORKFLOW.format(workflow=str(ROOT / "workflow"), blocked=WORKFLOW_ONLY)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # liver, colorectal, LC at 24 months (tests/test_proportions.py compares it with metafor)
    assert proc.stdout.startswith("0.872177 ")


def test_import_sbrtmeta_imports_no_model():
    """The public names are imported on first use: `import sbrtmeta` alone loads none of sbrtmeta.stats, so
    the workflow's rules (whose code inputs include sbrtmeta/__init__.py) do not depend on them."""
    code = f"import sys; sys.path.insert(0, {str(ROOT / 'workflow')!r}); import sbrtmeta; "
    code += "print(sorted(m for m in sys.modules if m.startswith('sbrtmeta')))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "['sbrtmeta']"


def test_workflow_extra_holds_the_workflow_packages():
    assert set(WORKFLOW_ONLY) >= {"snakemake", "pandera", "openpyxl", "grimp", "jsonschema", "matplotlib", "yaml"}


def _readme_examples() -> list[str]:
    """The python blocks of README.md's "Use as a library" section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Use as a library\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_readme_library_example_runs_as_a_doctest():
    blocks = _readme_examples()
    assert blocks, "README.md's 'Use as a library' has no python block"
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for i, block in enumerate(blocks):
        test = parser.get_doctest(block, {}, f"README.md, Use as a library, block {i + 1}", "README.md", 0)
        assert test.examples
        runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.attempted >= 5 and results.failed == 0, results
