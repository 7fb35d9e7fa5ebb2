"""Specification curve of one cell (Simonsohn, Simmons & Nelson, Nat Hum Behav
2020;4:1208-1214): every specification's estimate, sorted, with its CI, above a panel
that marks the choices each specification made.

Draws the rows of ``multiverse.csv`` for one cell and its row of ``multiverse_summary.csv``
(the main analysis's estimate and the equivalence margin) only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sbrtmeta.plots import labels
from sbrtmeta.plots.style import FIGURE_WIDTH_IN, PALETTE, SMALL_FONT_SIZE, figure_style

ROW_HEIGHT_IN = 0.12


def _choice_rows(rows: pd.DataFrame, choices: list[str]) -> list[tuple[str, str]]:
    """``(choice, level)`` of every choice with two or more levels among ``rows``."""
    out = []
    for choice in choices:
        levels = sorted({str(v) for v in rows[choice]})
        if len(levels) > 1:
            out += [(choice, level) for level in levels]
    return out


def draw_specification_curve(rows: pd.DataFrame, summary, choices: list[str]) -> Figure:
    """The specification curve of one cell: ``rows`` of ``multiverse.csv``, ``summary`` its row
    of ``multiverse_summary.csv``, ``choices`` the choice columns in panel order."""
    rows = rows[np.isfinite(rows["estimate"].to_numpy(dtype=float))]
    rows = rows.sort_values(["estimate", "spec"], kind="mergesort").reset_index(drop=True)
    marks = _choice_rows(rows, choices)
    n = len(rows)
    x = np.arange(n)
    est = 100 * rows["estimate"].to_numpy(dtype=float)
    lo, hi = 100 * rows["ci_low"].to_numpy(dtype=float), 100 * rows["ci_high"].to_numpy(dtype=float)
    main, margin = 100 * summary.main_estimate, 100 * summary.margin
    within = np.abs(est - main) <= margin + 1e-10
    with figure_style():
        lower = max(ROW_HEIGHT_IN * len(marks), 0.3)
        height = 1.1 + 2.2 + lower
        fig = Figure(figsize=(FIGURE_WIDTH_IN, height))
        FigureCanvasAgg(fig)
        layout = dict(  # fixed margins in inches (no tight_layout: it draws the figure once more)
            height_ratios=[2.2, lower],
            left=2.05 / FIGURE_WIDTH_IN,
            right=1 - 0.1 / FIGURE_WIDTH_IN,
            top=1 - 0.6 / height,
            bottom=0.45 / height,
            hspace=0.1 / ((2.2 + lower) / 2),
        )
        top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw=layout)
        top.axhspan(main - margin, main + margin, color=PALETTE["rule"], zorder=0, linewidth=0)
        top.axhline(main, color=PALETTE["ink"], linewidth=0.6, linestyle=(0, (3, 2)), zorder=1)
        top.vlines(x, lo, hi, color=PALETTE["sky"], linewidth=0.4, alpha=0.5, zorder=2, rasterized=True)
        top.scatter(x[within], est[within], s=3, color=PALETTE["blue"], linewidths=0, zorder=3, label="within ± margin")
        top.scatter(x[~within], est[~within], s=3, color=PALETTE["vermillion"], linewidths=0, zorder=3, label="outside")
        top.set_ylim(max(-2, np.nanmin(lo) - 2), min(102, np.nanmax(hi) + 2))
        top.set_ylabel(labels.endpoint_axis_label(summary.endpoint, summary.timepoint_months) + " (%)")
        top.set_title(
            f"{labels.site_title(summary.site, summary.histology)}: {n:,} specifications, "
            f"{100 * summary.share_within:.0f}% within ±{margin:g} points (grey band)\n"
            f"of the main analysis's {labels.pct(summary.main_estimate)}% (dashed line)",
            fontsize=SMALL_FONT_SIZE + 1,
        )
        top.legend(loc="lower right", markerscale=2, handletextpad=0.2)
        grid = np.zeros((len(marks), n))
        for i, (choice, level) in enumerate(marks):
            grid[i] = (rows[choice].astype(str) == level).to_numpy()
        bottom.imshow(
            grid,
            aspect="auto",
            interpolation="nearest",
            cmap="Greys",
            vmin=0,
            vmax=1.4,
            extent=(-0.5, n - 0.5, len(marks) - 0.5, -0.5),
        )
        bottom.set_yticks(range(len(marks)))
        ticks, last = [], None
        for choice, level in marks:
            name = labels.CHOICE_LABELS.get(choice, choice)
            shown = level.replace("_", " ")
            ticks.append(f"{name}: {shown}" if choice != last else shown)
            last = choice
        bottom.set_yticklabels(ticks, fontsize=SMALL_FONT_SIZE - 1)
        for i in range(1, len(marks)):
            if marks[i][0] != marks[i - 1][0]:
                bottom.axhline(i - 0.5, color=PALETTE["muted"], linewidth=0.5)
        bottom.set_xlabel("Specification, sorted by estimate")
        bottom.tick_params(axis="y", length=0)
        top.yaxis.set_label_coords(-0.42 / (FIGURE_WIDTH_IN - 2.15), 0.5)
    return fig
