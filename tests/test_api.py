"""The public API: ``import sbrtmeta`` and the names of ``sbrtmeta.__all__``, with only the core dependencies."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
import sbrtmeta

ROOT = Path(__file__).resolve().parents[1]
# what only the workflow needs (pyproject's `workflow` extra, and matplotlib for the figures)
WORKFLOW_ONLY = ("snakemake", "pandera", "openpyxl", "grimp", "jsonschema", "matplotlib", "yaml")


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
