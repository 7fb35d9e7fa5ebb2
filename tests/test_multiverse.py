"""The multiverse (analysis/multiverse.py): its specifications, the main analysis reproduced, shards."""

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sbrtmeta.analysis import multiverse as mv
from sbrtmeta.analysis import multiverse_design as design
from sbrtmeta.analysis.pooling import pool_cells
from sbrtmeta.data.cells import CELL
from sbrtmeta.data.inclusion import apply_inclusion, read_outcomes
from sbrtmeta.report.robustness_section import multiverse_lines
from sbrtmeta.steps.clean_extraction import clean_extraction

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
MULTIVERSE = CONFIG["robustness"]["multiverse"]


@pytest.fixture(scope="module")
def tidy(tmp_path_factory):
    """outcomes.csv of the shipped sheets, read back as the multiverse's shards read it."""
    sheets = [str(ROOT / s) for s in CONFIG["data"]["sheets"]]
    outcomes = clean_extraction(sheets, str(ROOT / CONFIG["data"]["corrections"]), CONFIG["cleanup"], [])
    path = tmp_path_factory.mktemp("mv") / "outcomes.csv"
    outcomes.to_csv(path, index=False, lineterminator="\n")
    return read_outcomes(path)


def test_the_shipped_multiverse_is_the_full_factorial_of_at_least_500():
    specs = mv.specifications(MULTIVERSE, 1)
    assert len(specs) >= 500
    assert len(specs) == 32 * 2 * (4 * 3 * 2 + 1)  # inclusion 2^5, histology 2, (transform × τ² × CI) + one GLMM
    assert specs["spec"].tolist() == list(range(len(specs)))
    glmm = specs[specs["model"] == "glmm"]
    assert (
        set(glmm["transform"]) == {"PLO"} and set(glmm["tau2_method"]) == {"GLMM"} and set(glmm["ci_method"]) == {"z"}
    )
    assert not specs.drop(columns="spec").duplicated().any()


def test_a_sample_of_specifications_is_seeded_and_drawn_from_the_factorial():
    full = mv.specifications(MULTIVERSE, 1).drop(columns="spec")
    one = mv.specifications({**MULTIVERSE, "max_specs": 100}, 7)
    assert len(one) == 100 and one["spec"].tolist() == list(range(100))
    pd.testing.assert_frame_equal(one, mv.specifications({**MULTIVERSE, "max_specs": 100}, 7))
    assert not one.equals(mv.specifications({**MULTIVERSE, "max_specs": 100}, 8))
    keys = set(map(tuple, full.astype(str).to_numpy()))
    assert all(tuple(r) in keys for r in one.drop(columns="spec").astype(str).to_numpy())


def _main_only(inclusion, pooling):
    main = design.main_choices(inclusion, pooling)
    choices = dict(
        inclusion={c: [main[c]] for c in design.INCLUSION_CHOICES},
        pooling=dict(
            histology=[main["histology_grouping"]],
            transform=[main["transform"]],
            model=[main["model"]],
            tau2_method=[pooling["tau2_method"]],
            ci_method=[pooling["ci_method"]],
        ),
    )
    return dict(max_specs=0, equivalence_margin=0.05, **choices)


@pytest.mark.parametrize(
    "pooling",
    [
        CONFIG["pooling"],
        {**CONFIG["pooling"], "transform": "PFT", "tau2_method": "DL", "ci_method": "z", "histology": "row"},
        {**CONFIG["pooling"], "model": "glmm"},
    ],
    ids=["shipped", "PFT-DL-z-row", "glmm"],
)
def test_the_main_specification_reproduces_pool_cells(tidy, pooling):
    """The batch engine and pool_cells agree to rounding (1e-12): same cells, same estimates."""
    rows = mv.multiverse_shard(tidy, CONFIG["inclusion"], pooling, _main_only(CONFIG["inclusion"], pooling), 1, 0, 1)
    included, _ = apply_inclusion(tidy, CONFIG["inclusion"])
    pooled, _ = pool_cells(
        included,
        pooling["transform"],
        pooling["tau2_method"],
        pooling["ci_method"],
        pooling["level"],
        pooling["model"],
        pooling["histology"],
    )
    assert len(rows) == len(pooled)
    got = rows.merge(pooled, on=CELL, suffixes=("", "_pooled"))
    assert len(got) == len(pooled)
    assert (got["k"] == got["k_pooled"]).all()
    for col in ("estimate", "ci_low", "ci_high", "tau2", "i2"):
        np.testing.assert_allclose(got[col], got[f"{col}_pooled"], rtol=1e-12, atol=1e-14, err_msg=col)


def _csv(frame):
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


@pytest.mark.slow  # seconds of CPU: make test-fast runs it, -m 'not slow' leaves it out
def test_shards_give_the_same_bytes(tidy, monkeypatch):
    monkeypatch.setattr(mv, "BLOCK", 7)  # many blocks from a small multiverse
    small = {
        **MULTIVERSE,
        "inclusion": {**MULTIVERSE["inclusion"], "tolerance_months": [0], "crude": ["none"]},
        "pooling": {**MULTIVERSE["pooling"], "transform": ["PLO", "PFT"], "tau2_method": ["REML", "DL"]},
    }
    n = len(mv.specifications(small, 3))
    assert n > 4 * 7
    whole = mv.multiverse_shard(tidy, CONFIG["inclusion"], CONFIG["pooling"], small, 3, 0, 1)
    assert whole["spec"].nunique() == n
    for shards in (2, 5):
        parts = [
            mv.multiverse_shard(tidy, CONFIG["inclusion"], CONFIG["pooling"], small, 3, s, shards)
            for s in range(shards)
        ]
        assert _csv(pd.concat(parts, ignore_index=True)) == _csv(whole)


def test_the_summary_says_when_the_multiverse_is_off():
    assert "switched off" in "\n".join(multiverse_lines(None))
