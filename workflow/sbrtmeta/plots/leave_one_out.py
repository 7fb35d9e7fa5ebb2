"""Leave-one-out sensitivity plots: one figure per site, one block per pooled cell with k >= 3.

Each block shows the pooled estimate with its CI when each study is omitted in
turn (metafor's ``leave1out(res)``), then the estimate on all studies as a diamond
with a vertical line through it. The numbers are the rows of
:func:`sbrtmeta.analysis.leave_one_out.leave_one_out_table`; this module only draws them.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from sbrtmeta.plots.labels import ci_text, endpoint_axis_label, level_text, shorten, site_title, tau2_ci_text
from sbrtmeta.plots.style import (
    FIGURE_WIDTH_IN,
    PALETTE,
    SMALL_FONT_SIZE,
    figure_style,
    percent_row_axis,
    pooled_diamond,
)

ROW_IN = 0.18
PAD_IN = 0.08
GAP_IN = 0.2
PLOT_IN = 2.6


def _block_title(r, split: bool) -> str:
    title = endpoint_axis_label(r.endpoint, r.timepoint_months)
    hist = r.histology if isinstance(r.histology, str) else ""
    return f"{title}{f', {hist}' if split and hist else ''}"


def _block_rows(block: pd.DataFrame, split: bool) -> list[dict]:
    """The rows of one cell's block: its title, a row per omitted study (or a note), all studies."""
    first = block.iloc[0]
    full = block[block["row"] == "all"].iloc[0]
    rows = [dict(kind="title", label=f"{_block_title(first, split)} (k = {int(full.k)})")]
    start = len(rows)
    for r in block.itertuples():
        values = dict(ci=ci_text(r.estimate, r.ci_low, r.ci_high), est=r.estimate, lo=r.ci_low, hi=r.ci_high)
        if r.row == "omitted":
            rows.append(dict(kind="study", label=f"Omitting {shorten(r.label)}", **values))
        elif r.row == "not computed":
            note = f"{r.label} studies (figures.leave_one_out.max_studies): leave-one-out not computed"
            rows.append(dict(kind="note", label=note))
        else:
            rows.append(dict(kind="all", label="All studies", first=start, **values))
    return rows


def _rows(table: pd.DataFrame) -> list[dict]:
    """The figure's rows, top to bottom; ``first`` of an "all" row is relative to its block."""
    rows = []
    split = True  # the histology is always named: a single one is not obvious
    for _, block in table.groupby(["endpoint", "timepoint_months", "histology"], sort=False):
        block_rows = _block_rows(block, split)
        for r in block_rows:
            if "first" in r:
                r["first"] += len(rows)
        rows += block_rows + [dict(kind="gap")]
    return rows[:-1]


def _footnote(table: pd.DataFrame, level: float) -> str:
    methods = sorted(set(zip(table["tau2_method"].astype(str), table["ci_method"].astype(str))))
    how = "rma.glmm of the other studies" if "GLMM" in set(table["tau2_method"].astype(str)) else "metafor leave1out"
    foot = [
        f"Each row: the model refitted without that study ({how}); "
        f"{'; '.join(tau2_ci_text(m, c, level) for m, c in methods)}."
    ]
    omitted = table[table["row"] == "omitted"]
    if (omitted["ci_high"] - omitted["ci_low"] <= 1e-12).any():
        foot.append(
            "A CI of zero width: the remaining studies have identical estimates, so the "
            "Knapp-Hartung standard error is 0 (as in metafor)."
        )
    return "\n".join(foot)


def _text_columns(fig, at_row, rows: list[dict], level: float) -> tuple[list, list]:
    """The labels (left) and the estimates with their CIs (right, under a header)."""
    left, right = [], []
    header = fig.text(
        0,
        -0.8,
        f"Proportion, %\n[{level_text(level)} CI]",
        transform=at_row,
        va="bottom",
        ha="right",
        fontweight="bold",
        linespacing=1.1,
    )
    right.append(header)
    for y, r in enumerate(rows):
        if r["kind"] == "gap":
            continue
        style = dict(fontweight="bold") if r["kind"] in ("title", "all") else {}
        if r["kind"] == "note":
            style = dict(color=PALETTE["muted"], fontsize=SMALL_FONT_SIZE)
        left.append(fig.text(PAD_IN, y, r["label"], transform=at_row, va="center", **style))
        if "ci" in r:
            right.append(fig.text(0, y, r["ci"], transform=at_row, va="center", ha="right", **style))
    return left, right


