"""Dose-response of local control against metafor, and the TCP parameters.

Expected values come from tests/metafor/make_dose_response_fixtures.R (inputs from
tests/metafor/make_dose_response_inputs.py); no expected number is typed here.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sbrtmeta.plots.labels import dose_model_text
from sbrtmeta.stats.dose_response import (
    MODEL_MULTILEVEL,
    MODEL_TWO_LEVEL,
    _refit,
    arm_table,
    dose_curve,
    fit_dose_response,
    model_description,
)
from sbrtmeta.stats.effect_sizes import convert_to_timepoint
from sbrtmeta.stats.tcp import tcp_parameters
from sbrtmeta.stats.tcp_bootstrap import bootstrap_tcp, refit_many, simulate_logits

FIX = Path(__file__).parent / "fixtures"
INPUTS = pd.read_csv(FIX / "dose_response_inputs.csv")
FITS = pd.read_csv(FIX / "metafor_dose_response_fits.csv")
COEFS = pd.read_csv(FIX / "metafor_dose_response_coefs.csv")
VCOV = pd.read_csv(FIX / "metafor_dose_response_vcov.csv")
TCP = pd.read_csv(FIX / "metafor_dose_response_tcp.csv")
PREDS = pd.read_csv(FIX / "metafor_dose_response_predictions.csv")
RTOL = 1e-6
S2_ABS = 1e-9  # a variance component on its boundary: metafor's value is 0 or ~1e-13


def _approx(expected, abs_=1e-12):
    return pytest.approx(expected, rel=RTOL, abs=abs_, nan_ok=True)


def _rows(dataset, subset):
    d = INPUTS[INPUTS.dataset == dataset]
    if subset in ("liver", "lung"):
        return d[d.site == subset]
    if subset == "first_arm":
        return d[~d.study.duplicated()]
    return d


def _fit(row):
    d = _rows(row.dataset, row.subset)
    return fit_dose_response(
        d.events.to_numpy(),
        d.n.to_numpy(),
        d.bed10.to_numpy(),
        d.study.to_numpy(),
        d.arm.to_numpy(),
        site=d.site.to_numpy(),
        scale=row.scale,
        tau2_method=row.method,
        ci_method=row.test,
    )


FIT_ROWS = list(FITS.itertuples())
IDS = [r.fit_id for r in FIT_ROWS]
_CACHE: dict = {}


def fitted(row):
    if row.fit_id not in _CACHE:
        _CACHE[row.fit_id] = _fit(row)
    return _CACHE[row.fit_id]


# -- the fits ------------------------------------------------------------------------------------


@pytest.mark.parametrize("row", FIT_ROWS, ids=IDS)
def test_fit_matches_metafor(row):
    fit = fitted(row)
    assert fit.model == (MODEL_MULTILEVEL if row.model == "multilevel" else MODEL_TWO_LEVEL)
    assert (fit.k, fit.n_studies, fit.coef.size) == (row.k, row.n_studies, row.p)
    assert fit.site_moderator == bool(row.site_moderator)
    assert fit.df == (None if row.test == "z" else row.df)
    if row.model == "multilevel":
        assert fit.tau2 is None
        assert fit.sigma2[0] == _approx(row.sigma2_study, S2_ABS)
        assert fit.sigma2[1] == _approx(row.sigma2_arm, S2_ABS)
    else:
        assert fit.sigma2 is None
        assert fit.tau2 == _approx(row.tau2, S2_ABS)
    assert fit.QM == _approx(row.QM) and fit.QM_p == _approx(row.QM_p)
    assert fit.QM_df[0] == row.QM_df1
    assert fit.QM_df[1] == (None if np.isnan(row.QM_df2) else row.QM_df2)


@pytest.mark.parametrize("row", FIT_ROWS, ids=IDS)
def test_coefficients_and_vcov_match_metafor(row):
    fit = fitted(row)
    ref = COEFS[COEFS.fit_id == row.fit_id].sort_values("j")
    assert list(fit.coef_names[:2]) == list(ref.name[:2])
    for col, got in (
        ("coef", fit.coef),
        ("se", fit.se),
        ("stat", fit.zval),
        ("pval", fit.pval),
        ("ci_low", fit.ci_low),
        ("ci_high", fit.ci_high),
    ):
        assert got == _approx(ref[col].to_numpy()), col
    v = VCOV[VCOV.fit_id == row.fit_id]
    expected = np.zeros((row.p, row.p))
    expected[v.i.to_numpy() - 1, v.j.to_numpy() - 1] = v.value.to_numpy()
    assert fit.vcov == _approx(expected, 1e-14)


# -- TCP parameters and their delta-method intervals --------------------------------------------

TCP_ROWS = list(TCP.itertuples())
TCP_FIELDS = [
    "slope_se",
    "slope_ci_low",
    "slope_ci_high",
    "bed50",
    "bed50_ci_low",
    "bed50_ci_high",
    "log_bed50_se",
    "gamma50",
    "gamma50_se",
    "gamma50_ci_low",
    "gamma50_ci_high",
    "bed_target",
    "bed_target_ci_low",
    "bed_target_ci_high",
    "log_bed_target_se",
    "crit",
]


@pytest.mark.parametrize("row", TCP_ROWS, ids=[f"{r.fit_id} | {r.site} | {r.target_lc} | {r.level}" for r in TCP_ROWS])
def test_tcp_parameters_match_metafor(row):
    fit_row = FITS[FITS.fit_id == row.fit_id].iloc[0]
    fit = fitted(next(r for r in FIT_ROWS if r.fit_id == row.fit_id))
    site = row.site if fit_row.site_moderator else None
    t = tcp_parameters(fit, target_lc=row.target_lc, level=row.level, site=site)
    assert t.site == row.site
    assert t.intercept == _approx(row.b0) and t.slope == _approx(row.b1)
    for name in TCP_FIELDS:
        expected = getattr(row, name)
        got = getattr(t, name)
        if np.isnan(expected):
            assert np.isnan(got), name
        else:
            assert got == _approx(expected), name
    assert t.slope_positive == (row.b1 > 0)
    assert t.slope_ci_excludes_zero == (row.slope_ci_low > 0)
    assert (t.note == "") == (row.slope_ci_low > 0 and not np.isnan(row.bed50) and not np.isnan(row.bed_target))


# -- predictions on a BED grid --------------------------------------------------------------------

PRED_KEYS = list(PREDS.groupby(["fit_id", "site"], sort=False).groups)


@pytest.mark.parametrize("key", PRED_KEYS, ids=[f"{a} | {b}" for a, b in PRED_KEYS])
def test_dose_curve_matches_metafor(key):
    fit_id, site = key
    row = next(r for r in FIT_ROWS if r.fit_id == fit_id)
    fit = fitted(row)
    ref = PREDS[(PREDS.fit_id == fit_id) & (PREDS.site == site)]
    curve = dose_curve(fit, ref.bed10.to_numpy(), site=site if row.site_moderator else None)
    assert list(curve.site.unique()) == [site]
    assert curve.bed10.to_numpy() == _approx(ref.bed10.to_numpy())
    pairs = {
        "logit": "pred",
        "se": "se",
        "logit_ci_low": "ci_low",
        "logit_ci_high": "ci_high",
        "logit_pi_low": "pi_low",
        "logit_pi_high": "pi_high",
        "lc": "lc",
        "ci_low": "lc_ci_low",
        "ci_high": "lc_ci_high",
        "pi_low": "lc_pi_low",
        "pi_high": "lc_pi_high",
    }
    for mine, theirs in pairs.items():
        assert curve[mine].to_numpy() == _approx(ref[theirs].to_numpy()), mine


def test_dose_curve_of_a_site_model_stacks_every_site():
    row = next(r for r in FIT_ROWS if r.fit_id.startswith("synthetic | liver+lung | log | REML | z"))
    fit = fitted(row)
    grid = np.geomspace(40, 250, 7)
    curve = dose_curve(fit, grid)
    assert list(curve.site.unique()) == list(fit.sites)
    for s in fit.sites:
        one = dose_curve(fit, grid, site=s)
        assert curve[curve.site == s].lc.to_numpy() == pytest.approx(one.lc.to_numpy(), rel=0, abs=0)
    assert np.all(curve.pi_low <= curve.ci_low) and np.all(curve.ci_high <= curve.pi_high)
    assert np.all(np.diff(curve[curve.site == fit.sites[0]].lc) > 0)  # rises with dose


# -- the fallback and the bookkeeping --------------------------------------------------------------


def test_two_level_fallback_is_recorded():
    d = _rows("project", "liver")
    fit = fit_dose_response(d.events, d.n, d.bed10, d.study, d.arm, site=d.site)
    assert fit.model == MODEL_TWO_LEVEL and fit.sigma2 is None and fit.tau2 is not None
    assert fit.sites == ("liver",) and not fit.site_moderator
    assert fit.total_variance == fit.tau2
    assert "Two-level" in dose_model_text(model_description(fit))
    d = _rows("project", "lung")
    fit = fit_dose_response(d.events, d.n, d.bed10, d.study, d.arm)
    assert fit.model == MODEL_MULTILEVEL and fit.tau2 is None and fit.n_arms == fit.k
    assert fit.total_variance == float(np.sum(fit.sigma2))
    assert fit.sites == () and tcp_parameters(fit).site == "all"
    assert "Three-level" in dose_model_text(model_description(fit))


def test_arm_table_weights_are_inverse_total_variances():
    row = next(r for r in FIT_ROWS if r.fit_id.startswith("project | liver+lung | log | REML | z"))
    fit = fitted(row)
    arms = arm_table(fit)
    assert arms.lc.to_numpy() == pytest.approx(fit.events / fit.n)
    assert arms.weight.to_numpy() == pytest.approx(1 / (fit.vi + fit.sigma2.sum()))
    assert arms.weight_pct.sum() == pytest.approx(100)
    assert list(arms.bed10) == list(fit.bed)


def test_site_model_needs_a_known_site():
    row = next(r for r in FIT_ROWS if r.fit_id.startswith("project | liver+lung | log | REML | z"))
    fit = fitted(row)
    with pytest.raises(ValueError, match="choose a site"):
        tcp_parameters(fit)
    with pytest.raises(ValueError, match="not one of the model's sites"):
        tcp_parameters(fit, site="adrenal")
    with pytest.raises(ValueError, match="not one of the model's sites"):
        dose_curve(fit, [100], site="adrenal")
    single = fitted(next(r for r in FIT_ROWS if r.fit_id.startswith("project | lung | log | REML | z")))
    with pytest.raises(ValueError, match="no site moderator"):
        tcp_parameters(single, site="liver")


def test_a_falling_curve_gives_no_tcp_doses():
    d = _rows("synthetic", "liver+lung")
    reversed_bed = d.bed10.max() + d.bed10.min() - d.bed10  # dose order reversed: LC falls with dose
    fit = fit_dose_response(d.events, d.n, reversed_bed, d.study, d.arm, site=d.site)
    t = tcp_parameters(fit, site="lung")
    assert fit.slope < 0 and not t.slope_positive and not t.slope_ci_excludes_zero
    assert np.isnan(t.bed50) and np.isnan(t.bed_target) and np.isnan(t.bed_target_ci_low)
    assert "does not rise" in t.note
    lin = tcp_parameters(
        fit_dose_response(d.events, d.n, reversed_bed, d.study, d.arm, site=d.site, scale="linear"), site="lung"
    )
    assert np.isnan(lin.gamma50) and np.isnan(lin.bed50)


# -- bootstrap ------------------------------------------------------------------------------------


def _boot(subset="liver+lung", dataset="synthetic", **kw):
    d = _rows(dataset, subset)
    return bootstrap_tcp(d.events, d.n, d.bed10, d.study, d.arm, site=d.site, **kw)


@pytest.mark.slow  # seconds of CPU: make test-fast runs it, -m 'not slow' leaves it out
def test_bootstrap_is_reproducible_and_covers_the_estimate():
    a = _boot(n_boot=200, seed=11)
    b = _boot(n_boot=200, seed=11)
    pd.testing.assert_frame_equal(a.intervals, b.intervals)
    pd.testing.assert_frame_equal(a.replicates, b.replicates)
    c = _boot(n_boot=200, seed=12)
    assert not np.allclose(a.replicates.slope, c.replicates.slope)
    assert a.n_ok + a.n_failed == a.n_boot == 200 and a.n_failed == 0
    assert a.model == MODEL_MULTILEVEL and set(a.estimates) == {"liver", "lung"}
    for r in a.intervals.itertuples():
        assert r.ci_low <= r.estimate <= r.ci_high, (r.site, r.parameter)
        assert r.ci_low < r.boot_median < r.ci_high


def test_bootstrap_of_the_two_level_model():
    res = _boot(subset="first_arm", n_boot=200, seed=3, scale="linear", tau2_method="ML")
    assert res.model == MODEL_TWO_LEVEL and res.n_failed == 0
    for r in res.intervals.itertuples():
        assert r.ci_low <= r.estimate <= r.ci_high, (r.site, r.parameter)


def test_bootstrap_counts_replicates_whose_slope_is_not_positive():
    res = _boot(subset="lung", dataset="project", n_boot=300, seed=5)
    assert 0 < res.n_nonpositive_slope < 300  # the project's lung slope is not significant
    bed = res.intervals.set_index("parameter").loc["bed_target"]
    assert bed.ci_high == np.inf and bed.n_used == res.n_ok


@pytest.mark.slow  # seconds of CPU: make test-fast runs it, -m 'not slow' leaves it out
@pytest.mark.parametrize("subset,method", [("liver+lung", "REML"), ("lung", "ML"), ("first_arm", "REML")])
def test_batched_refits_equal_the_engine(subset, method):
    d = _rows("synthetic", subset)
    fit = fit_dose_response(d.events, d.n, d.bed10, d.study, d.arm, site=d.site, tau2_method=method)
    Y = simulate_logits(fit, 40, np.random.default_rng(1))
    # no fallback: every replicate must converge in the batched fit itself, not in _refit
    coef, var, ok, failures = refit_many(fit, Y, fallback=False)
    assert ok.all() and not failures
    np.testing.assert_array_equal(refit_many(fit, Y)[0], coef)  # with the fallback allowed: the same
    for r in range(Y.shape[0]):
        one = _refit(Y[r], fit.vi, fit.study, fit.arm, fit.X, fit.multilevel, method, "z", 0.95)
        assert coef[r] == pytest.approx(one.coef, rel=RTOL, abs=1e-10)
        assert var[r] == pytest.approx(one.sigma2 if fit.multilevel else [one.tau2], rel=RTOL, abs=S2_ABS)


def test_simulation_has_the_fitted_moments():
    d = _rows("synthetic", "liver+lung")
    fit = fit_dose_response(d.events, d.n, d.bed10, d.study, d.arm, site=d.site)
    Y = simulate_logits(fit, 20000, np.random.default_rng(2))
    mean = fit.X @ fit.coef
    assert np.abs(Y.mean(axis=0) - mean).max() < 5 * np.sqrt((fit.vi + fit.total_variance).max() / 20000)
    var = Y.var(axis=0)
    assert var == pytest.approx(fit.vi + fit.total_variance, rel=0.06)


def test_bootstrap_input_errors():
    with pytest.raises(ValueError, match="n_boot"):
        _boot(n_boot=0)
    with pytest.raises(ValueError, match="target_lc"):
        _boot(n_boot=5, target_lc=1.0)


# -- constant-hazard conversion --------------------------------------------------------------------


def test_convert_to_timepoint():
    rates = INPUTS.events.to_numpy() / INPUTS.n.to_numpy()
    assert convert_to_timepoint(rates, 12, 12) == pytest.approx(rates)
    same = convert_to_timepoint(rates, 12, 24)
    assert same == pytest.approx(rates**2)  # two 12-month intervals at the same hazard
    assert convert_to_timepoint(same, 24, 12) == pytest.approx(rates)
    assert isinstance(convert_to_timepoint(0.8, 12, 24), float)
    assert convert_to_timepoint(1.0, 12, 24) == 1.0 and convert_to_timepoint(0.0, 12, 24) == 0.0
    assert np.all(np.diff(convert_to_timepoint(0.9, 12, [6, 12, 24, 36])) < 0)


@pytest.mark.parametrize(
    "rate,t0,t",
    [(1.2, 12, 24), (-0.1, 12, 24), (0.8, 0, 24), (0.8, 12, 0), (0.8, -12, 24), (np.nan, 12, 24), (0.8, 12, np.inf)],
)
def test_convert_to_timepoint_refuses_bad_input(rate, t0, t):
    with pytest.raises(ValueError):
        convert_to_timepoint(rate, t0, t)


# -- input errors ------------------------------------------------------------------------------------

D = _rows("synthetic", "liver+lung")


@pytest.mark.parametrize(
    "change,match",
    [
        (dict(scale="sqrt"), "scale"),
        (dict(tau2_method="DL"), "tau2_method"),
        (dict(ci_method="knha"), "ci_method"),
        (dict(level=95), "level"),
        (dict(bed=np.r_[0.0, D.bed10.to_numpy()[1:]]), "BED10"),
        (dict(bed=np.r_[np.nan, D.bed10.to_numpy()[1:]]), "BED10"),
        (dict(bed=D.bed10.to_numpy()[1:]), "bed"),
        (dict(events=np.r_[D.n.to_numpy()[0] + 1, D.events.to_numpy()[1:]]), "events"),
        (dict(site=np.r_[[None], D.site.to_numpy()[1:]]), "site"),
        (dict(study=np.r_[[np.nan], D.study.to_numpy()[1:]].astype(object)), "study"),
    ],
)
def test_fit_refuses_bad_input(change, match):
    args = dict(
        events=D.events.to_numpy(),
        n=D.n.to_numpy(),
        bed=D.bed10.to_numpy(),
        study=D.study.to_numpy(),
        arm=D.arm.to_numpy(),
        site=D.site.to_numpy(),
    )
    args.update(change)
    with pytest.raises(ValueError, match=match):
        fit_dose_response(**args)


def test_tcp_and_curve_refuse_bad_input():
    fit = fitted(next(r for r in FIT_ROWS if r.fit_id.startswith("synthetic | lung | log | REML | z")))
    for target in (0.0, 1.0, 90):
        with pytest.raises(ValueError, match="target_lc"):
            tcp_parameters(fit, target_lc=target)
    with pytest.raises(ValueError, match="level"):
        tcp_parameters(fit, level=1.0)
    with pytest.raises(ValueError, match="empty"):
        dose_curve(fit, [])
    with pytest.raises(ValueError, match="BED10"):
        dose_curve(fit, [50, -1])
    with pytest.raises(ValueError, match="k = 2, p = 3|more arms"):
        d = D.iloc[:2]
        fit_dose_response(d.events, d.n, d.bed10, d.study, d.arm, site=["liver", "lung"])
