"""``results/report/summary.md``: the results in one place, written from the tables.

:func:`summary_markdown` is a pure function of the result tables (pandas frames)
and the figure paths, so it can be tested without running the workflow. Every
number it prints is read from a table and formatted, never computed anew, except
counts of rows.
"""

from __future__ import annotations

import math
import posixpath
from pathlib import Path

import pandas as pd

from sbrtmeta.analysis.selection import flow_counts
from sbrtmeta.plots.labels import (
    CRITERION_LABELS,
    MODEL_LABELS,
    endpoint_name,
    level_prefix,
    level_text,
    pct,
    site_title,
    statistic_text,
)
from sbrtmeta.report.certainty_section import certainty_lines, evidence_profile_lines
from sbrtmeta.report.formats import (
    cell_words,
    finite,
    finite_or_inf,
    markdown_table,
    number,
    p_or_dash,
    plain,
    spans_orders,
)
from sbrtmeta.report.headline import headline_lines, synthetic_note


def _sorted_cells(frame: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in ("site", "histology", "endpoint", "timepoint_months") if c in frame]
    return frame.sort_values(keys, kind="stable") if keys else frame


def pooled_table(pooled: pd.DataFrame, level: float) -> str:
    rows = []
    for r in _sorted_cells(pooled).itertuples():
        fitted = r.k >= 2
        rows.append(
            [
                r.site,
                getattr(r, "histology", ""),
                r.endpoint,
                f"{float(r.timepoint_months):g}",
                int(r.k),
                int(r.n_total),
                MODEL_LABELS.get(r.model, r.model),
                f"{pct(r.estimate)} ({pct(r.ci_low)}–{pct(r.ci_high)})",
                f"{pct(r.pi_low)}–{pct(r.pi_high)}" if fitted and finite(r.pi_low) else "",
                f"{float(r.i2):.0f}" if fitted and finite(r.i2) else "",
                f"{float(r.tau2):.3f}" if fitted and finite(r.tau2) else "",
                f"{float(r.q):.2f} (p {p_or_dash(r.q_p)})" if fitted and finite(r.q) else "",
            ]
        )
    return markdown_table(
        [
            "Site",
            "Histology",
            "Endpoint",
            "Months",
            "k",
            "N",
            "Model",
            f"Estimate, % ({level_text(level)} CI)",
            f"{level_text(level)} PI, %",
            "I², %",
            "τ²",
            "Q (p)",
        ],
        rows,
    )


def subgroup_table(subgroups: pd.DataFrame) -> str:
    rows = []
    for r in subgroups.itertuples():
        stat = statistic_text(r.test, r.qm, r.df1, r.df2)
        rows.append(
            [r.histology, r.endpoint, f"{float(r.timepoint_months):g}", r.sites, int(r.k), stat, p_or_dash(r.p)]
        )
    table = markdown_table(["Histology", "Endpoint", "Months", "Sites", "k", "Test", "p"], rows)
    glmm = "model" in subgroups and subgroups["model"].astype(str).str.contains("GLMM").any()
    return table + (
        "\n\nThe cells are pooled with the GLMM, which has no test for subgroup differences here: these tests use "
        "the inverse-variance random-effects model."
        if glmm
        else ""
    )


def _gy(x) -> str:
    """A dose in Gy: whole Gy from 10 up, two significant digits below; ∞ for an unbounded limit."""
    if x is not None and finite_or_inf(x) and math.isinf(float(x)):
        return "∞"
    if not finite(x):
        return "–"
    x = float(x)
    return f"{x:.0f}" if abs(x) >= 10 else plain(x, 2)


def _interval(low, high, fmt) -> str:
    """``"87–319"``, or ``"not estimable (0.000083–377468)"`` when it spans more than three orders of magnitude."""
    text = f"{fmt(low)}–{fmt(high)}"
    return f"not estimable ({text})" if spans_orders(low, high) else text


def _dose_interval(r, name: str, fmt=_gy) -> str:
    """``"166 (87–319; bootstrap not estimable (82–∞))"``: the estimate, its delta-method CI and the bootstrap
    interval, each "not estimable (…)" when it spans more than three orders of magnitude."""
    get = lambda c: r.get(c) if isinstance(r, dict) else getattr(r, c, None)  # noqa: E731
    if not finite(get(name)):
        return "–"
    out = f"{fmt(get(name))} ({_interval(get(name + '_ci_low'), get(name + '_ci_high'), fmt)}"
    if finite_or_inf(get(name + "_boot_low")):
        out += f"; bootstrap {_interval(get(name + '_boot_low'), get(name + '_boot_high'), fmt)}"
    return out + ")"


