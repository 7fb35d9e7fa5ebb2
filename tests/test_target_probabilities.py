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


def _included() -> pd.DataFrame:
    counts = [("LC", 40, 50), ("LC", 30, 40), ("LC", 55, 60), ("OS", 20, 40), ("OS", 31, 50)]
    return pd.DataFrame(
        [
            dict(site="lung", endpoint=e, target_timepoint_months=24.0, study_id=f"s{i}", ref=str(i))
            | dict(first_author=f"A{i}", arm="all", primary="crc", events=x, n=n, rate=x / n)
            for i, (e, x, n) in enumerate(counts)
        ]
    )


def test_pooled_csv_gains_the_targets_of_its_endpoint():
    included = _included()
    targets = {"LC": [0.8, 0.9], "OS": [0.5]}
    pooled, _ = pool_cells(included, targets=targets)
    assert list(pooled.columns[-9:]) == target_columns(targets)
    lc, os_ = pooled[pooled.endpoint == "LC"].iloc[0], pooled[pooled.endpoint == "OS"].iloc[0]
    assert np.isnan(lc["share_above_50"]) and np.isnan(os_["share_above_80"])
    assert 0 < lc["share_above_90"] < lc["share_above_80"] < 1
    assert lc["share_above_80_low"] <= lc["share_above_80"] <= lc["share_above_80_high"]
    plain, _ = pool_cells(included)
    assert list(plain.columns) == list(pooled.columns[:-9])


def _pooled_with_targets():
    return pool_cells(_included(), targets={"LC": [0.8, 0.9], "OS": [0.5]})


def _whole(p) -> str:
    return f"{100 * float(p):.0f}"


def test_headline_table_and_sentences_carry_the_shares():
    """pooling.targets (issue 25 item 3): a column per cutoff in the headline table and one sentence per cell
    in summary.md's answer, each equal to pooled.csv's share_above_* values in whole percent; none without."""
    from sbrtmeta.report.headline import headline_lines, headline_sentences, headline_table

    pooled, _ = _pooled_with_targets()
    table = headline_table(pooled, level=0.9)
    assert list(table.columns[-3:]) == [f"True rates > {c}%: share (90% CI)" for c in (50, 80, 90)]
    lc = pooled[pooled.endpoint == "LC"].iloc[0]
    row = table[table["Outcome"].str.startswith("Local control")].iloc[0]
    share = f"{_whole(lc.share_above_80)}% ({_whole(lc.share_above_80_low)}–{_whole(lc.share_above_80_high)})"
    assert row["True rates > 80%: share (90% CI)"] == share
    assert row["True rates > 50%: share (90% CI)"] == ""  # OS's target, not LC's
    words = headline_sentences(pooled, level=0.9)
    lc_words = next(w for w in words if " LC at " in w)
    assert "Of the true rates of new series (predictive distribution)" in lc_words
    assert f"{_whole(lc.share_above_80)}% (90% CI {_whole(lc.share_above_80_low)}–" in lc_words
    assert f"above 80% and {_whole(lc.share_above_90)}% (" in lc_words and lc_words.endswith("above 90%.")
    assert sum("Of the true rates" in w for w in words) == 2  # one sentence per cell
    assert any(share in line for line in headline_lines(pooled, level=0.9))
    plain = pooled.drop(columns=target_columns({"LC": [0.8, 0.9], "OS": [0.5]}))
    assert "share" not in " ".join(headline_table(plain).columns)
    assert not any("true rates" in w for w in headline_sentences(plain))


def test_forest_footnote_names_the_shares():
    from matplotlib.text import Text
    from sbrtmeta.plots.forest import draw_forest

    pooled, studies = _pooled_with_targets()
    lc = pooled[pooled.endpoint == "LC"].iloc[0]
    drawn = " ".join(t.get_text() for t in draw_forest(pooled, studies, "LC", 24, level=0.95).findobj(Text))
    assert "Share of true rates (predictive distribution, 95% CI)" in " ".join(drawn.split())
    assert f"above 80%: Lung, {lc.histology} {_whole(lc.share_above_80)}% (" in " ".join(drawn.split())
    plain = pooled.drop(columns=[c for c in pooled.columns if c.startswith("share_above")])
    drawn = " ".join(t.get_text() for t in draw_forest(plain, studies, "LC", 24, level=0.95).findobj(Text))
    assert "Share of true rates" not in drawn


def test_headline_legend_and_methods_name_the_targets():
    from sbrtmeta.report.headline import headline_lines
    from sbrtmeta.report.methods import _targets

    pooled, _ = _pooled_with_targets()
    legend = "True rates > x%: the share of the true rates of new series above x% in the predictive distribution"
    assert any(legend in line for line in headline_lines(pooled))
    plain = pooled.drop(columns=[c for c in pooled.columns if c.startswith("share_above")])
    assert not any(legend in line for line in headline_lines(plain))
    assert "share of true rates above a target (LC 80%, 90%; OS 50%)" in _targets({"LC": [0.9, 0.8], "OS": [0.5]})
    assert _targets({}) == ""
