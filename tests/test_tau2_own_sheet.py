"""Issue 25: proportion datasets the pipeline has never seen, fed through the own-sheet path (a tidy sheet read by
:func:`sbrtmeta.data.tidy_schema.tidy_sheet_rows`, the example config's inclusion, :func:`pool_cells`), match
metafor 5.1-12 for every τ² estimator at 1e-6 relative.

The datasets are the synthetic ones of tests/fixtures/tau2_synthetic_inputs.csv (k = 2, 3, 10, 10 homogeneous and
100; no shipped study), and the expected values are metafor's fits of them in tests/fixtures/metafor_tau2.csv
(tests/metafor/make_tau2_fixtures.R: rma(measure = "PLO", xi, ni, method = , test = ), GENQ/GENQM with the
patients as weights, as the pipeline passes them), back-transformed with the inverse logit as pooled.csv reports
them."""

from functools import cache
from pathlib import Path

import pandas as pd
import pytest
import yaml
from sbrtmeta.analysis.pooling import pool_cells
from sbrtmeta.data.inclusion import apply_inclusion
from sbrtmeta.data.tidy_schema import tidy_sheet_rows
from scipy.special import expit
from validated_config import validated

pytestmark = pytest.mark.metafor

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures"
INPUTS = pd.read_csv(FIX / "tau2_synthetic_inputs.csv")
EXPECTED = pd.read_csv(FIX / "metafor_tau2.csv")
EXPECTED = EXPECTED[EXPECTED.dataset.isin(set(INPUTS.dataset)) & (EXPECTED.measure == "PLO")]
CONFIG = validated(
    {
        **yaml.safe_load((ROOT / "config/config.yaml").read_text(encoding="utf-8")),
        **yaml.safe_load((ROOT / "config/examples/config.yaml").read_text(encoding="utf-8")),
    }
)
RTOL = 1e-6


@cache
def _included(dataset: str, folder: Path) -> pd.DataFrame:
    """The dataset written as a user's tidy sheet (one study a row: liver LC at 24 months), read and included."""
    d = INPUTS[INPUTS.dataset == dataset]
    sheet = pd.DataFrame(
        dict(
            study_id=d.study.to_numpy(),
            first_author="Synthetic",
            year=2020,
            site="liver",
            endpoint="LC",
            timepoint_months=24,
            events=d.xi.to_numpy(),
            n=d.ni.to_numpy(),
            primary="crc",
            design="retrospective",
            source="tests/fixtures/tau2_synthetic_inputs.csv",
        )
    )
    path = folder / f"{dataset.replace(':', '_')}.csv"
    sheet.to_csv(path, index=False)
    tidy = pd.DataFrame(tidy_sheet_rows(path, review_histology=CONFIG["cleanup"].get("review_histology")))
    included, excluded = apply_inclusion(tidy, CONFIG["inclusion"])
    assert excluded.empty and len(included) == len(d), dataset
    return included


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("own_sheets")


def _params():
    for row in EXPECTED.itertuples():
        if row.tau2_method == "GENQM" and row.k > 10:  # a quadrature per step: k = 100 is test_tau2_estimators'
            continue
        marks = [pytest.mark.slow] if row.tau2_method == "GENQM" else []
        yield pytest.param(row, marks=marks, id=f"{row.dataset}-{row.tau2_method}-{row.ci_method}")


def test_the_fixture_covers_every_dataset_and_estimator():
    assert set(EXPECTED.dataset) == set(INPUTS.dataset)
    assert len(set(EXPECTED.tau2_method)) >= 16


@pytest.mark.parametrize("row", list(_params()))
def test_own_sheet_pools_as_metafor(row, folder):
    pooled, _ = pool_cells(_included(row.dataset, folder), "PLO", row.tau2_method, row.ci_method)
    (r,) = pooled.itertuples()
    assert r.k == row.k
    pairs = [
        ("model_estimate", r.model_estimate, row.estimate),
        ("estimate", r.estimate, expit(row.estimate)),
        ("ci_low", r.ci_low, expit(row.ci_low)),
        ("ci_high", r.ci_high, expit(row.ci_high)),
        ("pi_low", r.pi_low, expit(row.pi_low)),
        ("pi_high", r.pi_high, expit(row.pi_high)),
        ("tau2", r.tau2, row.tau2),
    ]
    for name, ours, theirs in pairs:
        assert ours == pytest.approx(theirs, rel=RTOL, abs=1e-9, nan_ok=True), name