def _target_name(dose: pd.DataFrame) -> str:
    t = dose["target_lc"].dropna() if "target_lc" in dose else pd.Series(dtype=float)
    return f"BED{100 * float(t.iloc[0]):g}" if len(t) else "BED at the target LC"


def dose_table(dose: pd.DataFrame | None) -> str:
    """The dose-response table (results/tables/dose_response.csv) in a few readable columns."""
    if dose is None:
        return "No dose-response model was fitted (results/tables/dose_response.csv is missing)."
    if dose.empty:  # the dose-response step writes an empty table only when no arm qualifies
        return (
            "No dose-response model was fitted: no arm has a dose, the endpoint at the configured time point "
            "and a sample size (results/tables/dose_response_left_out.csv says why each arm was left out)."
        )
    target = _target_name(dose)
    lvl = level_prefix(dose["level"].iloc[0] if "level" in dose else None)  # dose_response.level
    rows = []
    for r in dose.itertuples():
        fitted = finite(r.slope)
        rows.append(
            [
                r.model,
                r.site,
                r.histology,
                f"{int(r.k_arms)} ({int(r.n_studies)})",
                f"{number(r.slope, 2)} ({number(r.slope_ci_low, 2)} to {number(r.slope_ci_high, 2)}), "
                f"p {p_or_dash(r.slope_p)}"
                if fitted
                else "–",
                _dose_interval(r, "bed50"),
                _dose_interval(r, "gamma50", lambda x: number(x, 2)),
                _dose_interval(r, "bed_target"),
                r.note if isinstance(r.note, str) else "",
            ]
        )
    first = dose.iloc[0]
    head = (
        f"Logit {endpoint_name(first.endpoint).lower()} at "
        f"{float(first.timepoint_months):g} months on {'ln ' if first.scale == 'log' else ''}BED10 "
        f"(α/β = {float(first.alpha_beta):g} Gy, one dose per arm by the rule `{first.dose_rule}`). "
        f"Doses in Gy with {lvl}delta-method CI and parametric-bootstrap interval; "
        "∞: no upper limit (replicates whose curve does not rise)."
    )
    return (
        head
        + "\n\n"
        + markdown_table(
            [
                "Model",
                "Site",
                "Histology",
                "Arms (studies)",
                f"Slope ({lvl}CI), p",
                "BED50, Gy",
                "γ50",
                f"{target}, Gy",
                "Note",
            ],
            rows,
        )
    )


def site_paragraph(
    site: str,
    pooled: pd.DataFrame,
    not_pooled: pd.DataFrame | None = None,
) -> str:
    """One line about ``site`` with what the Answer's table does not say: the source of each single-study rate
    and why a cell was not pooled (each rate, its interval and heterogeneity are said once: the Answer and
    Appendix A; the dose-response fits in their section)."""
    cells = _sorted_cells(pooled[pooled["site"] == site])
    parts = [f"**{site_title(site)}.**"]
    single = cells[cells["k"] < 2]
    if cells.empty:
        parts.append("No rate of this site could be pooled.")
    elif single.empty:
        parts.append(f"{len(cells)} pooled cell{'s' if len(cells) != 1 else ''}, every one of two or more studies.")
    else:
        items = [f"{cell_words(r.endpoint, r.timepoint_months)} from {r.studies}" for r in single.itertuples()]
        parts.append("Single studies, not pooled: " + "; ".join(items) + ".")
    if not_pooled is not None and not not_pooled.empty:
        miss = not_pooled[not_pooled["site"] == site]
        for r in miss.itertuples():
            endpoint = r.endpoint if isinstance(r.endpoint, str) and r.endpoint else "any endpoint"
            parts.append(f"Not pooled ({endpoint}): {_reason(r.reason)}.")
    return " ".join(parts)


def _figure_link(path: str, report_dir: str) -> str:
    return posixpath.relpath(path, report_dir)


def _reason(reason: str) -> str:
    """``"basis: 2 rows; no_single_rate: 1 row"`` in words."""
    parts = []
    for part in str(reason).split("; "):
        name, _, count = part.partition(": ")
        parts.append(f"{CRITERION_LABELS.get(name, name)} ({count})" if count else part)
    return "; ".join(parts)


