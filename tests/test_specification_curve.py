"""The specification curve (plots/specification_curve.py, issue 22 item 6): intervals cut at 0-100 %
with an arrow, the GLMM a model and not a τ² estimator, an indicator panel in bands at 1,600
specifications."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
from matplotlib.collections import PathCollection
from matplotlib.image import AxesImage
from sbrtmeta.analysis.multiverse_design import CHOICES
from sbrtmeta.plots.specification_curve import MAX_COLUMNS, draw_specification_curve, indicator_matrix
from test_plots import texts

SUMMARY = SimpleNamespace(
    site="lung", histology="colorectal", endpoint="LC", timepoint_months=24.0, main_estimate=0.8, margin=0.05,
    share_within=0.5,
)  # fmt: skip


def specifications(n: int, seed: int = 1) -> pd.DataFrame:
    """``n`` specifications of one cell: a quarter GLMM (τ² 'GLMM', z), the rest inverse variance; ties in pairs."""
    rng = np.random.default_rng(seed)
    rows = pd.DataFrame({c: rng.choice(["a", "b"], n) for c in CHOICES}).assign(spec=np.arange(n))
    glmm = np.arange(n) % 4 == 0
    rows["model"] = np.where(glmm, "glmm", "random-effects")
    rows["tau2_method"] = np.where(glmm, "GLMM", rng.choice(["REML", "DL"], n))
    est = np.repeat(rng.uniform(0.6, 0.95, n // 2 + 1), 2)[:n]
    return rows.assign(estimate=est, ci_low=est - 0.3, ci_high=est + 0.1)


def test_intervals_are_cut_at_0_and_100_percent_with_an_arrow():
    fig = draw_specification_curve(specifications(40), SUMMARY, list(CHOICES))
    top = fig.axes[0]
    low, high = top.get_ylim()
    assert -4 <= low and high <= 104
    for coll in top.collections:
        if isinstance(coll, PathCollection):  # markers: checked by their offsets
            assert (coll.get_offsets()[:, 1] >= 0).all() and (coll.get_offsets()[:, 1] <= 100).all()
            continue
        for path in coll.get_paths():
            ys = path.vertices[:, 1]
            assert ys.min() >= -1e-9 and ys.max() <= 100 + 1e-9
    arrows = [c for c in top.collections if isinstance(c, PathCollection) and np.allclose(c.get_offsets()[:, 1], 100)]
    assert arrows and "interval cut at 0 or 100%" in texts(fig)


def test_the_glmm_is_a_model_not_a_level_of_the_tau2_estimator():
    drawn = texts(draw_specification_curve(specifications(40), SUMMARY, list(CHOICES)))
    assert "GLMM" not in drawn and "Model: glmm" in drawn
    assert "τ² estimator (inverse variance): DL" in drawn


def test_the_indicator_panel_has_at_most_max_columns_and_shares_of_tied_results():
    rows = specifications(1600)
    shares = indicator_matrix(rows, [("min_n", "a")])
    assert shares.shape == (1, MAX_COLUMNS) and ((shares >= 0) & (shares <= 1)).all()
    few = indicator_matrix(rows.iloc[:2], [("min_n", "a")])  # one tie: both get the pair's share
    assert few[0, 0] == few[0, 1] == (rows["min_n"].iloc[:2] == "a").mean()
    fig = draw_specification_curve(rows, SUMMARY, list(CHOICES))
    image = fig.axes[1].findobj(AxesImage)[0]
    assert image.get_array().shape[1] == MAX_COLUMNS
