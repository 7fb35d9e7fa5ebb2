"""The summary's section on the permutation, CR2 and likelihood-ratio tests and on τ² by site
(``sensitivity_tests.csv``, ``heterogeneity_by_site.csv``): a pure function of the two tables
that returns Markdown lines; every number is read from them and formatted."""

from __future__ import annotations

import pandas as pd

from sbrtmeta.plots.labels import level_text, site_title
from sbrtmeta.report.formats import cell_words, finite, markdown_table, number, p_or_dash, p_text_or_dash

LARGE = 1e4  # |x| from which a number prints with significant digits (the summary's tables: 1e5)

TITLE = "## Sensitivity tests: permutation, cluster-robust (CR2), likelihood ratio, τ² by site"


def _num(x, digits: int = 3) -> str:
    return number(x, digits, large=LARGE)


def _cell(r) -> str:
    return cell_words(r.endpoint, r.timepoint_months)


def _tau2_lines(het: pd.DataFrame) -> list[str]:
    """τ² by site: a table of each site's τ² per cell, then each cell's test that τ² is equal across sites, once."""
    fitted = het[het["in_model"].astype(str).eq("True")] if "in_model" in het else het.iloc[0:0]
    if fitted.empty:
        return []
    rows = [
        [
            _cell(r),
            site_title(r.site),
            f"{_num(r.tau2)} ({_num(r.tau2_ci_low)}–{_num(r.tau2_ci_high)})",
            _hettest_text(r),
        ]
        for r in fitted.itertuples()
    ]
    level = level_text(float(fitted["level"].iloc[0]))
    header = ["Cell", "Site", f"τ² ({level} CI)", "One τ² for every study of the site (hettest score test)"]
    out = ["τ² by site:", "", markdown_table(header, rows), ""]
    keys = [k for k in ("histology", "endpoint", "timepoint_months") if k in fitted]
    for _, group in fitted.groupby(keys, sort=False):
        r = next(group.itertuples())
        out.append(
            f"- Equal τ² across sites, {_cell(r)}: Wald {p_text_or_dash(r.qs_p)}, "
            f"likelihood-ratio {p_text_or_dash(r.lrt_p)}."
        )
    return out + [""]


def _hettest_text(r) -> str:
    """The site's hettest() score test, where the table has it: ``"p = .412 (2 df)"``."""
    if not finite(getattr(r, "hettest_p", float("nan"))):
        return ""
    return f"{p_text_or_dash(r.hettest_p)} ({int(r.hettest_df)} df)"


def _test_rows(tests: pd.DataFrame) -> list[list]:
    rows = []
    for r in tests.itertuples():
        df = " / ".join(_num(d, 2 if i else 0) for i, d in enumerate((r.df1, r.df2)) if finite(d))
        rows.append(
            [
                r.test,
                r.model,
                _cell(r),
                r.site,
                r.term,
                _num(r.statistic),
                df,
                p_or_dash(r.p_parametric),
                p_or_dash(r.p),
                r.note,
            ]
        )
    return rows


def sensitivity_tests_section(
    tests: pd.DataFrame | None, het: pd.DataFrame | None, sites: list[str] | None = None
) -> list:
    """Markdown lines: every test once, in a table (a test of the site difference concerns every site it
    compares), then τ² by site and each cell's test of equal τ². Missing or empty tables are said so.
    ``sites`` is not used (kept for callers)."""
    out = [TITLE, ""]
    tests = tests if tests is not None else pd.DataFrame()
    het = het if het is not None else pd.DataFrame()
    if tests.empty and het.empty:
        return out + [
            "No sensitivity test was run: switched off under `sensitivity` in the config, or no cell has two "
            "sites and no site has a dose-response fit.",
            "",
        ]
    tests = tests if not tests.empty else pd.DataFrame(columns=["site", "test", "term"])
    het = het if not het.empty else pd.DataFrame(columns=["site", "in_model"])
    out += [
        "p-values: permutation (metafor's `permutest`; exact over every distinct permutation up to "
        "`sensitivity.permutations.exact_max`), CR2 cluster-robust by study with Satterthwaite df "
        "(`robust(..., clubSandwich = TRUE)`), likelihood ratio of ML fits (`anova`), each beside the model's "
        "parametric p; τ² per site from `rma(yi, vi, mods = ~ site, scale = ~ site)` "
        "and, within each site of `sensitivity.location_scale.min_studies` or more studies, metafor's `hettest()` "
        "score test of one τ² shared by "
        "the site's studies against a τ² per study (asymptotic p; a small p: the site's studies are "
        "heterogeneous to unequal degrees) "
        "(results/tables/sensitivity_tests.csv, results/tables/heterogeneity_by_site.csv).",
        "",
    ]
    if not tests.empty and "statistic" in tests:
        header = ["test", "model", "cell", "site(s)", "term", "statistic", "df", "p (parametric)", "p", "note"]
        out += [markdown_table(header, _test_rows(tests)), ""]
    out += _tau2_lines(het)
    left = het[~het["in_model"].astype(str).eq("True")] if "note" in het else het.iloc[0:0]
    for r in left.itertuples():
        out.append(f"- τ² by site, {site_title(r.site)} ({_cell(r)}): {r.note}.")
    return out + ([""] if len(left) else [])
