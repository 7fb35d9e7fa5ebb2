"""``sensitivity_tests.csv``: the referee's tests of the site difference and of the dose slope
(issue 12, items 6-9), one row per test. This module holds the table's columns and the row
builders the two kinds share; the tests themselves are :mod:`sbrtmeta.analysis.site_tests`
(the site model, and τ² by site for ``heterogeneity_by_site.csv``) and
:mod:`sbrtmeta.analysis.dose_slope_tests` (the dose-response fits).

The tests, by kind:

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

Pure functions: tables and options in, tables out.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sbrtmeta.stats.robust import robust_cr2

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
SITE_MODEL = "site model"
DOSE_PER_SITE, DOSE_ACROSS = "dose-response per site", "dose-response across sites"
PERMUTATION, CR2, LRT = "permutation", "CR2", "likelihood ratio"
SITE_TERM, DOSE_TERM, ALL_TERMS = "site", "ln BED10", "all moderators"


def table_row(test, model, place, site, k, n_studies, term, **fields) -> dict:
    return dict(test=test, model=model, **place, site=site, k=int(k), n_studies=int(n_studies), term=term, **fields)


def permutation_fields(res, j=None) -> dict:
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


def _how_many(count: float) -> str:
    return "more than 1.8e+308" if math.isinf(count) else f"{count:.3g}"


def permutation_note(res) -> str:
    how = (
        f"exact: all {res.n_perm} distinct permutations"
        if res.exact
        else f"{res.n_perm} random permutations (seed {res.seed}) of {_how_many(res.n_distinct)} distinct ones"
    )
    return how + (f"; {res.n_failed} permutation fit(s) failed and are left out" if res.n_failed else "")


def cr2_rows(fit, model, place, site, n_studies, terms, y, X, V, cluster, btt, level, methods, note) -> list:
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
        table_row(
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


FAILURES = (ValueError, RuntimeError, np.linalg.LinAlgError, FloatingPointError)


def guarded(test: str, key: tuple, run) -> list:
    """The rows of ``run()``, or one row saying why the test could not be computed."""
    try:
        return run()
    except FAILURES as err:
        return [table_row(test, *key, note=f"not computed: {err}")]


def sensitivity_table(rows: list[dict]) -> pd.DataFrame:
    """``sensitivity_tests.csv`` from the rows of :func:`sbrtmeta.analysis.site_tests.site_tests` and
    :func:`sbrtmeta.analysis.dose_slope_tests.dose_slope_tests`."""
    return pd.DataFrame(rows).reindex(columns=list(TEST_COLUMNS))
