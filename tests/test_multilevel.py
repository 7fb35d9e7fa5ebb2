"""The three-level model against metafor's rma.mv(random = ~ 1 | study/arm).

Expected values come from tests/metafor/make_multilevel_fixtures.R (inputs from
tests/metafor/make_multilevel_inputs.py); no expected number is typed here.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sbrtmeta.stats.effect_sizes import proportion_effect_sizes
from sbrtmeta.stats.multilevel import _Blocks, _check, fit_multilevel, predict_multilevel

FIX = Path(__file__).parent / "fixtures"
INPUTS = pd.read_csv(FIX / "multilevel_inputs.csv")
FITS = pd.read_csv(FIX / "metafor_multilevel_fits.csv")
COEFS = pd.read_csv(FIX / "metafor_multilevel_coefs.csv")
VCOV = pd.read_csv(FIX / "metafor_multilevel_vcov.csv")
PREDS = pd.read_csv(FIX / "metafor_multilevel_predictions.csv")
RTOL = 1e-6
S2_ABS = 1e-9  # variance components at the boundary: metafor's (polished) value is 0


def _design(d, model):
    """The design matrix of an R formula of the fixtures ("~ 1", "~ bed10",
    "~ site", "~ bed10 + site"), with R's column names (treatment coding)."""
    cols, names = [np.ones(len(d))], ["intrcpt"]
    for term in (t.strip() for t in model.lstrip("~").split("+")):
        if term == "1":
            continue
        if term == "bed10":
            cols.append(d.bed10.to_numpy(float))
            names.append("bed10")
        elif term == "site":
            for level in sorted(d.site.unique())[1:]:
                cols.append((d.site == level).to_numpy(float))
                names.append(f"site{level}")
        else:
            raise AssertionError(f"unknown term {term!r}")
    return np.column_stack(cols), names


def _fit(row):
    d = INPUTS[INPUTS.dataset == row.dataset]
    yi, vi = proportion_effect_sizes(d.xi.to_numpy(), d.ni.to_numpy())
    X, names = _design(d, row.model)
    return (
        fit_multilevel(yi, vi, d.study.to_numpy(), d.arm.to_numpy(), X, tau2_method=row.method, ci_method=row.test),
        X,
        names,
    )


def _approx(expected, abs_=1e-12):
    return pytest.approx(expected, rel=RTOL, abs=abs_, nan_ok=True)


FIT_ROWS = list(FITS.itertuples())
IDS = [r.fit_id for r in FIT_ROWS]


@pytest.mark.parametrize("row", FIT_ROWS, ids=IDS)
def test_fit_matches_metafor(row):
    fit, X, names = _fit(row)
    assert (fit.k, fit.n_studies, fit.n_arms, fit.p) == (row.k, row.n_studies, row.n_arms, row.p)
    assert fit.df == (None if row.test == "z" else row.df)
    assert fit.sigma2_study == _approx(row.sigma2_study, S2_ABS)
    assert fit.sigma2_arm == _approx(row.sigma2_arm, S2_ABS)
    if row.sigma2_study == 0:
        assert fit.sigma2_study == 0.0
    if row.sigma2_arm == 0:
        assert fit.sigma2_arm == 0.0
    assert fit.loglik == _approx(row.loglik)
    assert fit.q == _approx(row.QE) and fit.q_p == _approx(row.QE_p)
    assert fit.QM == _approx(row.QM) and fit.QM_p == _approx(row.QM_p)
    assert fit.QM_df[0] == row.QM_df1
    assert fit.QM_df[1] == (None if np.isnan(row.QM_df2) else row.QM_df2)


@pytest.mark.parametrize("row", FIT_ROWS, ids=IDS)
def test_coefficients_match_metafor(row):
    fit, X, names = _fit(row)
    c = COEFS[COEFS.fit_id == row.fit_id].sort_values("j")
    assert list(c.name) == names  # same design columns as R's model.matrix
    for ours, col in [
        (fit.coef, "coef"),
        (fit.se, "se"),
        (fit.zval, "stat"),
        (fit.pval, "pval"),
        (fit.ci_low, "ci_low"),
        (fit.ci_high, "ci_high"),
    ]:
        assert ours == _approx(c[col].to_numpy()), col
    if row.test == "t":
        assert fit.tval is fit.zval
    vb = VCOV[VCOV.fit_id == row.fit_id]
    expected = np.zeros((row.p, row.p))
    expected[vb.i.to_numpy() - 1, vb.j.to_numpy() - 1] = vb.value.to_numpy()
    assert fit.vcov == _approx(expected, 1e-15)


