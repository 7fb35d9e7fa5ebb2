"""Cumulative forest plots: one figure per endpoint × time point, one block per pooled cell.

Each row is the pooled estimate with its CI of the studies down to that row (metafor's
``cumul(res)``; ``forest(cumul(res))``), the studies added by publication year; the last row,
all studies, is drawn as a diamond. The numbers are the rows of
:func:`sbrtmeta.analysis.cumulative.cumulative_table`; this module only draws them.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sbrtmeta.plots.labels import (
    STUDY_CI_LABELS,
    ci_text,
    endpoint_axis_label,
    shorten,
    site_title,
    tau2_ci_text,
)
from sbrtmeta.plots.leave_one_out import draw_estimate_rows

TIE_BREAK_TEXT = {"n": "larger sample first", "precision": "smaller sampling variance first"}


def _year(y) -> str:
    return f"{int(y)}" if pd.notna(y) and np.isfinite(float(y)) else "no year"


def _block_rows(block: pd.DataFrame) -> list[dict]:
    first = block.iloc[0]
    hist = first.histology if isinstance(first.histology, str) else None
    rows = [dict(kind="title", label=f"{site_title(first.site, hist)} (k = {len(block)})")]
    start = len(rows)
    for r in block.itertuples():
        values = dict(ci=ci_text(r.estimate, r.ci_low, r.ci_high), est=r.estimate, lo=r.ci_low, hi=r.ci_high)
        label = (
            f"+ {shorten(r.label)} ({_year(r.year)}, n = {int(r.n)})"
            if r.step > 1
            else f"{shorten(r.label)} ({_year(r.year)}, n = {int(r.n)})"
        )
        kind = "all" if r.step == len(block) else "study"
        rows.append(
            dict(kind=kind, label=label, first=start, **values)
            if kind == "all"
            else dict(kind=kind, label=label, **values)
        )
    return rows


def _footnote(table: pd.DataFrame, level: float) -> str:
    later = table[table["step"] > 1]
    methods = sorted(set(zip(later["tau2_method"].astype(str), later["ci_method"].astype(str))))
    first = sorted(set(table.loc[table["step"] == 1, "ci_method"].astype(str)))
    alone = ", ".join(STUDY_CI_LABELS.get(c, "Wald") for c in first) or "Wald"
    tie = TIE_BREAK_TEXT.get(str(table["tie_break"].iloc[0]), str(table["tie_break"].iloc[0]))
    foot = [
        "Each row: the model of the studies down to that row, added by publication year "
        f"(same year: {tie}; no year: last) (metafor cumul); the diamond is all studies.",
        f"{'; '.join(tau2_ci_text(m, c, level) for m, c in methods)}; the first row of a block is the study alone, "
        f"with its own interval ({alone}), as in the forest plot.",
    ]
    if table["year"].isna().any():
        foot.append("Studies marked 'no year': their source prints no publication year, so they are added last.")
    notes = sorted({n for n in table["note"].fillna("").astype(str) if n.startswith("refitted")})
    foot += [f"{n[0].upper()}{n[1:]}." for n in notes]
    return "\n".join(line for f in foot for line in textwrap.wrap(f, 115))


def draw_cumulative(table: pd.DataFrame, endpoint: str, timepoint_months: float, *, level: float) -> Figure:
    """Draw the cumulative rows of ``endpoint`` at ``timepoint_months`` (rows of
    :func:`sbrtmeta.analysis.cumulative.cumulative_table`). Returned unsaved."""
    if table.empty:
        raise ValueError(f"no cumulative rows for {endpoint} at {timepoint_months:g} months: no plot")
    rows = []
    for _, block in table.groupby(["site", "histology"], sort=False):
        block_rows = _block_rows(block)
        for r in block_rows:
            if "first" in r:
                r["first"] += len(rows)
        rows += block_rows + [dict(kind="gap")]
    title = f"Cumulative meta-analysis: {endpoint_axis_label(endpoint, timepoint_months)}"
    return draw_estimate_rows(rows[:-1], title, _footnote(table, level), level=level)
