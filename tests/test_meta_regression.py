"""The meta-regression engine against metafor's rma(mods = ...), predict() and regtest().

Expected values come only from metafor, through the committed scripts
tests/metafor/make_metareg_inputs.py (inputs) and tests/metafor/make_metareg_fixtures.R
(fixtures/metafor_metareg.json, fixtures/metafor_regtest.csv).
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sbrtmeta.stats.effect_sizes import proportion_effect_sizes
from sbrtmeta.stats.inference import KNHA_CI, REGRESSION_TAU2
from sbrtmeta.stats.meta_regression import (
    MetaRegressionResult,
    _loglik,
    _score,
    design_matrix,
    fit_meta_regression,
    predict_meta_regression,
    subgroup_test,
)
from sbrtmeta.stats.small_study import regtest

FIX = Path(__file__).parent / "fixtures"
METAREG = json.loads((FIX / "metafor_metareg.json").read_text())
REGTEST = pd.read_csv(FIX / "metafor_regtest.csv", keep_default_na=False, na_values=["NA"])
POOLING = pd.read_csv(FIX / "metafor_inputs.csv")
RTOL = 1e-6

# which moderator columns each fixture model uses (the formula is recorded beside it)
MODEL_COLUMNS = {
    "project_site_bed10": ["site", "bed10"],
    "project_site": ["site"],
    "synthetic_group_dose": ["group", "dose"],
    "synthetic_group_dose_btt_group": ["group", "dose"],
    "synthetic_group_cellmeans": ["group"],
}
# all proportions identical: the Egger slope is 0 up to rounding, so its statistic
# is rounding noise on both sides (metafor itself prints -Inf, NaN or ±1e-15)
NOISE_SLOPE = {"synthetic:zero_heterogeneity"}


def _arr(x):
    return np.array([np.nan if e is None else e for e in np.ravel(np.asarray(x, dtype=object))], dtype=float).reshape(
        np.shape(x)
    )


def _close(ours, theirs, rel=RTOL, abs_=1e-12):
    ours = np.asarray(np.nan if ours is None else ours, dtype=float)
    theirs = _arr(theirs)
    assert ours.shape == theirs.shape
    both_nan = np.isnan(ours) & np.isnan(theirs)
    ok = both_nan | (np.abs(ours - theirs) <= abs_ + rel * np.abs(theirs))
    return bool(np.all(ok))


def _inputs(data):
    d = METAREG["inputs"][data]
    return pd.DataFrame({k: v for k, v in d.items()})


def _effects(frame):
    return proportion_effect_sizes(frame["events"].to_numpy(), frame["n"].to_numpy())


def _case_id(c):
    return f"{c['model']}-{c['tau2_method']}-{c['ci_method']}"


@pytest.mark.parametrize("data", ["project", "synthetic"])
def test_effect_sizes_are_metafor_escalc(data):
    frame = _inputs(data)
    yi, vi = _effects(frame)
    assert _close(yi, frame["yi"], abs_=1e-14) and _close(vi, frame["vi"], abs_=1e-14)


@pytest.mark.parametrize("case", METAREG["cases"], ids=_case_id)
def test_meta_regression_matches_metafor(case):
    frame = _inputs(case["data"])
    X, names = design_matrix(frame[MODEL_COLUMNS[case["model"]]], intercept=case["intercept"])
    assert names == case["coef_names"]
    yi, vi = _effects(frame)
    btt = [b - 1 for b in case["btt"]]  # metafor counts from 1
    fit = fit_meta_regression(
        yi,
        vi,
        X,
        case["tau2_method"],
        case["ci_method"],
        btt=btt if case["model"].endswith("_btt_group") else None,
        coef_names=names,
    )
    assert list(fit.btt) == btt
    assert (fit.k, fit.p) == (case["k"], case["p"])
    assert fit.df == (None if case["df"] is None else int(case["df"]))
    assert fit.intercept == case["intercept"]
    for name in ("coef", "se", "zval", "ci_low", "ci_high"):
        assert _close(getattr(fit, name), case[name]), name
    assert _close(fit.pval, case["pval"], abs_=1e-15), "pval"
    vcov = _arr(case["vcov"])
    assert _close(fit.vcov, vcov, abs_=1e-10 * np.abs(vcov).max()), "vcov"
    assert _close(fit.tau2, case["tau2"], abs_=1e-10), "tau2"
    assert _close(fit.se_tau2, case["se_tau2"]), "se_tau2"
    assert _close(fit.QM, case["QM"]), "QM"
    assert fit.QM_df == tuple(None if d is None else int(d) for d in case["QM_df"])
    assert _close(fit.QM_p, case["QM_p"], abs_=1e-15), "QM_p"
    assert _close(fit.q, case["QE"]) and fit.q_df == case["QE_df"], "QE"
    assert _close(fit.q_p, case["QE_p"], abs_=1e-15), "QE_p"
    for name in ("I2", "H2"):
        assert _close(getattr(fit, name.lower()), case[name], abs_=1e-9), name
    assert _close(fit.conf_int(), np.column_stack([fit.ci_low, fit.ci_high])), "conf_int at the fit's level"
    # metafor 5.0-1 (NEWS.md: "rma() now calculates R^2 as long as a standard random-effects model is
    # nested within the fitted mixed-effects model"): a full set of dummies without intercept has R² too
    if case["R2"] is None:
        assert fit.R2 is None
    else:
        assert _close(fit.R2, case["R2"], abs_=1e-8), "R2"

    pred = predict_meta_regression(fit, case["newX"])
    for ours, theirs in [
        ("pred", "pred"),
        ("se", "pred_se"),
        ("ci_low", "pred_ci_low"),
        ("ci_high", "pred_ci_high"),
        ("pi_low", "pred_pi_low"),
        ("pi_high", "pred_pi_high"),
    ]:
        assert _close(getattr(pred, ours), case[theirs]), ours


@pytest.mark.parametrize(
    "case", METAREG["subgroup"], ids=lambda c: f"{c['groups']}-{c['tau2_method']}-{c['ci_method']}"
)
def test_subgroup_test_matches_metafor(case):
    frame = _inputs(case["data"])
    yi, vi = _effects(frame)
    res = subgroup_test(yi, vi, frame[case["groups"]], case["tau2_method"], case["ci_method"])
    assert list(res.levels) == case["levels"]
    assert res.QM_df == tuple(None if d is None else int(d) for d in case["QM_df"])
    for ours, name in (("QM", "QM"), ("q", "QE")):
        assert _close(getattr(res, ours), case[name]), name
    for ours, name in (("QM_p", "QM_p"), ("q_p", "QE_p")):
        assert _close(getattr(res, ours), case[name], abs_=1e-15), name
    assert _close(res.tau2, case["tau2"], abs_=1e-10)
    assert _close(res.fit.coef, case["coef"])


def _regtest_id(row):
    return f"{row.dataset}-{row.model}-{row.predictor}-{row.tau2_method or 'lm'}-{row.ci_method or 'lm'}"


@pytest.mark.parametrize("row", list(REGTEST.itertuples()), ids=_regtest_id)
def test_regtest_matches_metafor(row):
    d = POOLING[POOLING.dataset == row.dataset]
    yi, vi = proportion_effect_sizes(d.xi.to_numpy(), d.ni.to_numpy())
    kw = {} if row.model == "lm" else {"tau2_method": row.tau2_method, "ci_method": row.ci_method}
    res = regtest(yi, vi, model=row.model, predictor=row.predictor, ni=d.ni.to_numpy(), **kw)
    assert res.df == (None if np.isnan(row.df) else int(row.df))
    for name in ("est", "ci_low", "ci_high"):
        assert _close(getattr(res, name), getattr(row, name)), name
    assert _close(res.fit.coef[0], row.fit_b0), "intercept"
    if row.model == "rma":
        assert _close(res.fit.tau2, row.fit_tau2, abs_=1e-10), "tau2"
    if row.dataset in NOISE_SLOPE:
        assert abs(res.fit.coef[1]) < 1e-12  # a flat funnel: the slope is 0 on both sides
        return
    assert _close(res.zval, row.zval), "zval"
    assert _close(res.pval, row.pval, abs_=1e-15), "pval"
    assert _close(res.fit.coef[1], row.fit_b1), "slope"
    assert _close(res.fit.se, [row.fit_se0, row.fit_se1]), "se"


def test_fixtures_cover_what_was_asked():
    cases = METAREG["cases"]
    assert {c["model"] for c in cases} == set(MODEL_COLUMNS)
    for model in MODEL_COLUMNS:
        assert {(c["tau2_method"], c["ci_method"]) for c in cases if c["model"] == model} == {
            (m, t) for m in REGRESSION_TAU2 for t in KNHA_CI
        }
    assert len(_inputs("synthetic")) == 40
    assert set(_inputs("project")["site"]) == {"liver", "lung"}
    assert any(c["tau2"] > 0 for c in cases) and any(c["R2"] not in (None, 0) for c in cases)
    eligible = {ds for ds, g in POOLING.groupby("dataset") if len(g) >= 3}
    assert set(REGTEST.dataset) == eligible
    assert {"rma", "lm"} == set(REGTEST.model)


# ------------------------------------------------------------------- design matrix


def test_design_matrix_codes_factors_as_model_matrix():
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "g": ["b", "a", "c", "a"], "h": ["u", "v", "u", "v"]})
    X, names = design_matrix(df)
    assert names == ["intrcpt", "x", "gb", "gc", "hv"]
    np.testing.assert_array_equal(X[:, 2:4], [[1, 0], [0, 0], [0, 1], [0, 0]])
    X0, names0 = design_matrix(df, intercept=False)  # first factor gets one column per level
    assert names0 == ["x", "ga", "gb", "gc", "hv"]
    np.testing.assert_array_equal(X0[:, 1:4].sum(axis=1), 1.0)


def test_design_matrix_follows_category_order_and_levels():
    cat = pd.Categorical(["lung", "liver", "lung"], categories=["lung", "liver", "adrenal"])
    X, names = design_matrix(pd.DataFrame({"site": cat}))
    assert names == ["intrcpt", "siteliver"]  # unused 'adrenal' is not a column
    Xn, namesn = design_matrix(pd.DataFrame({"site": ["lung"]}), levels={"site": ["liver", "lung"]})
    assert namesn == ["intrcpt", "sitelung"] and Xn.tolist() == [[1.0, 1.0]]
    Xb, namesb = design_matrix(pd.DataFrame({"ok": [True, False, True]}))
    assert namesb == ["intrcpt", "okTRUE"] and Xb[:, 1].tolist() == [1.0, 0.0, 1.0]


@pytest.mark.parametrize(
    "frame, kwargs, match",
    [
        (pd.DataFrame({"x": [1.0, np.nan]}), {}, "missing"),
        (pd.DataFrame({"g": ["a", "a", "a"]}), {}, "single level"),
        (pd.DataFrame({"g": ["a", "b", "c"]}), {"levels": {"g": ["a", "b"]}}, "outside its levels"),
        (pd.DataFrame({"g": ["a", "b"]}), {"levels": {"z": ["a"]}}, "do not have"),
        (pd.DataFrame(index=range(3)), {"intercept": False}, "no columns"),
    ],
)
def test_design_matrix_refuses(frame, kwargs, match):
    with pytest.raises(ValueError, match=match):
        design_matrix(frame, **kwargs)


# ------------------------------------------------------------------- behaviour


def _synthetic_fit(method="REML", ci="z"):
    frame = _inputs("synthetic")
    X, names = design_matrix(frame[["group", "dose"]])
    yi, vi = _effects(frame)
    return yi, vi, X, names, fit_meta_regression(yi, vi, X, method, ci, coef_names=names)


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_likelihood_estimate_is_the_maximum(method):
    yi, vi, X, _, fit = _synthetic_fit(method)
    reml = method == "REML"
    assert fit.tau2 > 0
    assert abs(_score(fit.tau2, yi, vi, X, reml)) < 1e-8 * np.sum(1 / (vi + fit.tau2))
    ll = _loglik(fit.tau2, yi, vi, X, reml)
    for t in (0.0, fit.tau2 * 0.999, fit.tau2 * 1.001, 10 * fit.tau2):
        assert _loglik(t, yi, vi, X, reml) <= ll


def test_prediction_at_the_data_is_the_fit():
    yi, vi, X, names, fit = _synthetic_fit()
    pred = predict_meta_regression(fit, X)
    np.testing.assert_allclose(pred.pred, fit.fitted, rtol=1e-12)
    np.testing.assert_allclose(fit.fitted + fit.residuals, yi, rtol=1e-12)
    one = predict_meta_regression(fit, X[0])
    assert one.pred.shape == (1,) and one.pred[0] == pytest.approx(pred.pred[0], rel=1e-12)
    assert isinstance(fit, MetaRegressionResult) and list(fit.to_frame().index) == names


def test_subgroup_test_is_the_factor_meta_regression():
    frame = _inputs("project")
    yi, vi = _effects(frame)
    X, names = design_matrix(frame[["site"]])
    fit = fit_meta_regression(yi, vi, X, "REML", "knha", coef_names=names)
    res = subgroup_test(yi, vi, frame["site"].to_numpy(), "REML", "knha")
    assert res.QM == pytest.approx(fit.QM, rel=1e-12) and res.QM_df == fit.QM_df == (1, len(yi) - 2)
    numeric = subgroup_test(yi, vi, (frame["site"] == "lung").astype(int) + 1)
    assert numeric.levels == (1, 2)


def test_regtest_lm_is_weighted_least_squares():
    d = POOLING[POOLING.dataset == "synthetic:large_k"]
    yi, vi = proportion_effect_sizes(d.xi.to_numpy(), d.ni.to_numpy())
    res = regtest(yi, vi, model="lm")
    X = np.column_stack([np.ones_like(yi), np.sqrt(vi)])
    w = 1 / vi
    beta = np.linalg.solve(X.T @ (w[:, None] * X), X.T @ (w * yi))
    assert res.fit.coef == pytest.approx(beta, rel=1e-10)
    assert res.df == len(yi) - 2 and res.est == res.fit.coef[0]


# ------------------------------------------------------------------- degenerate input


@pytest.mark.parametrize(
    "y, v, X, match",
    [
        ([0.1, 0.2, 0.3], [0.1, 0.1, 0.1], np.column_stack([np.ones(3), [1, 2, 3], [2, 1, 5]]), "k > p"),
        ([0.1, 0.2], [0.1, 0.1], np.column_stack([np.ones(2), [1, 2]]), "k > p"),
        ([0.1, np.nan, 0.3, 0.4], [0.1] * 4, np.ones((4, 1)), "finite"),
        ([0.1, 0.2, 0.3, 0.4], [0.1, 0.1, 0.0, 0.1], np.ones((4, 1)), "> 0"),
        ([0.1, 0.2, 0.3, 0.4], [0.1, 0.1, -0.1, 0.1], np.ones((4, 1)), "> 0"),
        ([0.1, 0.2, 0.3, 0.4], [0.1] * 4, np.column_stack([np.ones(4), [1, np.nan, 2, 3]]), "finite"),
        ([0.1, 0.2, 0.3, 0.4], [0.1] * 4, np.column_stack([np.ones(4), [1, 2, 3, 4], [2, 4, 6, 8]]), "rank-deficient"),
        ([0.1, 0.2, 0.3, 0.4], [0.1] * 4, np.column_stack([np.ones(4), np.zeros(4)]), "rank-deficient"),
        ([0.1, 0.2, 0.3, 0.4], [0.1] * 4, np.ones((3, 1)), "rows"),
        ([], [], np.ones((0, 1)), "k = 0"),
    ],
)
def test_degenerate_input_raises(y, v, X, match):
    with pytest.raises(ValueError, match=match):
        fit_meta_regression(y, v, X)


def test_bad_arguments_raise():
    y, v, X = [0.1, 0.5, 0.3, 0.9], [0.1, 0.2, 0.1, 0.3], np.column_stack([np.ones(4), [1, 2, 3, 4]])
    with pytest.raises(ValueError, match="tau2_method"):
        fit_meta_regression(y, v, X, tau2_method="PM")
    with pytest.raises(ValueError, match="ci_method"):
        fit_meta_regression(y, v, X, ci_method="t")
    with pytest.raises(ValueError, match="btt"):
        fit_meta_regression(y, v, X, btt=[5])
    with pytest.raises(ValueError, match="level"):
        fit_meta_regression(y, v, X, level=95)
    fit = fit_meta_regression(y, v, X)
    with pytest.raises(ValueError, match="columns"):
        predict_meta_regression(fit, [[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="k >= 3"):
        regtest(y[:2], v[:2])
    with pytest.raises(ValueError, match="same in every study"):
        regtest(y, [0.1] * 4)
    with pytest.raises(ValueError, match="needs the sample sizes"):
        regtest(y, v, predictor="ninv")
    with pytest.raises(ValueError, match="model"):
        regtest(y, v, model="glm")
    with pytest.raises(ValueError, match="at least 2 subgroups"):
        subgroup_test(y, v, ["a"] * 4)