@pytest.mark.parametrize("row", FIT_ROWS, ids=IDS)
def test_predictions_match_metafor(row):
    fit, X, names = _fit(row)
    pr_all = PREDS[PREDS.fit_id == row.fit_id]
    for kind, pr in pr_all.groupby("kind"):
        pr = pr.sort_values("row")
        newX = pr[[f"X{j + 1}" for j in range(row.p)]].to_numpy(float)
        if kind == "fitted":
            ours = predict_multilevel(fit)  # as predict(res) without newmods
            assert newX == pytest.approx(X if row.p > 1 else np.ones((1, 1)))  # R's design rows
        else:
            ours = predict_multilevel(fit, newX)
        assert ours.df == fit.df
        for name in ("pred", "se", "ci_low", "ci_high", "pi_low", "pi_high"):
            assert getattr(ours, name) == _approx(pr[name].to_numpy()), (kind, name)


def test_nlminb_answer_is_within_tolerance_of_the_polished_one():
    """The fixture's variance components are metafor's nlminb estimates polished by
    Newton steps on metafor's own likelihood; the polish moves them only a little."""
    for row in FIT_ROWS:
        for comp in ("study", "arm"):
            raw, pol = getattr(row, f"sigma2_{comp}_nlminb"), getattr(row, f"sigma2_{comp}")
            assert raw == pytest.approx(pol, rel=RTOL, abs=1e-8), (row.fit_id, comp)
        assert row.loglik >= row.loglik_nlminb - 1e-12


def test_fixtures_cover_the_required_cases():
    names = set(FITS.dataset)
    for needed in (
        "project:LC",
        "project:LC_bed10",
        "synthetic:three_level",
        "synthetic:arm_var_zero",
        "synthetic:identical_arms",
        "synthetic:moderator",
        "synthetic:repeated_arm",
    ):
        assert needed in names
    assert set(FITS.method) == {"REML", "ML"} and set(FITS.test) == {"z", "t"}
    assert {"~ 1", "~ bed10", "~ site", "~ bed10 + site"} <= set(FITS.model)
    assert (FITS.sigma2_arm == 0).any() and (FITS.sigma2_study == 0).any()  # boundaries
    assert ((FITS.sigma2_arm > 0) & (FITS.sigma2_study > 0)).any()  # interior
    assert (FITS.n_arms < FITS.k).any()  # repeated arms
    project = INPUTS[INPUTS.dataset == "project:LC"]
    assert (project.groupby("study").size() > 1).sum() >= 3  # multi-arm studies


# ------------------------------------------------------------------ the algebra itself


def _dense_loglik(y, v, study, arm, X, s, a, reml):
    """The (restricted) log-likelihood with the k x k covariance, for checking."""
    same_s = study[:, None] == study[None, :]
    same_a = same_s & (arm[:, None] == arm[None, :])
    V = np.diag(v) + s * same_s + a * same_a
    W = np.linalg.inv(V)
    H = X.T @ W @ X
    r = y - X @ np.linalg.solve(H, X.T @ W @ y)
    k, p = X.shape
    if reml:
        return -0.5 * (
            (k - p) * np.log(2 * np.pi)
            - np.linalg.slogdet(X.T @ X)[1]
            + np.linalg.slogdet(V)[1]
            + np.linalg.slogdet(H)[1]
            + r @ W @ r
        )
    return -0.5 * (k * np.log(2 * np.pi) + np.linalg.slogdet(V)[1] + r @ W @ r)


@pytest.mark.parametrize("reml", [True, False])
def test_block_formulas_equal_the_dense_computation(reml):
    d = INPUTS[INPUTS.dataset == "synthetic:repeated_arm"]
    yi, vi = proportion_effect_sizes(d.xi.to_numpy(), d.ni.to_numpy())
    rng = np.random.default_rng(1)
    X = np.column_stack([np.ones(len(d)), rng.normal(size=len(d))])
    y, v, s_code, a_code, X = _check(yi, vi, d.study.to_numpy(), d.arm.to_numpy(), X, "REML", "z", 0.95)
    blocks = _Blocks(y, v, s_code, a_code, X)
    for s, a in [(0.3, 0.1), (0.0, 0.2), (0.05, 0.0)]:
        ll, grad, hess, _, _, _ = blocks.evaluate(s, a, reml)
        assert ll == pytest.approx(_dense_loglik(y, v, s_code, a_code, X, s, a, reml), rel=1e-12)
        h = 1e-6
        num = [
            (blocks.evaluate(s + h, a, reml, 0)[0] - blocks.evaluate(s - h, a, reml, 0)[0]) / (2 * h),
            (blocks.evaluate(s, a + h, reml, 0)[0] - blocks.evaluate(s, a - h, reml, 0)[0]) / (2 * h),
        ]
        assert grad == pytest.approx(num, rel=1e-5, abs=1e-6)
        num_h = np.column_stack(
            [
                (blocks.evaluate(s + h, a, reml)[1] - blocks.evaluate(s - h, a, reml)[1]) / (2 * h),
                (blocks.evaluate(s, a + h, reml)[1] - blocks.evaluate(s, a - h, reml)[1]) / (2 * h),
            ]
        )
        assert hess == pytest.approx(num_h, rel=1e-5, abs=1e-4)


