"""The binomial-normal GLMM against metafor's rma.glmm (fixtures from tests/metafor/).

tests/fixtures/metafor_glmm.csv is written by tests/metafor/make_glmm_fixtures.R
from tests/fixtures/metafor_inputs.csv and tests/fixtures/glmm_inputs_k200.csv
(made by tests/metafor/make_glmm_inputs.py). Each dataset has two rows:
``control == "tight"`` (glmer iterated to tight tolerances, i.e. the ML estimate
itself) and ``"default"`` (what rma.glmm gives out of the box, only as precise as
lme4's default stopping rules).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sbrtmeta.stats.glmm import GlmmResult, fit_glmm_logit, glmm_loglik

FIX = Path(__file__).parent / "fixtures"
INPUTS = pd.concat([pd.read_csv(FIX / "metafor_inputs.csv"), pd.read_csv(FIX / "glmm_inputs_k200.csv")])
EXPECTED = pd.read_csv(FIX / "metafor_glmm.csv", keep_default_na=False, na_values=["NA"])
OK = EXPECTED[EXPECTED.status == "ok"]
RTOL = 1e-5  # against the tightly converged glmer fit
TAU2_ATOL = 1e-8  # where tau2 is 0


def _fit(dataset, **kw):
    d = INPUTS[INPUTS.dataset == dataset]
    return fit_glmm_logit(d.xi.to_numpy(), d.ni.to_numpy(), **kw)


def _rows(control):
    return [r for r in OK.itertuples() if r.control == control]


@pytest.mark.parametrize("row", _rows("tight"), ids=lambda r: r.dataset)
def test_matches_metafor(row):
    fit = _fit(row.dataset)
    assert fit.converged
    assert fit.k == row.k
    assert fit.estimate == pytest.approx(row.estimate, rel=RTOL)
    assert fit.se == pytest.approx(row.se, rel=RTOL)
    assert fit.tau2 == pytest.approx(row.tau2, rel=RTOL, abs=TAU2_ATOL)
    assert fit.z == pytest.approx(row.zval, rel=RTOL)
    assert fit.ci_low == pytest.approx(row.ci_low, rel=RTOL, abs=RTOL * row.se)
    assert fit.ci_high == pytest.approx(row.ci_high, rel=RTOL, abs=RTOL * row.se)
    # p is a steep function of z (k200: p ~ 1e-71), so relative differences grow as z² · rel(z)
    assert fit.p == pytest.approx(row.pval, rel=1e-3)
    # metafor's logLik: saturated ll - lme4's conditional deviance / 2
    assert fit.loglik_metafor == pytest.approx(row.loglik, rel=1e-6, abs=1e-5)
    # glmer's logLik with nAGQ > 1 is the marginal ll relative to the saturated model
    assert fit.loglik_saturated == pytest.approx(row.loglik_saturated, rel=1e-9)
    assert fit.loglik - fit.loglik_saturated == pytest.approx(row.loglik_glmer, rel=1e-7, abs=1e-7)
    assert fit.qe_df == row.qe_df
    assert fit.qe_lrt == pytest.approx(row.qe_lrt, rel=1e-8)
    assert fit.qe_lrt_p == pytest.approx(row.qe_lrt_p, rel=1e-6, abs=1e-300)
    # metafor's Wald test comes from glm's last IRLS iterate (about 1e-5 off its limit)
    assert fit.qe_wald == pytest.approx(row.qe_wald, rel=1e-4)
    assert fit.qe_wald_p == pytest.approx(row.qe_wald_p, rel=1e-3, abs=1e-300)
    assert fit.i2 == pytest.approx(row.i2, rel=RTOL, abs=1e-8)
    assert fit.h2 == pytest.approx(row.h2, rel=RTOL)


@pytest.mark.parametrize("row", _rows("default"), ids=lambda r: r.dataset)
def test_matches_metafor_default_settings(row):
    """Out-of-the-box rma.glmm: agreement limited by glmer's default stopping rules.

    Nelder-Mead stops at an absolute change of 1e-5 in the deviance and the
    conditional modes at tolPwrss = 1e-7; on the flat likelihood of
    synthetic:zero_and_full (k = 5, tau2 ≈ 27) that leaves ~4e-4 in the SE.
    """
    fit = _fit(row.dataset)
    assert fit.estimate == pytest.approx(row.estimate, rel=1e-4, abs=1e-4 * row.se)
    assert fit.tau2 == pytest.approx(row.tau2, rel=1e-4, abs=TAU2_ATOL)
    assert fit.se == pytest.approx(row.se, rel=1e-3)


def test_fixtures_cover_the_datasets():
    names = set(EXPECTED.dataset)
    assert set(INPUTS.dataset) == names
    assert "synthetic:k200" in set(OK.dataset)
    assert (EXPECTED.k[EXPECTED.dataset == "synthetic:k200"] == 200).all()
    assert any(n.startswith("project:") for n in OK.dataset)
    assert set(EXPECTED.control) == {"default", "tight"}
    assert (EXPECTED.metafor_version.astype(str).str.len() > 0).all()


def test_singular_fit_is_the_common_effect_model():
    """synthetic:k2: glmer reports a singular fit (tau2 = 0); so must we."""
    row = OK[(OK.dataset == "synthetic:k2") & (OK.control == "tight")].iloc[0]
    assert row.singular and row.tau2 == 0
    fit = _fit("synthetic:k2")
    assert fit.tau2 == 0.0 and fit.i2 == 0.0 and fit.h2 == 1.0
    assert fit.estimate == pytest.approx(row.fe_estimate, rel=1e-9)
    assert fit.se == pytest.approx(row.fe_se, rel=1e-6)
    assert fit.loglik == pytest.approx(row.fe_loglik, rel=1e-9)


def test_identical_proportions_give_tau2_zero():
    """glmer refuses this dataset ("Response is constant"); the ML estimate is tau2 = 0.

    The model then is the common-effect logistic regression, which rma.glmm fits
    with method = "FE" (the fe_* columns).
    """
    rows = EXPECTED[EXPECTED.dataset == "synthetic:zero_heterogeneity"]
    assert (rows.status.str.startswith("error")).all()
    assert rows.status.str.contains("Response is constant").all()
    row = rows.iloc[0]
    fit = _fit("synthetic:zero_heterogeneity")
    assert fit.converged
    assert fit.tau2 == 0.0
    assert fit.estimate == pytest.approx(row.fe_estimate, rel=1e-9)
    assert fit.se == pytest.approx(row.fe_se, rel=1e-6)
    assert fit.loglik == pytest.approx(row.fe_loglik, rel=1e-9)
    assert fit.qe_lrt == pytest.approx(0.0, abs=1e-9) and fit.qe_wald == pytest.approx(0.0, abs=1e-9)


def test_zero_and_full_studies_need_no_correction():
    """Studies with 0 or n events enter the exact binomial likelihood unchanged."""
    d = INPUTS[INPUTS.dataset == "synthetic:zero_and_full"]
    assert ((d.xi == 0) | (d.xi == d.ni)).any()
    fit = _fit("synthetic:zero_and_full")
    assert fit.loglik == pytest.approx(glmm_loglik(fit.estimate, fit.tau2, d.xi, d.ni))


def test_result_is_frozen_and_reports_settings():
    fit = _fit("synthetic:large_k", level=0.9)
    assert isinstance(fit, GlmmResult)
    assert fit.n_nodes == 7 and fit.level == 0.9 and fit.tau == pytest.approx(np.sqrt(fit.tau2))
    with pytest.raises(AttributeError):
        fit.estimate = 0.0  # type: ignore[misc]
    wide = _fit("synthetic:large_k", level=0.95)
    assert wide.ci_high - wide.ci_low > fit.ci_high - fit.ci_low


def test_more_nodes_change_little():
    """7-point AGQ is close to the exact integral: 30 nodes move mu and tau2 only slightly."""
    a = _fit("project:lung:colorectal:OS:24")
    b = _fit("project:lung:colorectal:OS:24", n_nodes=30)
    assert b.estimate == pytest.approx(a.estimate, abs=1e-3 * a.se)
    assert b.tau2 == pytest.approx(a.tau2, rel=1e-3)
    lap = _fit("project:lung:colorectal:OS:24", n_nodes=1)  # Laplace approximation
    assert lap.converged and lap.n_nodes == 1


def test_order_of_studies_does_not_matter():
    d = INPUTS[INPUTS.dataset == "synthetic:large_k"].iloc[::-1]
    a = fit_glmm_logit(d.xi.to_numpy(), d.ni.to_numpy())
    b = _fit("synthetic:large_k")
    assert a.estimate == pytest.approx(b.estimate, rel=1e-9)
    assert a.tau2 == pytest.approx(b.tau2, rel=1e-8)


@pytest.mark.parametrize(
    "events, n, match",
    [
        ([], [], "k = 0"),
        ([3], [10], "at least 2 studies"),
        ([3, np.nan], [10, 10], "NaN"),
        ([3, 4], [10, np.inf], "finite"),
        ([3, 4], [10, 0], "n >= 1"),
        ([11, 4], [10, 10], "0 <= events <= n"),
        ([-1, 4], [10, 10], "0 <= events <= n"),
        ([2.5, 4], [10, 10], "whole numbers"),
        ([3, 4, 5], [10, 10], "one length"),
        ([[3, 4]], [[10, 10]], "1-d"),
        ([0, 0, 0], [10, 20, 5], "does not exist"),
        ([10, 20, 5], [10, 20, 5], "does not exist"),
    ],
)
def test_degenerate_input_raises(events, n, match):
    with pytest.raises(ValueError, match=match):
        fit_glmm_logit(events, n)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"n_nodes": 0}, "n_nodes"),
        ({"n_nodes": 2.5}, "n_nodes"),
        ({"level": 95}, "level"),
        ({"level": 0.0}, "level"),
    ],
)
def test_bad_settings_raise(kw, match):
    with pytest.raises(ValueError, match=match):
        fit_glmm_logit([3, 4], [10, 10], **kw)
