"""Likelihood-ratio tests (sbrtmeta.stats.model_comparison) against metafor's anova of two ML fits
(tests/metafor/make_sensitivity_tests_fixtures.R)."""

import numpy as np
import pandas as pd
import pytest
from sbrtmeta.stats.dose_response import fit_dose_response
from sbrtmeta.stats.meta_regression import design_matrix, fit_meta_regression
from sbrtmeta.stats.model_comparison import gls_loglik, likelihood_ratio_test
from sbrtmeta.stats.multilevel import fit_multilevel
from sensitivity_fixtures import INPUTS, REF, ref


def _ll(y, v, X, study=None, arm=None, multilevel=False):
    if multilevel:
        return fit_multilevel(y, v, study, arm, X, tau2_method="ML").loglik
    return gls_loglik(y, v, X, fit_meta_regression(y, v, X, "ML", "z").tau2, reml=False)


def _check(lrt, r):
    assert lrt.ll_full == pytest.approx(r[("", "ll_full")], rel=1e-8)
    assert lrt.ll_reduced == pytest.approx(r[("", "ll_reduced")], rel=1e-8)
    assert lrt.LRT == pytest.approx(r[("", "LRT")], rel=1e-6, abs=1e-8)
    assert lrt.df == r[("", "df")]
    assert lrt.pval == pytest.approx(r[("", "pval")], rel=1e-6)


@pytest.mark.parametrize("ds", sorted(REF[REF.analysis == "lrt_sites"].dataset.unique()))
def test_lrt_of_site_matches_anova(ds):
    d = INPUTS[INPUTS.dataset == ds]
    X, _ = design_matrix(pd.DataFrame({"site": d.site.to_numpy()}))
    y, v = d.yi.to_numpy(), d.vi.to_numpy()
    _check(likelihood_ratio_test(_ll(y, v, X), _ll(y, v, X[:, :1]), X.shape[1] - 1), ref(ds, "lrt_sites"))


@pytest.mark.parametrize("ds", sorted(REF[REF.analysis == "lrt_dose"].dataset.unique()))
def test_lrt_of_ln_bed10_matches_anova(ds):
    d = INPUTS[INPUTS.dataset == ds].reset_index(drop=True)
    across = d.site.nunique() > 1
    res = fit_dose_response(d.events, d.n, d.bed10, d.study, d.arm, site=d.site if across else None, tau2_method="ML")
    ml = res.multilevel
    full = _ll(res.yi, res.vi, res.X, res.study, res.arm, ml)
    reduced = _ll(res.yi, res.vi, np.delete(res.X, 1, axis=1), res.study, res.arm, ml)
    _check(likelihood_ratio_test(full, reduced, 1), ref(ds, "lrt_dose"))


def test_nested_models_need_fewer_parameters():
    with pytest.raises(ValueError, match="more parameters"):
        likelihood_ratio_test(-1.0, -2.0, 0)
    assert likelihood_ratio_test(-2.0, -1.9, 1).LRT == 0.0  # as anova: never below 0


@pytest.mark.parametrize("ds", sorted(REF[REF.analysis == "lrt_sites"].dataset.unique()))
def test_meta_regression_loglik_is_metafors(ds):
    """``fit.loglik`` is ``logLik(rma(..., method = "ML"))`` of the full and the reduced model."""
    d = INPUTS[INPUTS.dataset == ds]
    X, _ = design_matrix(pd.DataFrame({"site": d.site.to_numpy()}))
    y, v = d.yi.to_numpy(), d.vi.to_numpy()
    r = ref(ds, "lrt_sites")
    assert fit_meta_regression(y, v, X, "ML", "z").loglik == pytest.approx(r[("", "ll_full")], rel=1e-8)
    assert fit_meta_regression(y, v, X[:, :1], "ML", "z").loglik == pytest.approx(r[("", "ll_reduced")], rel=1e-8)
