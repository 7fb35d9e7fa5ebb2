"""pooling.pi_df, ci_method "adhoc" and back_transform "mean" (issue 25, item 4) against metafor
5.1-12 (tests/fixtures/metafor_pi.csv and metafor_adhoc_leave1out.csv from
tests/metafor/make_pi_fixtures.R), and the k - 1 / k - 2 intervals against meta's formula.

meta >= 8.0 (R/metagen.R, guido-s/meta 8.4-0): method.predict = "V" (the default since 8.0-0,
NEWS: "prediction intervals are based on k - 1 instead of k - 2 degrees of freedom") is
``ci(TE.random, sqrt(seTE.classic^2 + tau2), level.predict, k - 1)`` and "HTS" (Higgins,
Thompson & Spiegelhalter 2009; Riley et al. BMJ 2011;342:d549) the same on ``k - 2``:
μ̂ ± t(level, df) √(SE² + τ²) with SE the model-based (not Knapp-Hartung) standard error
√(1/Σw). metafor's predict(rma(test = "z"), pi.type = "t" | "riley") is that interval, so the
fixture holds it; the hand computation below checks the formula itself.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sbrtmeta.stats.effect_sizes import mean_inverse_transform, proportion_effect_sizes
from sbrtmeta.stats.inference import knha_scale, prediction_df
from sbrtmeta.stats.influence import leave1out
from sbrtmeta.stats.proportions import pool_proportions
from sbrtmeta.stats.random_effects import fit_random_effects
from scipy import stats

FIX = Path(__file__).parent / "fixtures"
INPUTS = pd.read_csv(FIX / "metafor_inputs.csv")
PI = pd.read_csv(FIX / "metafor_pi.csv")
LOO = pd.read_csv(FIX / "metafor_adhoc_leave1out.csv")
REL = 1e-6


def _close(got, want, rel=REL):
    if np.isnan(want):
        return np.isnan(got)
    return got == pytest.approx(want, rel=rel, abs=1e-10)


def _data(dataset):
    return INPUTS[INPUTS.dataset == dataset]


@pytest.mark.metafor
@pytest.mark.parametrize(
    "row", list(PI.itertuples()), ids=lambda r: f"{r.dataset}-{r.measure}-{r.tau2_method}-{r.ci_method}"
)
def test_model_scale_intervals_equal_metafor(row):
    d = _data(row.dataset)
    fits = {
        opt: pool_proportions(d, "xi", "ni", row.measure, row.tau2_method, row.ci_method, pi_df=opt)
        for opt in ("metafor", "k-1", "k-2")
    }
    fit = fits["metafor"]
    assert _close(fit.estimate, row.estimate) and _close(fit.se, row.se)
    assert _close(fit.ci_low, row.ci_low) and _close(fit.ci_high, row.ci_high)
    for opt, end in (("metafor", ""), ("k-1", "_k1"), ("k-2", "_k2")):
        f = fits[opt]
        assert _close(f.pi_low, getattr(row, "pi_low" + end)), opt
        assert _close(f.pi_high, getattr(row, "pi_high" + end)), opt
        assert _close(f.share_above(0.8)[0], getattr(row, "share_80" + end)), opt


@pytest.mark.metafor
@pytest.mark.parametrize(
    "row",
    list(PI[PI.mean_estimate.notna()].itertuples()),
    ids=lambda r: f"{r.dataset}-{r.measure}-{r.tau2_method}-{r.ci_method}",
)
def test_mean_back_transform_equals_transf_int(row):
    fit = pool_proportions(
        _data(row.dataset), "xi", "ni", row.measure, row.tau2_method, row.ci_method, back_transform="mean"
    )
    out = fit.pooled_row()
    assert _close(out["estimate"], row.mean_estimate)
    assert _close(out["ci_low"], row.mean_ci_low) and _close(out["ci_high"], row.mean_ci_high)
    median = pool_proportions(_data(row.dataset), "xi", "ni", row.measure, row.tau2_method, row.ci_method).pooled_row()
    assert (out["pi_low"], out["pi_high"]) == (
        median["pi_low"],
        median["pi_high"],
    )  # quantiles: the plain back-transform


@pytest.mark.metafor
@pytest.mark.parametrize("key, rows", list(LOO.groupby(["dataset", "tau2_method", "ci_method"])), ids=str)
def test_leave1out_adhoc_equals_metafor(key, rows):
    dataset, method, test = key
    d = _data(dataset)
    yi, vi = proportion_effect_sizes(d.xi.to_numpy(float), d.ni.to_numpy(float), "PLO")
    res = leave1out(yi, vi, method, test)
    for name in ("estimate", "se", "ci_low", "ci_high", "tau2"):
        np.testing.assert_allclose(getattr(res, name), rows[name].to_numpy(), rtol=REL, atol=1e-10)


def test_adhoc_stops_the_zero_width_interval_of_sarcoma_os_60():
    # the shipped cell whose leave-one-out printed 50.0 [50.0, 50.0]: without Navarria 2015 the two
    # studies left are both 50 % (11/22, 22/44), so Knapp-Hartung's factor is 0
    d = _data("project:lung:sarcoma:OS:60")
    yi, vi = proportion_effect_sizes(d.xi.to_numpy(float), d.ni.to_numpy(float), "PLO")
    knha, adhoc = leave1out(yi, vi, "REML", "knha"), leave1out(yi, vi, "REML", "adhoc")
    assert knha.ci_low[0] == knha.ci_high[0] == 0.0
    assert adhoc.ci_low[0] < 0.0 < adhoc.ci_high[0]
    # the factor is at least 1: never narrower than Wald's se on the same t df
    z = fit_random_effects(yi[1:], vi[1:], "REML", "z")
    assert adhoc.se[0] == pytest.approx(z.se, rel=1e-12)


def test_knha_scale_is_metafors_factor():
    assert knha_scale(0.0, 2, "knha") == 0.0
    assert knha_scale(0.0, 2, "adhoc") == 1.0
    assert knha_scale(3.0, 2, "adhoc") == 1.5 and knha_scale(1.0, 2, "adhoc") == 1.0
    assert knha_scale(1.0, 2, "knha") == 0.5 and knha_scale(1.0, 2, "z") == 1.0


def test_pi_df_by_hand():
    """meta's "V" and "HTS" formula computed by hand on a cell of the shipped data: DL τ² and
    the Wald SE from the definitions, then μ̂ ± t √(SE² + τ²) on k - 1 and k - 2 df."""
    d = _data("project:lung:sarcoma:OS:24")
    yi, vi = proportion_effect_sizes(d.xi.to_numpy(float), d.ni.to_numpy(float), "PLO")
    k = len(yi)
    w = 1 / vi
    mu_fe = (w * yi).sum() / w.sum()
    q = (w * (yi - mu_fe) ** 2).sum()
    tau2 = max(0.0, (q - (k - 1)) / (w.sum() - (w**2).sum() / w.sum()))  # DerSimonian-Laird
    ws = 1 / (vi + tau2)
    mu, se = (ws * yi).sum() / ws.sum(), np.sqrt(1 / ws.sum())
    for opt, df in (("k-1", k - 1), ("k-2", k - 2)):
        half = stats.t.ppf(0.975, df) * np.sqrt(se**2 + tau2)
        for ci in ("knha", "z", "adhoc"):  # the CI method does not enter meta's interval
            fit = fit_random_effects(yi, vi, "DL", ci, pi_df=opt)
            assert fit.pi_low == pytest.approx(mu - half, rel=1e-12)
            assert fit.pi_high == pytest.approx(mu + half, rel=1e-12)
            assert fit.pi_df == df


def test_k_minus_2_needs_three_studies():
    assert np.isnan(prediction_df("k-2", None, 2)) and prediction_df("k-2", None, 3) == 1.0
    fit = fit_random_effects([0.1, 0.9], [0.05, 0.04], "DL", "knha", pi_df="k-2")
    assert np.isnan(fit.pi_low) and np.isnan(fit.pi_high)
    with pytest.raises(ValueError, match="pi_df"):
        prediction_df("k-3", None, 5)


def test_mean_back_transform_by_quadrature_and_limits():
    # E[ilogit(θ)], θ ~ N(0.8, 0.5), by Gauss-Hermite quadrature (an independent rule)
    x, w = np.polynomial.hermite_e.hermegauss(80)
    want = (w * (1 / (1 + np.exp(-(0.8 + np.sqrt(0.5) * x))))).sum() / w.sum()
    assert mean_inverse_transform(0.8, "PLO", 0.5) == pytest.approx(want, rel=1e-10)
    assert mean_inverse_transform(0.8, "PLO", 0.0) == pytest.approx(1 / (1 + np.exp(-0.8)), rel=1e-15)
    assert mean_inverse_transform(0.3, "PR", 0.2) == 0.3
    with pytest.raises(ValueError, match="PFT"):
        mean_inverse_transform(0.3, "PFT", 0.2)
    with pytest.raises(ValueError, match="mean"):
        pool_proportions(_data("project:lung:sarcoma:OS:24"), "xi", "ni", "PFT", back_transform="mean")


def test_permutation_statistics_under_adhoc_are_the_meta_regressions():
    # the meta-regression's adhoc fit is checked against metafor (metafor_metareg.json); the
    # permutation's batch statistics of the observed data must be the same numbers
    from sbrtmeta.stats.meta_regression import fit_meta_regression
    from sbrtmeta.stats.permutation import fit_statistics

    rng = np.random.default_rng(3)
    y, v = rng.normal(0.5, 0.3, 8), rng.uniform(0.01, 0.2, 8)
    X = np.column_stack([np.ones(8), np.repeat([0.0, 1.0], 4)])
    for y_ in (y, np.repeat(0.4, 8)):  # spread, and identical effects (factor 0 -> 1)
        fit = fit_meta_regression(y_, v, X, "REML", "adhoc")
        tau2, beta, z, qm = fit_statistics(X, y_[None, :], v[None, :], "REML", "adhoc", (1,))
        np.testing.assert_allclose(z[0], fit.zval, rtol=1e-8, atol=1e-12)
        assert qm[0] == pytest.approx(fit.QM, rel=1e-8, abs=1e-12)
