"""The referee's tests of the site difference, the dose slope and heterogeneity by site
(issue 12, items 6-9): result tables from the pooled studies and the dose-response arms.

``sensitivity_tests.csv``, one row per test:

* **permutation** (:func:`sbrtmeta.stats.permutation.permutation_test`, metafor's
  ``permutest``): the test for subgroup differences between sites (the QM test of
  ``rma(yi, vi, mods = ~ site)`` with pooling's τ² and CI methods) per histology ×
  endpoint × time point, and the dose slope of each site's dose-response fit. metafor's
  ``permutest`` has no method for ``rma.mv``, so the slope permuted is that of the
  two-level model ``rma(yi, vi, mods = ~ ln BED10)`` (arms taken as independent); when
  the site's fit is the multilevel model the row says so. Exact over every distinct
  permutation when there are at most ``exact_max``, else ``iterations`` seeded random ones.
* **CR2** (:func:`sbrtmeta.stats.robust.robust_cr2`, ``robust(fit, cluster = study,
  clubSandwich = TRUE)``): the dose-response fits (per site and across sites), clustered
  by study, and the site model of every cell in which a study gives several rows.
* **likelihood ratio** (:func:`sbrtmeta.stats.model_comparison.likelihood_ratio_test`,
  ``anova`` of two ML fits): each dose-response fit with and without ln BED10, and each
  site model with and without site.

``heterogeneity_by_site.csv``: the location-scale model ``rma(yi, vi, mods = ~ site,
scale = ~ site)`` (:func:`sbrtmeta.stats.location_scale.location_scale_by_group`) per
histology × endpoint × time point over the sites with at least ``min_studies`` studies:
τ² per site and the tests that τ² is equal across sites.

Pure functions: tables and options in, tables out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sbrtmeta.stats.dose_response import fit_dose_response
from sbrtmeta.stats.inference import REGRESSION_TAU2
from sbrtmeta.stats.location_scale import location_scale_by_group
from sbrtmeta.stats.meta_regression import design_matrix, fit_meta_regression
from sbrtmeta.stats.model_comparison import gls_loglik, likelihood_ratio_test
from sbrtmeta.stats.multilevel import fit_multilevel
from sbrtmeta.stats.permutation import permutation_test
from sbrtmeta.stats.robust import marginal_covariance, robust_cr2

TEST_COLUMNS = (
    "test",
    "model",
    "histology",
    "endpoint",
    "timepoint_months",
    "site",
    "k",
    "n_studies",
    "term",
    "estimate",
    "se",
    "statistic",
    "df1",
    "df2",
    "p_parametric",
    "p",
    "n_permutations",
    "exact",
    "seed",
    "tau2_method",
    "ci_method",
    "note",
)
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
    "tau2_method",
    "level",
    "note",
)
SITE_MODEL = "site model"
DOSE_PER_SITE, DOSE_ACROSS = "dose-response per site", "dose-response across sites"
PERMUTATION, CR2, LRT = "permutation", "CR2", "likelihood ratio"
SITE_TERM, DOSE_TERM, ALL_TERMS = "site", "ln BED10", "all moderators"


# --------------------------------------------------------------------------- cells


def site_cells(studies: pd.DataFrame):
    """``(place, cell)`` for each histology × endpoint × time point of ``pooled_studies.csv``
    with two or more sites and more studies than sites (as the test for subgroup differences)."""
    for (h, e, t), cell in studies.groupby(["histology", "endpoint", "timepoint_months"], sort=True):
        if cell["site"].nunique() >= 2 and len(cell) > cell["site"].nunique():
            yield dict(histology=h, endpoint=e, timepoint_months=float(t)), cell.reset_index(drop=True)


def _row(test, model, place, site, k, n_studies, term, **fields) -> dict:
    return dict(test=test, model=model, **place, site=site, k=int(k), n_studies=int(n_studies), term=term, **fields)


def _perm_fields(res, j=None) -> dict:
    """Statistic, df and p-values of a permutation result: QM (``j`` None) or coefficient j."""
    out = dict(n_permutations=res.n_perm, exact=res.exact, seed=res.seed if res.seed is not None else np.nan)
    if j is None:
        return dict(out, statistic=res.QM, df1=res.QM_df[0], df2=res.QM_df[1], p_parametric=res.QM_p, p=res.QMp)
    return dict(
        out,
        estimate=float(res.coef[j]),
        statistic=float(res.zval[j]),
        df2=res.k - res.p if res.ci_method != "z" else np.nan,
        p_parametric=float(res.pval_parametric[j]),
        p=float(res.pval[j]),
    )


def _perm_note(res) -> str:
    how = (
        f"exact: all {res.n_perm} distinct permutations"
        if res.exact
        else f"{res.n_perm} random permutations (seed {res.seed}) of {res.n_distinct:.3g} distinct ones"
    )
    return how + (f"; {res.n_failed} permutation fit(s) failed and are left out" if res.n_failed else "")


def _cr2_rows(fit, model, place, site, n_studies, terms, y, X, V, cluster, btt, level, methods, note) -> list:
    """CR2 rows: one per coefficient in ``terms`` (index -> label), and the HTZ omnibus test
    of ``btt`` when it has more than one coefficient."""
    rb = robust_cr2(y, X, V, cluster, btt=btt, level=level)
    note = "; ".join(x for x in (note, f"{rb.n_clusters} clusters (studies); Satterthwaite df") if x)
    tests = [
        (
            label,
            dict(estimate=rb.coef[j], se=rb.se[j], statistic=rb.zval[j], df2=rb.df[j]),
            fit.pval[j],
            rb.pval[j],
            note,
        )
        for j, label in terms.items()
    ]
    if len(btt) > 1:
        omnibus = dict(statistic=rb.QM, df1=rb.QM_df[0], df2=rb.QM_df[1])
        tests.append((ALL_TERMS, omnibus, fit.QM_p, rb.QM_p, note + "; HTZ test"))
    return [
        _row(
            CR2,
            model,
            place,
            site,
            len(y),
            n_studies,
            label,
            **{k: float(v) for k, v in fields.items()},
            p_parametric=float(p0),
            p=float(p1),
            **methods,
            note=text,
        )
        for label, fields, p0, p1, text in tests
    ]


_FAILURES = (ValueError, RuntimeError, np.linalg.LinAlgError, FloatingPointError)


def _guard(test: str, key: tuple, run) -> list:
    """The rows of ``run()``, or one row saying why the test could not be computed."""
    try:
        return run()
    except _FAILURES as err:
        return [_row(test, *key, note=f"not computed: {err}")]


# --------------------------------------------------------------------------- site model


def _site_tests(place, cell, pooling: dict, opts: dict) -> list:
    y, v = cell["yi"].to_numpy(float), cell["vi"].to_numpy(float)
    method = pooling["tau2_method"] if pooling["tau2_method"] in REGRESSION_TAU2 else "REML"
    ci = "knha" if pooling["ci_method"] == "knha" else "z"
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
        note = "; ".join(x for x in (_perm_note(res), fallback) if x)
        return [_row(PERMUTATION, *key, **_perm_fields(res), **methods, note=note)]

    def likelihood_ratio():
        full = fit_meta_regression(y, v, X, "ML", "z")
        reduced = fit_meta_regression(y, v, X[:, :1], "ML", "z")
        lrt = likelihood_ratio_test(
            gls_loglik(y, v, X, full.tau2, False), gls_loglik(y, v, X[:, :1], reduced.tau2, False), X.shape[1] - 1
        )
        parametric = fit_meta_regression(y, v, X, method, ci).QM_p
        return [
            _row(
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
        return _cr2_rows(
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
        rows += _guard(PERMUTATION, key, permutation)
    if opts["likelihood_ratio"]["enabled"]:
        rows += _guard(LRT, key, likelihood_ratio)
    if opts["robust"]["enabled"] and cell["study_id"].duplicated().any():
        rows += _guard(CR2, key, robust)
    return rows


# --------------------------------------------------------------------------- dose-response


def _dose_fit(arms: pd.DataFrame, dose: dict, across: bool, tau2_method: str | None = None):
    return fit_dose_response(
        events=arms["events"].to_numpy(float),
        n=arms["n"].to_numpy(float),
        bed=arms["bed10"].to_numpy(float),
        study=arms["study_id"].to_numpy(),
        arm=arms["arm"].to_numpy(),
        site=arms["site"].to_numpy() if across else None,
        scale=dose["scale"],
        tau2_method=tau2_method or dose["tau2_method"],
        ci_method=dose["ci_method"],
        level=dose["level"],
    )


def _ml_loglik(res, X) -> float:
    """The ML log-likelihood of ``res``'s model (multilevel or two-level) with design ``X``."""
    if res.multilevel:
        return fit_multilevel(res.yi, res.vi, res.study, res.arm, X, tau2_method="ML").loglik
    fit = fit_meta_regression(res.yi, res.vi, X, "ML", "z")
    return gls_loglik(res.yi, res.vi, X, fit.tau2, False)


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
        note = _perm_note(pr)
        if res.multilevel:
            note += (
                "; metafor's permutest has no rma.mv method: the two-level slope model "
                "rma(yi, vi, mods = ~ ln BED10) is permuted (arms as independent)"
            )
        return [_row(PERMUTATION, *key, se=float(pr.coef[1] / pr.zval[1]), **_perm_fields(pr, 1), **methods, note=note)]

    def robust():
        V = marginal_covariance(res.vi, res.study, res.arm, res.sigma2, res.tau2)
        btt = tuple(range(1, res.X.shape[1]))
        note = f"{fit_word}; " + (
            "several arms per study" if res.multilevel else "one arm per study: each study a cluster of one"
        )
        return _cr2_rows(
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
            _row(
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
        rows += _guard(PERMUTATION, key, permutation)
    if opts["robust"]["enabled"]:
        rows += _guard(CR2, key, robust)
    if opts["likelihood_ratio"]["enabled"]:
        rows += _guard(LRT, key, likelihood_ratio)
    return rows


def _dose_models(arms: pd.DataFrame, fitted: pd.DataFrame):
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


# --------------------------------------------------------------------------- heterogeneity by site


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
                    note=res.note,
                )
            )
    return pd.DataFrame(rows).reindex(columns=list(HETEROGENEITY_COLUMNS))


# --------------------------------------------------------------------------- both tables


def sensitivity_tests(
    studies: pd.DataFrame, arms: pd.DataFrame, fitted: pd.DataFrame, pooling: dict, dose: dict, opts: dict
) -> pd.DataFrame:
    """``sensitivity_tests.csv`` from ``pooled_studies.csv``, ``dose_response_arms.csv`` and
    ``dose_response.csv`` with the ``pooling``, ``dose_response`` and ``sensitivity`` config."""
    rows = []
    for place, cell in site_cells(studies):
        rows += _site_tests(place, cell, pooling, opts)
    if not arms.empty and not fitted.empty:
        for model, place, site, sub in _dose_models(arms, fitted):
            rows += _dose_tests(sub, model, place, site, dose, opts)
    return pd.DataFrame(rows).reindex(columns=list(TEST_COLUMNS))
