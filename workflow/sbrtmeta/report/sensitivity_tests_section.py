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


def _perm_text(r) -> str:
    kind = "exact" if str(r.exact) == "True" else f"random ({int(r.n_permutations)} permutations, seed {int(r.seed)})"
    return f"{kind} permutation {p_text_or_dash(r.p)}"


def _mentions(frame: pd.DataFrame, site: str) -> pd.DataFrame:
    return frame[frame["site"].fillna("").str.split("; ").map(lambda s: site in s)]


def _site_lines(site: str, tests: pd.DataFrame, het: pd.DataFrame) -> list[str]:
    lines = []
    for r in _mentions(tests, site).itertuples():
        if r.test == "permutation" and r.term == "site":
            lines.append(
                f"site difference, {_cell(r)} ({r.site}): {_perm_text(r)} "
                f"(parametric {p_text_or_dash(r.p_parametric)}; {int(r.n_permutations)} permutations)"
            )
        elif r.test == "permutation":
            lines.append(
                f"dose slope (ln BED10), {_cell(r)}: {_perm_text(r)} (Wald {p_text_or_dash(r.p_parametric)})"
                + (" [two-level slope model: permutest has no multilevel method]" if "rma.mv" in str(r.note) else "")
            )
    for r in het[(het["site"] == site) & het["in_model"].astype(str).eq("True")].itertuples():
        lines.append(
            f"τ² ({_cell(r)}) {_num(r.tau2)} "
            f"({level_text(float(r.level))} CI {_num(r.tau2_ci_low)}–{_num(r.tau2_ci_high)}); "
            f"equal τ² across sites: Wald {p_text_or_dash(r.qs_p)}, likelihood-ratio {p_text_or_dash(r.lrt_p)}"
            + _hettest_text(r)
        )
    return lines


def _hettest_text(r) -> str:
    """The site's hettest() score test, where the table has it."""
    if not finite(getattr(r, "hettest_p", float("nan"))):
        return ""
    return (
        f"; one τ² for every study of the site (hettest score, {int(r.hettest_df)} df): {p_text_or_dash(r.hettest_p)}"
    )


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
    """Markdown lines: per site the permutation p-values of the site difference and of the
    dose slope and its τ², then every test in a table. Missing or empty tables are said so."""
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
    named = set(het["site"].dropna()) | {s for v in tests["site"].dropna() for s in str(v).split("; ")}
    order = [s for s in (sites or []) if s in named] + sorted(named - set(sites or []))
    for site in order:
        lines = _site_lines(site, tests, het)
        if lines:
            out.append(f"- **{site_title(site)}**: " + "; ".join(lines) + ".")
    out += [
        "",
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
    left = het[~het["in_model"].astype(str).eq("True")] if "note" in het else het.iloc[0:0]
    for r in left.itertuples():
        out.append(f"- τ² by site, {site_title(r.site)} ({_cell(r)}): {r.note}.")
    return out + ([""] if len(left) else [])
