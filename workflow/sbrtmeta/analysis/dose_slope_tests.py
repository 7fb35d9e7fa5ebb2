"""The tests of the dose slope (issue 12, items 6-9): for each fit of ``dose_response.csv``
(per site and across sites), the permutation (per site), CR2 and likelihood-ratio tests of
ln BED10, as rows of ``sensitivity_tests.csv`` (:mod:`sbrtmeta.analysis.sensitivity_tests`). The
arms of ``dose_response_arms.csv`` are refitted by the dose-response analysis' own fitter
(:func:`sbrtmeta.analysis.dose_response.fit_arms`) with the ``dose_response`` config.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sbrtmeta.analysis.dose_response import fit_arms
from sbrtmeta.analysis.sensitivity_tests import (
    CR2,
    DOSE_ACROSS,
    DOSE_PER_SITE,
    DOSE_TERM,
    LRT,
    PERMUTATION,
    cr2_rows,
    guarded,
    permutation_fields,
    permutation_note,
    table_row,
)
from sbrtmeta.stats.meta_regression import fit_meta_regression
from sbrtmeta.stats.model_comparison import likelihood_ratio_test
from sbrtmeta.stats.multilevel import fit_multilevel
from sbrtmeta.stats.permutation import permutation_test
from sbrtmeta.stats.robust import marginal_covariance


def _dose_fit(arms: pd.DataFrame, dose: dict, across: bool, tau2_method: str | None = None):
    options = dict(scale=dose["scale"], ci_method=dose["ci_method"], level=dose["level"])
    return fit_arms(arms, across, bed="bed10", tau2_method=tau2_method or dose["tau2_method"], **options)


def _ml_loglik(res, X) -> float:
    """The ML log-likelihood of ``res``'s model (multilevel or two-level) with design ``X``."""
    if res.multilevel:
        return fit_multilevel(res.yi, res.vi, res.study, res.arm, X, tau2_method="ML").loglik
    return fit_meta_regression(res.yi, res.vi, X, "ML", "z").loglik


def _dose_tests(arms: pd.DataFrame, model: str, place: dict, site: str, dose: dict, opts: dict) -> list:
    across = model == DOSE_ACROSS
    res = _dose_fit(arms, dose, across)
    n_studies, k = res.n_studies, res.k
    methods = dict(tau2_method=res.tau2_method, ci_method=res.ci_method)
    fit_word = "multilevel rma.mv (study/arm)" if res.multilevel else "two-level rma"
    rows = []
    perm = opts["permutations"]
    key = (model, place, site, k, n_studies, DOSE_TERM)

    def permutation():
        Xd = res.X[:, :2]
        pr = permutation_test(
            res.yi,
            res.vi,
            Xd,
            res.tau2_method,
            res.ci_method,
            btt=(1,),
            coef_names=res.coef_names[:2],
            exact_max=perm["exact_max"],
            iterations=perm["iterations"],
            seed=perm["seed"],
        )
        note = permutation_note(pr)
        if res.multilevel:
            note += (
                "; metafor's permutest has no rma.mv method: the two-level slope model "
                "rma(yi, vi, mods = ~ ln BED10) is permuted (arms as independent)"
            )
        return [
            table_row(
                PERMUTATION, *key, se=float(pr.coef[1] / pr.zval[1]), **permutation_fields(pr, 1), **methods, note=note
            )
        ]

    def robust():
        V = marginal_covariance(res.vi, res.study, res.arm, res.sigma2, res.tau2)
        btt = tuple(range(1, res.X.shape[1]))
        note = f"{fit_word}; " + (
            "several arms per study" if res.multilevel else "one arm per study: each study a cluster of one"
        )
        return cr2_rows(
            res,
            model,
            place,
            site,
            n_studies,
            {1: DOSE_TERM},
            res.yi,
            res.X,
            V,
            res.study,
            btt,
            res.level,
            methods,
            note,
        )

    def likelihood_ratio():
        full_ml = _dose_fit(arms, dose, across, "ML")
        reduced_X = np.delete(full_ml.X, 1, axis=1)
        lrt = likelihood_ratio_test(_ml_loglik(full_ml, full_ml.X), _ml_loglik(full_ml, reduced_X), 1)
        return [
            table_row(
                LRT,
                *key,
                estimate=float(full_ml.slope),
                statistic=lrt.LRT,
                df1=lrt.df,
                p_parametric=float(res.pval[1]),
                p=lrt.pval,
                tau2_method="ML",
                ci_method=res.ci_method,
                note=(
                    f"{fit_word}, ML fits with and without ln BED10 (ll {lrt.ll_full:.4f} vs {lrt.ll_reduced:.4f}); "
                    f"p_parametric: the slope's Wald test of the {res.tau2_method} fit"
                ),
            )
        ]

    if perm["enabled"] and not across:
        rows += guarded(PERMUTATION, key, permutation)
    if opts["robust"]["enabled"]:
        rows += guarded(CR2, key, robust)
    if opts["likelihood_ratio"]["enabled"]:
        rows += guarded(LRT, key, likelihood_ratio)
    return rows


def dose_models(arms: pd.DataFrame, fitted: pd.DataFrame):
    """``(model, place, site, arms)`` of every dose-response fit of ``dose_response.csv``."""
    per_site = fitted[(fitted["model"] == "per site") & fitted["slope"].notna()]
    for (h, site), _ in per_site.groupby(["histology", "site"], sort=True):
        sub = arms[(arms["histology"] == h) & (arms["site"] == site)]
        place = dict(
            histology=h, endpoint=sub["endpoint"].iloc[0], timepoint_months=float(sub["timepoint_months"].iloc[0])
        )
        yield DOSE_PER_SITE, place, site, sub
    across = fitted[(fitted["model"] == "across sites") & fitted["slope"].notna()]
    for h, g in across.groupby("histology", sort=True):
        sub = arms[(arms["histology"] == h) & arms["site"].isin(set(g["site"]))]
        place = dict(
            histology=h, endpoint=sub["endpoint"].iloc[0], timepoint_months=float(sub["timepoint_months"].iloc[0])
        )
        yield DOSE_ACROSS, place, "; ".join(sorted(g["site"].unique())), sub


def dose_slope_tests(arms: pd.DataFrame, fitted: pd.DataFrame, dose: dict, opts: dict) -> list[dict]:
    """The rows of ``sensitivity_tests.csv`` on every dose-response fit of ``fitted``
    (``dose_response.csv``) of the ``arms`` (``dose_response_arms.csv``), with the
    ``dose_response`` and ``sensitivity`` config."""
    rows = []
    if arms.empty or fitted.empty:
        return rows
    for model, place, site, sub in dose_models(arms, fitted):
        rows += _dose_tests(sub, model, place, site, dose, opts)
    return rows