FIGURE_KINDS = (
    ("flow_diagram", "Flow diagram of study selection"),
    ("forest_", "Forest plot"),
    ("funnel_", "Funnel plot"),
    ("leave_one_out_", "Leave-one-out analysis"),
    ("dose_response", "Dose-response"),
    ("alpha_beta_profile", "Profile likelihood of α/β"),
    ("risk_of_bias", "Risk of bias"),
    ("gosh_", "GOSH plot"),
    ("specification_curve_", "Specification curve"),
    ("cumulative_", "Cumulative meta-analysis"),
    ("baujat_", "Baujat plot"),
    ("curve_", "Survival curve"),
)
FORMAT_PREFERENCE = ("png", "svg", "pdf")


def _figure_title(stem: str) -> tuple[int, tuple, str]:
    """(kind's rank, (endpoint, time point) of a cell figure, title) of a figure's file stem."""
    import re

    for rank, (prefix, name) in enumerate(FIGURE_KINDS):
        if stem.startswith(prefix):
            rest = stem[len(prefix) :].strip("_")
            cell = re.fullmatch(r"(LC|OS)_(\d+(?:\.\d+)?)m", rest)
            if cell:
                return (
                    rank,
                    (cell.group(1), float(cell.group(2))),
                    f"{name}: {cell_words(cell.group(1), cell.group(2))}",
                )
            return rank, (), f"{name}: {rest.replace('_', ' ')}" if rest else name
    return len(FIGURE_KINDS), (), stem.replace("_", " ")


def figure_files(paths: list[str]) -> list[str]:
    """``paths`` with each folder (the forest and funnel plots' outputs) replaced by its files."""
    out = []
    for path in map(Path, paths):
        out += sorted(map(str, path.iterdir())) if path.is_dir() else [str(path)]
    return out


def figure_list(paths: list[str]) -> list[tuple[str, str]]:
    """``[(title, path)]``: one file per figure (PNG, else SVG, else PDF), flow diagram
    first, then forest, funnel, leave-one-out and dose-response figures; cell figures by
    endpoint and time point, the others by title."""
    chosen: dict[str, str] = {}
    for path in map(str, paths):
        stem, _, ext = posixpath.basename(path).rpartition(".")
        if ext not in FORMAT_PREFERENCE:
            continue
        key = posixpath.join(posixpath.dirname(path), stem)
        if key not in chosen or FORMAT_PREFERENCE.index(ext) < FORMAT_PREFERENCE.index(chosen[key].rpartition(".")[2]):
            chosen[key] = path
    items = [(*_figure_title(posixpath.basename(k)), i, p) for i, (k, p) in enumerate(chosen.items())]
    return [(title, path) for _, _, title, _, path in sorted(items)]


def _report_sites(sites, pooled: pd.DataFrame, not_pooled) -> list[str]:
    """The sites that get a paragraph: those of ``pooled`` or ``not_pooled``, sorted, or in the order of ``sites``."""
    found = set(pooled["site"])
    if not_pooled is not None and not not_pooled.empty:
        found |= set(not_pooled["site"])
    return sorted(found) if sites is None else [s for s in sites if s in found]


def _selection_section(included: pd.DataFrame, excluded: pd.DataFrame, not_pooled) -> list[str]:
    """Counts of rows and studies extracted, included and excluded, the criteria, and the cells not pooled."""
    counts = flow_counts(included, excluded)
    rows, studies = counts["extracted"]
    out = [
        "## Study selection",
        "",
        f"{rows} outcome rows from {studies} studies were extracted; {counts['included'][0]} rows "
        f"({counts['included'][1]} studies) were included and {counts['excluded'][0]} excluded.",
        "",
    ]
    out += [
        markdown_table(
            ["Criterion (first failed)", "Rows excluded"],
            [[CRITERION_LABELS.get(c, c), n] for c, n in counts["criteria"]],
        ),
        "",
    ]
    if not_pooled is not None and not not_pooled.empty:
        out += [
            "Cells with no poolable rate:",
            "",
            markdown_table(
                ["Site", "Histology", "Endpoint", "Rows", "Reason"],
                [[r.site, r.histology, r.endpoint, int(r.rows), _reason(r.reason)] for r in not_pooled.itertuples()],
            ),
            "",
        ]
    return out


def _nothing_pooled(included: pd.DataFrame, excluded: pd.DataFrame, not_pooled) -> list[str]:
    """The report's first words when no cell was pooled: that, and why (from the selection counts
    and ``not_pooled.csv``)."""
    counts = flow_counts(included, excluded)
    if counts["included"][0] == 0:
        criteria = "; ".join(
            f"{CRITERION_LABELS.get(c, c)} ({n} row{'s' if n != 1 else ''})" for c, n in counts["criteria"]
        )
        why = f"no outcome row passed the inclusion criteria (first criterion failed: {criteria or 'none'})."
    else:
        why = f"{counts['included'][0]} outcome rows were included, but no cell had a rate to pool."
    out = ["**Nothing could be pooled**: " + why]
    if not_pooled is not None and not not_pooled.empty:
        cells = [
            f"{r.site} ({r.histology or 'any histology'}) {r.endpoint or 'any endpoint'}: {_reason(r.reason)}"
            for r in not_pooled.itertuples()
        ]
        out[0] += " Cells of the selected sites with no poolable rate: " + "; ".join(cells) + "."
    return out + [""]


