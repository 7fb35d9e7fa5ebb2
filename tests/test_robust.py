"""sbrtmeta.stats.robust (CR2, Satterthwaite, HTZ) against metafor's robust(..., clubSandwich = TRUE)
(tests/metafor/make_sensitivity_tests_fixtures.R)."""

import numpy as np
import pandas as pd
import pytest
from sbrtmeta.stats.dose_response import fit_dose_response
from sbrtmeta.stats.meta_regression import design_matrix, fit_meta_regression
from sbrtmeta.stats.robust import marginal_covariance, robust_cr2
from sensitivity_fixtures import INPUTS, REF, ref

R_NAMES = {"log(bed10)": "log(bed10)"}


def _dose(ds):
    d = INPUTS[INPUTS.dataset == ds].reset_index(drop=True)
    across = d.site.nunique() > 1
    res = fit_dose_response(d.events, d.n, d.bed10, d.study, d.arm, site=d.site if across else None)
    V = marginal_covariance(res.vi, res.study, res.arm, res.sigma2, res.tau2)
    names = ["intrcpt", "log(bed10)"] + [f"site{s}" for s in res.sites[1:]]
    return res.multilevel, robust_cr2(res.yi, res.X, V, res.study, coef_names=names), names


def _sites(ds):
    d = INPUTS[INPUTS.dataset == ds].reset_index(drop=True)
    X, names = design_matrix(pd.DataFrame({"site": d.site}))
    fit = fit_meta_regression(d.yi, d.vi, X, "REML", "z")
    return robust_cr2(d.yi.to_numpy(), X, marginal_covariance(d.vi, tau2=fit.tau2), d.study, coef_names=names), names


DOSE = sorted(REF[REF.analysis == "robust_dose"].dataset.unique())


def _check(rb, names, r):
    for j, name in enumerate(names):
        for field, q in (("coef", "beta"), ("se", "se"), ("zval", "tval"), ("df", "df"), ("pval", "pval")):
            assert getattr(rb, field)[j] == pytest.approx(r[(name, q)], rel=1e-6), (name, q)
        assert rb.ci_low[j] == pytest.approx(r[(name, "ci_low")], rel=1e-6, abs=1e-9)
        assert rb.ci_high[j] == pytest.approx(r[(name, "ci_high")], rel=1e-6, abs=1e-9)
    assert rb.QM == pytest.approx(r[("", "QM")], rel=1e-6)
    assert rb.QM_df[0] == r[("", "QM_df1")]
    assert rb.QM_df[1] == pytest.approx(r[("", "QM_df2")], rel=1e-6)
    assert rb.QM_p == pytest.approx(r[("", "QMp")], rel=1e-6)
    assert rb.n_clusters == r[("", "n_clusters")]


@pytest.mark.parametrize("ds", DOSE)
def test_cr2_of_the_dose_response_matches_metafor(ds):
    r = ref(ds, "robust_dose")
    multilevel, rb, names = _dose(ds)
    assert multilevel == bool(r[("", "multilevel")])
    _check(rb, names, r)


def test_the_multilevel_case_is_covered():
    assert ref("synthetic:many_arms_dose", "robust_dose")[("", "multilevel")] == 1


def test_cr2_of_a_site_model_with_several_rows_per_study_matches_metafor():
    rb, names = _sites("synthetic:many_arms")
    _check(rb, names, ref("synthetic:many_arms", "robust_sites"))


def test_clusters_must_hold_the_random_effects():
    V = marginal_covariance([0.1] * 4, study=["a", "a", "b", "b"], arm=["1", "2", "1", "2"], sigma2=(0.2, 0.1))
    X = np.column_stack([np.ones(4), [1.0, 2, 3, 4]])
    with pytest.raises(ValueError, match="not nested"):
        robust_cr2(np.array([0.1, 0.2, 0.3, 0.5]), X, V, ["a", "b", "a", "b"])
    with pytest.raises(ValueError, match="at least 2 clusters"):
        robust_cr2(np.array([0.1, 0.2, 0.3, 0.5]), X, V, ["a"] * 4)
