"""GLMM runs are GLMM throughout (issue 22 item 5): leave-one-out and cumulative refits of a GLMM
cell are GLMM fits (fit_glmm_logit, itself checked against rma.glmm in test_glmm.py); the subgroup
test, which has no GLMM form here, says in words that it is the inverse-variance one."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sbrtmeta.analysis.cumulative import cumulative_table
from sbrtmeta.analysis.leave_one_out import leave_one_out_table
from sbrtmeta.stats.effect_sizes import inverse_transform
from sbrtmeta.stats.glmm import fit_glmm_logit

EVENTS = np.array([40.0, 25, 60, 18, 33])
N = np.array([50.0, 40, 70, 30, 45])
CELL = dict(site="liver", histology="colorectal", endpoint="LC", timepoint_months=24.0)


def _tables():
    yi = np.log(EVENTS / (N - EVENTS))
    studies = pd.DataFrame(
        dict(
            CELL,
            study_id=[f"s{i}" for i in range(5)],
            label=[f"Study {i}" for i in range(5)],
            events=EVENTS,
            n=N,
            yi=yi,
            vi=1 / EVENTS + 1 / (N - EVENTS),
            year=[2010.0, 2011, 2012, 2013, 2014],
        )
    )
    fit = fit_glmm_logit(EVENTS, N)
    pooled = pd.DataFrame(
        [
            dict(
                CELL,
                k=5,
                model="GLMM",
                transform="PLO",
                tau2_method="GLMM",
                ci_method="z",
                estimate=float(inverse_transform(fit.estimate, "PLO")),
                ci_low=np.nan,
                ci_high=np.nan,
                tau2=fit.tau2,
                i2=fit.i2,
            )
        ]
    )
    return pooled, studies


def test_leave_one_out_of_a_glmm_cell_refits_the_glmm():
    pooled, studies = _tables()
    loo = leave_one_out_table(pooled, studies, "liver")
    omitted = loo[loo["row"] == "omitted"]
    assert set(omitted["tau2_method"]) == {"GLMM"}
    for i in range(5):
        keep = np.arange(5) != i
        ref = fit_glmm_logit(EVENTS[keep], N[keep])
        np.testing.assert_allclose(omitted["estimate"].iloc[i], inverse_transform(ref.estimate, "PLO"), rtol=1e-10)
        np.testing.assert_allclose(omitted["tau2"].iloc[i], ref.tau2, rtol=1e-10, atol=1e-14)


def test_cumulative_of_a_glmm_cell_refits_the_glmm():
    pooled, studies = _tables()
    included = studies[["study_id", "year"]]
    cum = cumulative_table(pooled, studies.drop(columns="year"), included)
    assert set(cum["tau2_method"]) == {"GLMM"} and not cum["note"].fillna("").str.contains("REML").any()
    for k in range(2, 6):
        ref = fit_glmm_logit(EVENTS[:k], N[:k])
        np.testing.assert_allclose(cum["model_estimate"].iloc[k - 1], ref.estimate, rtol=1e-10)
        np.testing.assert_allclose(cum["ci_low"].iloc[k - 1], inverse_transform(ref.ci_low, "PLO"), rtol=1e-10)


def test_subgroup_test_of_a_glmm_run_says_it_is_inverse_variance():
    from sbrtmeta.analysis.pooling import GLMM_NO_TEST, IV_MODEL
    from sbrtmeta.plots.forest import subgroup_test_text
    from sbrtmeta.report.summary import subgroup_table

    row = pd.DataFrame(
        [dict(histology="colorectal", endpoint="LC", timepoint_months=24.0, sites="a; b", k=5, test="F", qm=1.0)]
    ).assign(df1=1, df2=3, p=0.4, model=GLMM_NO_TEST)
    assert "inverse-variance model" in subgroup_test_text(next(row.itertuples()))
    assert "inverse-variance random-effects model" in subgroup_table(row)
    assert "inverse" not in subgroup_test_text(next(row.assign(model=IV_MODEL).itertuples()))
