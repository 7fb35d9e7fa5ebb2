"""summary.md's section on the cumulative meta-analysis and the Baujat plots, per site:
how the pooled estimate moved as studies accrued (first → final step) and the study
contributing most to heterogeneity. A pure function of the two tables
(``cumulative.csv``, ``baujat.csv``); missing or empty tables are said, not an error."""

from __future__ import annotations

import pandas as pd

from sbrtmeta.data.cells import same_cell
from sbrtmeta.plots.labels import ci_text, endpoint_axis_label, level_text, site_title

TIE_BREAK_WORDS = {"n": "larger sample first", "precision": "more precise first"}


def _what(r) -> str:
    hist = f", {r.histology}" if isinstance(r.histology, str) and r.histology else ""
    return f"{endpoint_axis_label(r.endpoint, r.timepoint_months).lower()}{hist}"


def _trend(first, last) -> str:
    shift = 100 * (last.estimate - first.estimate)
    if abs(shift) < 1:
        return "stable"
    return f"{'up' if shift > 0 else 'down'} {abs(shift):.1f} points"


def _cumulative_items(cum: pd.DataFrame) -> list[str]:
    items = []
    for _, cell in cum.groupby(["endpoint", "timepoint_months", "histology"], sort=True):
        if cell["step"].isna().all():
            items.append(f"{_what(cell.iloc[0])}: {cell['note'].iloc[0]}")
            continue
        cell = cell.sort_values("step")
        first, last = cell.iloc[0], cell.iloc[-1]
        no_year = int(cell["year"].isna().sum())
        order = (
            "by year"
            if no_year == 0
            else (
                "by sample size only (no years printed)"
                if no_year == len(cell)
                else f"by year, {no_year} without a year last"
            )
        )
        items.append(
            f"{_what(first)}: first study ({first.label}) {ci_text(first.estimate, first.ci_low, first.ci_high)}% → "
            f"all {int(last.k)} studies {ci_text(last.estimate, last.ci_low, last.ci_high)}% "
            f"({_trend(first, last)}; added {order})"
        )
    return items


def _baujat_items(bj: pd.DataFrame) -> list[str]:
    items = []
    for r in bj[bj["contribution"].isna()].itertuples():
        items.append(f"{_what(r)}: {r.note}")
    top = bj[bj["largest_contribution"].astype(str).str.lower() == "true"]
    for r in top.sort_values(["endpoint", "timepoint_months", "histology"]).itertuples():
        total = bj.loc[same_cell(bj, r), "contribution"].sum()
        share = f"{100 * r.contribution / total:.0f}% of the cell's total" if total > 0 else "no study contributes"
        influence = f"influence {r.influence:.2f}" if pd.notna(r.influence) else "influence not finite"
        items.append(f"{_what(r)}: {r.label} (squared Pearson residual {r.contribution:.2f}, {share}; {influence})")
    return items


def sensitivity_section(
    cumulative: pd.DataFrame | None, baujat: pd.DataFrame | None, sites: list[str], level: float | None = None
) -> list[str]:
    """The section's Markdown lines: per site with a cumulative or Baujat row, its cumulative
    trend and the study with the largest Baujat contribution; ``level`` is the pooling's (the CIs'
    level is named only when given)."""
    out = ["## Cumulative meta-analysis and Baujat plots", ""]
    have_cum = cumulative is not None and not cumulative.empty
    have_bj = baujat is not None and not baujat.empty
    if not have_cum and not have_bj:
        return out + [
            "No cumulative or Baujat analysis: switched off in config (sensitivity.cumulative, sensitivity.baujat) "
            "or no cell has two (cumulative) or three (Baujat) studies.",
            "",
        ]
    if have_cum:
        tie = TIE_BREAK_WORDS.get(str(cumulative["tie_break"].iloc[0]), str(cumulative["tie_break"].iloc[0]))
        out += [
            f"Studies are added by publication year, a year's studies {tie}; estimates with "
            f"{level_text(level) + ' ' if level else ''}CI in %.",
            "",
        ]
    found = set(cumulative["site"]) if have_cum else set()
    found |= set(baujat["site"]) if have_bj else set()
    for site in [s for s in sites if s in found] + sorted(found - set(sites)):
        lines = []
        if have_cum:
            lines += [f"  - Cumulative, {t}." for t in _cumulative_items(cumulative[cumulative["site"] == site])]
        if have_bj:
            lines += [f"  - Largest Baujat contribution, {t}." for t in _baujat_items(baujat[baujat["site"] == site])]
        out += [f"- **{site_title(site)}**", *lines]
    return out + [""]