def _figures_section(figures, report_dir: str) -> list[str]:
    """Appendix C: every figure, linked, one line per kind (cell figures by endpoint and time point)."""
    if not figures:
        return []
    out = ["### C. Figures", "", "Every figure of this run, linked (the HTML report shows them under their kind).", ""]
    kinds: dict[str, list[str]] = {}
    for title, path in figures:
        kind, _, name = title.partition(": ")
        kinds.setdefault(kind, []).append(f"[{name or kind}]({_figure_link(path, report_dir)})")
    out += [
        f"- {kind}: " + " · ".join(links) if not links[0].startswith(f"[{kind}]") else f"- {' · '.join(links)}"
        for kind, links in kinds.items()
    ]
    return out + [""]


CONTENTS = (
    "Sections: Pooling · Dose-response · Certainty (GRADE) · Sensitivity analyses and tests · Survival curves · "
    "Study selection · Robustness · Appendix (A. pooled estimates with τ² and Q, B. GRADE evidence profile, "
    "C. every figure)."
)


def summary_markdown(
    pooled: pd.DataFrame,
    subgroups: pd.DataFrame,
    included: pd.DataFrame,
    excluded: pd.DataFrame,
    not_pooled: pd.DataFrame | None = None,
    dose: pd.DataFrame | None = None,
    figures: list[tuple[str, str]] | None = None,
    report_dir: str = "results/report",
    sites: list[str] | None = None,
    sof: pd.DataFrame | None = None,
    rob: pd.DataFrame | None = None,
    robustness: list[str] | None = None,
    sensitivity: list[str] | None = None,
    curves: list[str] | None = None,
    sensitivity_tests: list[str] | None = None,
    *,
    level: float,
    units: dict[tuple, str] | None = None,
    alpha_beta: list[str] | None = None,
) -> str:
    """The summary as Markdown (``curves``: the lines of the survival-curve section).

    ``level`` is the pooling's (config's ``pooling.level``). ``figures`` is ``[(title, path)]``
    with paths relative to the project folder; they are linked relative to ``report_dir``.
    ``sites`` orders the paragraphs (default: the sites of ``pooled`` and ``not_pooled``, sorted).
    ``sensitivity_tests``: the lines of the permutation, CR2, likelihood-ratio and τ²-by-site section.
    ``alpha_beta``: the lines of the α/β profile (:func:`sbrtmeta.report.alpha_beta_section.alpha_beta_section`),
    after the dose-response table.
    The report opens with the headline table (:func:`sbrtmeta.report.headline.headline_lines`; ``units``:
    each cell's unit of n).
    """
    out = [
        "# SBRT for oligometastases: summary of results",
        "",
        "Written by the workflow from the tables in results/tables/; proportions in %.",
        "",
    ]
    note = synthetic_note(included)
    out += [note, ""] if note else []
    if pooled.empty:
        out += _nothing_pooled(included, excluded, not_pooled)
    out += headline_lines(pooled, sof, units, sites, level=level)
    out += [CONTENTS, ""]
    out += ["## Pooling", ""]
    out += [
        "The rates, their intervals, I² and certainty are in the Answer; τ² and Q of each in Appendix A.",
        "",
    ]
    out += [f"- {site_paragraph(site, pooled, not_pooled)}" for site in _report_sites(sites, pooled, not_pooled)]
    out += ["", "Tests for subgroup differences between sites:", ""]
    out += [
        subgroup_table(subgroups) if not subgroups.empty else "No endpoint × time point had two sites to compare.",
        "",
    ]
    out += ["## Dose-response", "", dose_table(dose), ""]
    out += alpha_beta or []
    out += certainty_lines(sof, rob, level=level, profile=False)
    out += sensitivity or []
    out += sensitivity_tests or []
    out += curves or []
    out += _selection_section(included, excluded, not_pooled)
    out += robustness or []
    out += ["## Appendix", "", "### A. Pooled estimates", "", pooled_table(pooled, level), ""]
    out += evidence_profile_lines(sof)
    out += _figures_section(figures, report_dir)
    return "\n".join(out).rstrip("\n") + "\n"