def _draw_marks(ax, rows: list[dict]) -> None:
    """Squares and CI lines of the omitted-study rows, a diamond and a dashed line per cell."""
    study = [(y, r) for y, r in enumerate(rows) if r["kind"] == "study"]
    if study:
        ys = np.array([y for y, _ in study], dtype=float)
        get = lambda key: 100 * np.array([r[key] for _, r in study], dtype=float)  # noqa: E731
        ax.hlines(ys, get("lo"), get("hi"), color=PALETTE["ink"], linewidth=0.8, zorder=2, gid="loo-ci")
        ax.scatter(get("est"), ys, s=16, marker="s", color=PALETTE["ink"], linewidths=0, zorder=3, gid="loo-estimate")
    for y, r in enumerate(rows):
        if r["kind"] != "all":
            continue
        est, lo, hi = 100 * r["est"], 100 * r["lo"], 100 * r["hi"]
        pooled_diamond(ax, y, est, lo, hi, r["first"] - 0.5, "all-studies")


def draw_leave_one_out(table: pd.DataFrame, site: str, *, level: float) -> Figure:
    """Draw :func:`sbrtmeta.analysis.leave_one_out.leave_one_out_table`'s rows of ``site``. Returned unsaved."""
    rows_in = table[table["site"] == site]
    if rows_in.empty:
        raise ValueError(f"no leave-one-out rows of site {site!r} (no cell of three or more studies): no plot")
    title = f"Leave-one-out analysis: {site_title(site)}"
    return draw_estimate_rows(_rows(rows_in), title, _footnote(rows_in, level), level=level)


def wrap_to_width(text: str, width_in: float, fontsize: float) -> str:
    """``text`` wrapped, line by line, to fit ``width_in`` inches at ``fontsize`` points (an average
    character is about 0.5 em wide)."""
    chars = max(20, int(width_in * 72 / (0.5 * fontsize)))
    return "\n".join(out for line in text.split("\n") for out in (textwrap.wrap(line, chars) or [""]))


def draw_estimate_rows(rows: list[dict], title: str, foot: str, *, level: float) -> Figure:
    """A forest-style figure of estimate rows (the leave-one-out and cumulative plots): a label
    column, the marks on a 0-100 % axis, and the estimates with their CIs on the right.
    ``rows`` are dicts of kind ``title``, ``study``, ``all`` (a diamond with a dashed line up
    to its block's row ``first``), ``note`` or ``gap``; ``foot`` is the footnote."""
    with figure_style():
        fig = Figure(figsize=(FIGURE_WIDTH_IN, 4))
        FigureCanvasAgg(fig)
        renderer = fig.canvas.get_renderer()
        ax = fig.add_axes((0, 0, 1, 1))
        at_row = blended_transform_factory(fig.dpi_scale_trans, ax.transData)
        left, right = _text_columns(fig, at_row, rows, level)
        width = lambda ts: max((t.get_window_extent(renderer).width / fig.dpi for t in ts), default=0)  # noqa: E731
        w_left, w_right = width(left), width(right)
        fig_w = max(FIGURE_WIDTH_IN * 0.75, PAD_IN + w_left + GAP_IN + PLOT_IN + GAP_IN + w_right + PAD_IN)
        for t in right:
            t.set_x(fig_w - PAD_IN)
        plot_x0 = PAD_IN + w_left + GAP_IN
        plot_x1 = fig_w - PAD_IN - w_right - GAP_IN
        foot = wrap_to_width(foot, fig_w - 2 * PAD_IN, SMALL_FONT_SIZE)
        top_in, axis_in, foot_in = 0.42, 0.48, 0.1 + 0.14 * (foot.count("\n") + 1)
        n_rows = len(rows)
        fig_h = top_in + n_rows * ROW_IN + axis_in + foot_in
        fig.set_size_inches(fig_w, fig_h)
        ax.set_position(
            (plot_x0 / fig_w, (axis_in + foot_in) / fig_h, (plot_x1 - plot_x0) / fig_w, n_rows * ROW_IN / fig_h)
        )
        fig.text(
            PAD_IN / fig_w,
            PAD_IN / fig_h,
            foot,
            fontsize=SMALL_FONT_SIZE,
            color=PALETTE["muted"],
            va="bottom",
            linespacing=1.35,
        )
        fig.text(PAD_IN / fig_w, 1 - 0.1 / fig_h, title, fontweight="bold", va="top")
        _draw_marks(ax, rows)
        percent_row_axis(ax, n_rows, "Pooled proportion (%)")
    return fig
