"""The share of true rates above a cutoff against metafor 5.1-12's predict(prob = ">c")
(tests/fixtures/metafor_prob.csv from tests/metafor/make_prob_fixtures.R), and its place in
pooled.csv (pooling.targets)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sbrtmeta.analysis.pooling import pool_cells, target_columns
from sbrtmeta.stats.proportions import pool_proportions

FIX = Path(__file__).parent / "fixtures"
INPUTS = pd.read_csv(FIX / "metafor_inputs.csv")
EXPECTED = pd.read_csv(FIX / "metafor_prob.csv")


@pytest.mark.metafor
@pytest.mark.parametrize(
    "key, rows", list(EXPECTED.groupby(["dataset", "measure", "tau2_method", "ci_method"])), ids=str
)
def test_share_above_equals_predict_prob(key, rows):
    dataset, measure, method, test = key
    fit = pool_proportions(INPUTS[INPUTS.dataset == dataset], "xi", "ni", measure, method, test)
    for row in rows.itertuples():
        share, low, high = fit.share_above(row.cutoff)
        assert share == pytest.approx(row.share, rel=1e-6, abs=1e-12)
        assert low <= share <= high


def test_pooled_csv_gains_the_targets_of_its_endpoint():
    counts = [("LC", 40, 50), ("LC", 30, 40), ("LC", 55, 60), ("OS", 20, 40), ("OS", 31, 50)]
    included = pd.DataFrame(
        [
            dict(site="lung", endpoint=e, target_timepoint_months=24.0, study_id=f"s{i}", ref=str(i))
            | dict(first_author=f"A{i}", arm="all", primary="crc", events=x, n=n, rate=x / n)
            for i, (e, x, n) in enumerate(counts)
        ]
    )
    targets = {"LC": [0.8, 0.9], "OS": [0.5]}
    pooled, _ = pool_cells(included, targets=targets)
    assert list(pooled.columns[-9:]) == target_columns(targets)
    lc, os_ = pooled[pooled.endpoint == "LC"].iloc[0], pooled[pooled.endpoint == "OS"].iloc[0]
    assert np.isnan(lc["share_above_50"]) and np.isnan(os_["share_above_80"])
    assert 0 < lc["share_above_90"] < lc["share_above_80"] < 1
    assert lc["share_above_80_low"] <= lc["share_above_80"] <= lc["share_above_80_high"]
    plain, _ = pool_cells(included)
    assert list(plain.columns) == list(pooled.columns[:-9])