def test_row_order_and_label_type_do_not_matter():
    d = INPUTS[INPUTS.dataset == "synthetic:repeated_arm"]
    yi, vi = proportion_effect_sizes(d.xi.to_numpy(), d.ni.to_numpy())
    study, arm = d.study.to_numpy(), d.arm.to_numpy()
    ref = fit_multilevel(yi, vi, study, arm)
    perm = np.random.default_rng(3).permutation(len(d))
    codes_s = pd.factorize(study)[0]
    codes_a = pd.factorize(arm)[0]
    for fit in (
        fit_multilevel(yi[perm], vi[perm], study[perm], arm[perm]),
        fit_multilevel(yi, vi, codes_s, codes_a),
        fit_multilevel(yi, vi, list(study), list(arm)),
    ):
        assert fit.coef == pytest.approx(ref.coef, rel=1e-10)
        assert fit.sigma2 == pytest.approx(ref.sigma2, rel=1e-8)
        assert fit.loglik == pytest.approx(ref.loglik, rel=1e-12)


def test_fit_runs_at_large_k():
    """10^5 arms in 2 * 10^4 studies fit (O(k), no k x k matrix); its time is in `make bench`
    (bench/speed_checks.py)."""
    rng = np.random.default_rng(2024)
    n_studies, k = 20_000, 100_000
    arms = rng.multinomial(k - n_studies, np.full(n_studies, 1 / n_studies)) + 1
    study = np.repeat(np.arange(n_studies), arms)
    arm = np.concatenate([np.arange(n) for n in arms])
    v = rng.uniform(0.02, 0.5, k)
    y = 1.0 + rng.normal(0, 0.5, n_studies)[study] + rng.normal(0, 0.3, k) + rng.normal(0, np.sqrt(v))
    X = np.column_stack([np.ones(k), rng.normal(size=k)])
    fit = fit_multilevel(y, v, study, arm, X)
    assert fit.k == k and fit.n_studies == n_studies
    assert np.all(np.isfinite(fit.coef)) and np.all(fit.sigma2 > 0)


# --------------------------------------------------------------------- bad input


Y, V = np.array([0.1, 0.5, 0.3, 0.8]), np.array([0.1, 0.2, 0.1, 0.3])
S, A = np.array(["s1", "s1", "s2", "s3"]), np.array(["a", "b", "a", "a"])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(y=[], v=[], study=[], arm=[]), "k = 0"),
        (dict(y=[0.1, np.nan, 0.3, 0.8]), "finite"),
        (dict(v=[0.1, np.nan, 0.1, 0.3]), "finite"),
        (dict(v=[0.1, 0.0, 0.1, 0.3]), "> 0"),
        (dict(v=[0.1, -0.2, 0.1, 0.3]), "> 0"),
        (dict(v=[0.1, 0.2, 0.1]), "one length"),
        (dict(study=["s1", "s1", "s2"]), "study"),
        (dict(arm=["a", "b"]), "arm"),
        (dict(study=["s1", None, "s2", "s3"]), "missing"),
        (dict(study=[1.0, 1.0, np.nan, 3.0]), "missing"),
        (dict(arm=["a", np.nan, "a", "a"]), "missing"),
        (dict(X=np.ones((3, 1))), "one row per effect size"),
        (dict(X=np.column_stack([np.ones(4), [1.0, np.nan, 2.0, 3.0]])), "finite"),
        (dict(X=np.column_stack([np.ones(4), np.ones(4)])), "full column rank"),
        (dict(X=np.column_stack([np.ones(4), [1.0, 2, 3, 4], [1.0, 4, 9, 16], [1.0, 8, 27, 64]])), "more effect sizes"),
        (dict(arm=["a", "a", "a", "a"]), "identifiable"),
        (dict(tau2_method="DL"), "tau2_method"),
        (dict(ci_method="knha"), "ci_method"),
        (dict(level=95), "level"),
    ],
)
def test_degenerate_input_raises(kwargs, match):
    args = dict(y=Y, v=V, study=S, arm=A)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        fit_multilevel(**args)


def test_predict_checks_newX():
    fit = fit_multilevel(Y, V, S, A, X=np.column_stack([np.ones(4), [1.0, 2, 3, 5]]))
    with pytest.raises(ValueError, match="columns"):
        predict_multilevel(fit, np.ones((2, 3)))
    with pytest.raises(ValueError, match="finite"):
        predict_multilevel(fit, [1.0, np.nan])
    one = predict_multilevel(fit, [1.0, 2.0])
    assert one.pred.shape == (1,)
    assert np.all(one.pi_low <= one.ci_low) and np.all(one.ci_high <= one.pi_high)
