"""The tests of the site difference (issue 12, items 6-9) from ``pooled_studies.csv``: per
histology × endpoint × time point with two or more sites, the site model
``rma(yi, vi, mods = ~ site)``'s permutation, likelihood-ratio and CR2 tests (rows of
``sensitivity_tests.csv``, :mod:`sbrtmeta.analysis.sensitivity_tests`), and
``heterogeneity_by_site.csv``: the location-scale model ``rma(yi, vi, mods = ~ site,
scale = ~ site)`` (:func:`sbrtmeta.stats.location_scale.location_scale_by_group`) over the sites
with at least ``min_studies`` studies: τ² per site and the tests that τ² is equal across sites,
and for each site of ``min_studies`` or more studies metafor's ``hettest()`` score test of its own
studies (:func:`sbrtmeta.stats.hettest.hettest`: one τ² shared by the site's studies against a τ²
per study, asymptotic p), which tests within a site what the location-scale model tests between sites.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sbrtmeta.analysis.sensitivity_tests import (
    CR2,
    LRT,
    PERMUTATION,
    SITE_MODEL,
    SITE_TERM,
    cr2_rows,
    guarded,
    permutation_fields,
    permutation_note,
    table_row,
)
from sbrtmeta.data.cells import SITE_COMPARISON
from sbrtmeta.stats.hettest import hettest
from sbrtmeta.stats.inference import KNHA_CI, REGRESSION_TAU2
from sbrtmeta.stats.location_scale import location_scale_by_group
from sbrtmeta.stats.meta_regression import design_matrix, fit_meta_regression
from sbrtmeta.stats.model_comparison import likelihood_ratio_test
from sbrtmeta.stats.permutation import permutation_test
from sbrtmeta.stats.robust import marginal_covariance

HETEROGENEITY_COLUMNS = (
    "histology",
    "endpoint",
    "timepoint_months",
    "site",
    "k",
    "in_model",
    "tau2",
    "tau2_ci_low",
    "tau2_ci_high",
    "log_tau2",
    "log_tau2_se",
    "tau2_equal",
    "qs",
    "qs_df",
    "qs_p",
    "lrt",
    "lrt_df",
    "lrt_p",
    "hettest_score",
    "hettest_df",
    "hettest_p",
    "tau2_method",
    "level",
    "note",
)


def site_cells(studies: pd.DataFrame):
    """``(place, cell)`` for each histology × endpoint × time point of ``pooled_studies.csv``
    with two or more sites and more studies than sites (as the test for subgroup differences)."""
    for (h, e, t), cell in studies.groupby(SITE_COMPARISON, sort=True):
        if cell["site"].nunique() >= 2 and len(cell) > cell["site"].nunique():
            yield dict(histology=h, endpoint=e, timepoint_months=float(t)), cell.reset_index(drop=True)


def _cell_tests(place, cell, pooling: dict, opts: dict) -> list:
    y, v = cell["yi"].to_numpy(float), cell["vi"].to_numpy(float)
    method = pooling["tau2_method"] if pooling["tau2_method"] in REGRESSION_TAU2 else "REML"
    ci = pooling["ci_method"] if pooling["ci_method"] in KNHA_CI else "z"
    X, names = design_matrix(pd.DataFrame({"site": cell["site"].to_numpy()}))
    sites = "; ".join(sorted(cell["site"].unique()))
    n_studies = cell["study_id"].nunique()
    methods = dict(tau2_method=method, ci_method=ci)
    fallback = "" if method == pooling["tau2_method"] else f"τ² by REML: the site model has no {pooling['tau2_method']}"
    rows = []
    perm = opts["permutations"]
    key = (SITE_MODEL, place, sites, len(y), n_studies, SITE_TERM)

    def permutation():
        res = permutation_test(
            y,
            v,
            X,
            method,
            ci,
            coef_names=names,
            exact_max=perm["exact_max"],
            iterations=perm["iterations"],
            seed=perm["seed"],
        )
        note = "; ".join(x for x in (permutation_note(res), fallback) if x)
        return [table_row(PERMUTATION, *key, **permutation_fields(res), **methods, note=note)]

    def likelihood_ratio():
        full = fit_meta_regression(y, v, X, "ML", "z")
        reduced = fit_meta_regression(y, v, X[:, :1], "ML", "z")
        lrt = likelihood_ratio_test(full.loglik, reduced.loglik, X.shape[1] - 1)
        parametric = fit_meta_regression(y, v, X, method, ci).QM_p
        return [
            table_row(
                LRT,
                *key,
                statistic=lrt.LRT,
                df1=lrt.df,
                p_parametric=parametric,
                p=lrt.pval,
                tau2_method="ML",
                ci_method=ci,
                note=(
                    f"ML fits with and without site (ll {lrt.ll_full:.4f} vs {lrt.ll_reduced:.4f}); "
                    f"p_parametric: the QM test of the {method} fit"
                ),
            )
        ]

    def robust():
        fit = fit_meta_regression(y, v, X, method, "z")
        V = marginal_covariance(v, tau2=fit.tau2)
        terms = {j: names[j] for j in range(1, X.shape[1])}
        return cr2_rows(
            fit,
            SITE_MODEL,
            place,
            sites,
            n_studies,
            terms,
            y,
            X,
            V,
            cell["study_id"].to_numpy(),
            tuple(terms),
            0.95,
            dict(tau2_method=method, ci_method="z"),
            "a study gives several rows",
        )

    if perm["enabled"]:
        rows += guarded(PERMUTATION, key, permutation)
    if opts["likelihood_ratio"]["enabled"]:
        rows += guarded(LRT, key, likelihood_ratio)
    if opts["robust"]["enabled"] and cell["study_id"].duplicated().any():
        rows += guarded(CR2, key, robust)
    return rows


def site_tests(studies: pd.DataFrame, pooling: dict, opts: dict) -> list[dict]:
    """The rows of ``sensitivity_tests.csv`` on the site model of every cell of :func:`site_cells`
    (``pooling`` and ``sensitivity`` config)."""
    rows = []
    for place, cell in site_cells(studies):
        rows += _cell_tests(place, cell, pooling, opts)
    return rows


def _hettest_fields(cell: pd.DataFrame, site: str, method: str) -> dict:
    """The score test of ``hettest()`` on the studies of ``site`` in ``cell`` (NaN if it fails)."""
    rows = cell[cell["site"] == site]
    try:
        res = hettest(rows["yi"].to_numpy(float), rows["vi"].to_numpy(float), method, ("score",))
    except (ValueError, RuntimeError, np.linalg.LinAlgError):
        return dict(hettest_score=np.nan, hettest_df=np.nan, hettest_p=np.nan)
    return dict(hettest_score=float(res.statistic[0]), hettest_df=res.df, hettest_p=float(res.pval[0]))


def heterogeneity_by_site(studies: pd.DataFrame, opts: dict, level: float = 0.95) -> pd.DataFrame:
    """``heterogeneity_by_site.csv`` from ``pooled_studies.csv`` (see the module text)."""
    ls = opts["location_scale"]
    rows = []
    if not ls["enabled"]:
        return pd.DataFrame(columns=list(HETEROGENEITY_COLUMNS))
    for place, cell in site_cells(studies):
        sizes = cell["site"].value_counts()
        keep = sorted(s for s, n in sizes.items() if n >= ls["min_studies"])
        left = sorted(set(sizes.index) - set(keep))
        base = dict(place, tau2_method=ls["tau2_method"], level=level)
        out_note = f"not in the model: fewer than {ls['min_studies']} studies (sensitivity.location_scale.min_studies)"
        rows += [dict(base, site=s, k=int(sizes[s]), in_model=False, note=out_note) for s in left]
        if len(keep) < 2:
            for r in rows[len(rows) - len(left) :]:
                r["note"] += f"; fewer than 2 sites with {ls['min_studies']} or more studies, so no test"
            rows += [
                dict(
                    base,
                    site=s,
                    k=int(sizes[s]),
                    in_model=False,
                    **_hettest_fields(cell, s, ls["tau2_method"]),
                    note=f"no test: the only site with {ls['min_studies']} or more studies",
                )
                for s in keep
            ]
            continue
        sub = cell[cell["site"].isin(keep)]
        res = location_scale_by_group(
            sub["yi"].to_numpy(float), sub["vi"].to_numpy(float), sub["site"].to_numpy(), ls["tau2_method"], level
        )
        for i, s in enumerate(res.groups):
            rows.append(
                dict(
                    base,
                    site=s,
                    k=res.k[i],
                    in_model=True,
                    tau2=float(res.tau2[i]),
                    tau2_ci_low=float(res.tau2_ci_low[i]),
                    tau2_ci_high=float(res.tau2_ci_high[i]),
                    log_tau2=float(np.log(res.tau2[i])) if res.tau2[i] > 0 else np.nan,  # -inf: the note says so
                    log_tau2_se=float(res.log_tau2_se[i]),
                    tau2_equal=res.tau2_equal,
                    qs=res.QS,
                    qs_df=res.QS_df,
                    qs_p=res.QS_p,
                    lrt=res.LRT,
                    lrt_df=res.LRT_df,
                    lrt_p=res.LRT_p,
                    **_hettest_fields(sub, s, ls["tau2_method"]),
                    note=res.note,
                )
            )
    return pd.DataFrame(rows).reindex(columns=list(HETEROGENEITY_COLUMNS))
