"""Rank correlation test and trim-and-fill against metafor.

Expected values come from tests/metafor/make_sensitivity_fixtures.R (metafor's
ranktest() and trimfill()); inputs are the escalc() effect sizes that script
wrote, at 17 significant digits, into metafor_leave1out.csv.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sbrtmeta.stats.effect_sizes import proportion_effect_sizes
from sbrtmeta.stats.small_study import RankTestResult, TrimFillResult, ranktest, trimfill
from scipy import stats

FIX = Path(__file__).parent / "fixtures"
RANK = pd.read_csv(FIX / "metafor_ranktest.csv", keep_default_na=False, na_values=["NA"])
TRIM = pd.read_csv(FIX / "metafor_trimfill.csv", keep_default_na=False, na_values=["NA"])
FILLED = pd.read_csv(FIX / "metafor_trimfill_filled.csv")
ESCALC = pd.read_csv(FIX / "metafor_leave1out.csv").query("tau2_method == 'REML' and ci_method == 'z'")
INPUTS = pd.concat([pd.read_csv(FIX / "metafor_inputs.csv"), pd.read_csv(FIX / "asymmetric_inputs.csv")])
RTOL, ATOL = 1e-6, 1e-12

# On these data metafor's trim-and-fill outcome is decided by floating-point
# rounding, not by the data (see trimfill's docstring and the report):
# * all effect sizes identical: the side-choosing slope and every deviation from
#   the trimmed estimate are rounding noise of either sign;
# * k = 2: trimming to one study leaves a deviation that is exactly 0 in exact
#   arithmetic and a one-ulp number of either sign in metafor.
ROUNDING_DECIDED = {"synthetic:zero_heterogeneity", "project:liver:colorectal:LC:12", "synthetic:k2"}


def _inputs(dataset):
    d = ESCALC[ESCALC.dataset == dataset]
    assert len(d) > 0, dataset
    return d.yi.to_numpy(), d.vi.to_numpy()


def _close(ours, theirs):
    assert ours == pytest.approx(theirs, rel=RTOL, abs=ATOL, nan_ok=True)


def test_escalc_inputs_are_our_effect_sizes():
    for dataset, d in INPUTS.groupby("dataset"):
        yi, vi = proportion_effect_sizes(d.xi.to_numpy(), d.ni.to_numpy())
        ref_y, ref_v = _inputs(dataset)
        np.testing.assert_allclose(yi, ref_y, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(vi, ref_v, rtol=1e-12)


# --------------------------------------------------------------------------- ranktest


@pytest.mark.parametrize("row", list(RANK.itertuples()), ids=lambda r: f"{r.dataset}-exact={r.exact}")
def test_ranktest_matches_metafor(row):
    y, v = _inputs(row.dataset)
    assert row.status == "ok"
    # metafor 5.1-12's ranktest() no longer passes on cor.test()'s warnings ("the standard deviation is
    # zero", "Cannot compute exact p-value with ties"), which 3.8-1 did; the values are the same
    if "standard deviation is zero" in row.warnings or row.tau != row.tau:
        with pytest.warns(RuntimeWarning, match="undefined"):
            res = ranktest(y, v, exact=row.exact)
    else:
        res = ranktest(y, v, exact=row.exact)
    assert isinstance(res, RankTestResult)
    assert res.k == row.k
    _close(res.tau, row.tau)
    _close(res.pval, row.pval)
    if row.dataset == "synthetic:extreme_heterogeneity" and row.exact:  # ties: cor.test's normal approximation
        assert res.ties and not res.exact


def test_ranktest_fixtures_cover_exact_ties_and_large_k():
    ok = RANK[RANK.tau.notna()]
    assert (ok.k >= 50).any()  # exact distribution beyond R's default n < 50
    assert (ok.dataset == "synthetic:extreme_heterogeneity").any()  # ties (5.1-12 no longer warns of them)
    assert ok.pval.notna().any() and ok.pval.isna().any()  # k = 2 normal approximation is NA in R


def test_ranktest_exact_p_beyond_metafor_range_agrees_with_scipy():
    # metafor's exact p overflows to NaN from k = 171 on; ours stays exact
    rng = np.random.default_rng(7)
    v = rng.uniform(0.01, 0.5, size=180)
    y = rng.normal(0, np.sqrt(v)) + 0.3 * np.sqrt(v)
    res = ranktest(y, v)
    assert res.exact and not res.ties
    wi = 1 / v
    y_star = (y - (wi * y).sum() / wi.sum()) / np.sqrt(v - 1 / wi.sum())
    ref = stats.kendalltau(y_star, v, method="exact")
    assert res.tau == pytest.approx(ref.statistic, rel=1e-12)
    assert res.pval == pytest.approx(ref.pvalue, rel=1e-9)


@pytest.mark.parametrize(
    "y, v, match",
    [
        ([0.2], [0.1], "k >= 2"),
        ([], [], "k = 0"),
        ([0.1, 0.2], [0.1], "one length"),
        ([0.1, np.nan], [0.1, 0.2], "finite"),
        ([0.1, 0.2], [0.1, 0.0], "> 0"),
    ],
)
def test_ranktest_degenerate_input_raises(y, v, match):
    with pytest.raises(ValueError, match=match):
        ranktest(y, v)


# --------------------------------------------------------------------------- trimfill

OK = TRIM[TRIM.status == "ok"]
REFUSED = TRIM[TRIM.status == "error"]


def _tf_id(r):
    return f"{r.dataset}-{r.tau2_method}-{r.ci_method}-{r.estimator}-{r.side_arg}"


def _run_trimfill(row):
    y, v = _inputs(row.dataset)
    side = None if row.side_arg == "auto" else row.side_arg
    return trimfill(y, v, tau2_method=row.tau2_method, ci_method=row.ci_method, estimator=row.estimator, side=side)


@pytest.mark.parametrize("row", list(OK.itertuples()), ids=_tf_id)
def test_trimfill_matches_metafor(row):
    res = _run_trimfill(row)
    assert isinstance(res, TrimFillResult)
    if not (row.dataset == "synthetic:zero_heterogeneity" and row.side_arg == "auto"):
        assert res.side == row.side
    assert res.k0 == row.k0
    assert res.k + res.k0 == row.k_all == res.fit.k
    _close(res.se_k0, row.se_k0)
    _close(res.p_k0, row.p_k0)
    fit = res.fit
    for ours, theirs in [
        (fit.estimate, row.estimate),
        (fit.se, row.se),
        (fit.ci_low, row.ci_low),
        (fit.ci_high, row.ci_high),
        (fit.tau2, row.tau2),
        (fit.q, row.q),
        (fit.q_p, row.q_p),
        (fit.i2, row.i2),
        (fit.h2, row.h2),
    ]:
        _close(ours, theirs)
    filled = FILLED[
        (FILLED.dataset == row.dataset)
        & (FILLED.tau2_method == row.tau2_method)
        & (FILLED.ci_method == row.ci_method)
        & (FILLED.estimator == row.estimator)
        & (FILLED.side_arg == row.side_arg)
    ].sort_values("row")
    np.testing.assert_array_equal(res.filled, filled.fill.to_numpy(dtype=bool))
    np.testing.assert_allclose(res.yi, filled.yi.to_numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(res.vi, filled.vi.to_numpy(), rtol=RTOL, atol=ATOL)


def test_trimfill_fixtures_impute_with_both_estimators_on_both_sides():
    imputed = OK[OK.k0 > 0]
    for estimator in ("L0", "R0"):
        for side in ("left", "right"):
            hit = imputed[
                (imputed.estimator == estimator)
                & (imputed.side == side)
                & (imputed.side_arg == "auto")
                & imputed.dataset.str.startswith("synthetic:asymmetric")
            ]
            assert len(hit) > 0, (estimator, side)
    assert (imputed.dataset.str.startswith("project:")).any()


@pytest.mark.parametrize(
    "row",
    list(
        REFUSED[
            ~REFUSED.dataset.isin(ROUNDING_DECIDED) | (REFUSED.message.str.contains("Number of parameters"))
        ].itertuples()
    ),
    ids=_tf_id,
)
def test_trimfill_raises_where_metafor_refuses(row):
    with pytest.raises(ValueError, match="side|Q0|k0|k >="):
        _run_trimfill(row)


@pytest.mark.parametrize(
    "row",
    list(
        REFUSED[
            REFUSED.dataset.isin(ROUNDING_DECIDED) & ~REFUSED.message.str.contains("Number of parameters")
        ].itertuples()
    ),
    ids=_tf_id,
)
def test_trimfill_where_metafor_stops_on_rounding_noise(row):
    # metafor stops here only because a deviation that is 0 in exact arithmetic came
    # out as +1 ulp; ours keeps it 0 and returns a result that reflects about the
    # last trimmed estimate.
    res = _run_trimfill(row)
    assert 0 <= res.k0 < res.k
    assert res.filled.sum() == res.k0 and res.yi.size == res.k + res.k0
    if res.k0:
        assert res.fit.k == res.k + res.k0


def test_trimfill_refusals_cover_k_too_small_and_q0():
    msgs = REFUSED.message
    assert msgs.str.contains("Number of parameters").any()
    assert (REFUSED[REFUSED.estimator == "Q0"].dataset.str.startswith("synthetic:asymmetric")).any()


def test_trimfill_reflects_imputed_studies_about_the_estimate():
    y, v = _inputs("synthetic:asymmetric_left")
    res = trimfill(y, v, estimator="L0")
    assert res.side == "left" and res.k0 > 0
    mirrored = np.sort(y)[res.k - res.k0 :]  # the k0 largest, in the order they are filled
    centre = (res.yi[res.filled] + mirrored) / 2
    assert np.ptp(centre) < 1e-12  # every filled study mirrors an observed one about one point
    assert set(res.vi[res.filled]) <= set(v)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(estimator="X0"), "estimator"),
        (dict(side="up"), "side"),
        (dict(tau2_method="nope"), "tau2_method"),
        (dict(ci_method="nope"), "ci_method"),
    ],
)
def test_trimfill_bad_arguments_raise(kwargs, match):
    y, v = _inputs("synthetic:asymmetric_left")
    with pytest.raises(ValueError, match=match):
        trimfill(y, v, **kwargs)


@pytest.mark.parametrize(
    "y, v, kwargs, match",
    [
        ([0.2], [0.1], {}, "k >= 2"),
        ([], [], {}, "k = 0"),
        ([0.1, np.inf], [0.1, 0.2], {}, "finite"),
        ([0.1, 0.2], [0.1, -0.1], {}, "> 0"),
        ([0.1, 0.5, 0.9], [0.2, 0.2, 0.2], {}, "variances are equal"),
        ([0.1, 0.5], [0.1, 0.2], dict(tau2_method="DL"), "k >= 3"),
    ],
)
def test_trimfill_degenerate_input_raises(y, v, kwargs, match):
    with pytest.raises(ValueError, match=match):
        trimfill(y, v, **kwargs)


def test_trimfill_side_regression_needs_a_supported_method():
    y, v = _inputs("synthetic:asymmetric_left")
    with pytest.raises(ValueError, match="side|tau2_method"):
        trimfill(y, v, tau2_method="HE")
