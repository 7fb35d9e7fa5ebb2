"""Specification curve of one cell (Simonsohn, Simmons & Nelson, Nat Hum Behav
2020;4:1208-1214): every specification's estimate, sorted, with its CI, above a panel
that marks the choices each specification made.

Draws the rows of ``multiverse.csv`` for one cell and its row of ``multiverse_summary.csv``
(the main analysis's estimate and the equivalence margin) only.

Intervals are drawn inside 0-100 %; one that reaches beyond (a raw-proportion Wald interval can)
is cut there and marked with an arrow. The GLMM is a model of its own: it has no τ² estimator among
the choices (it fits τ² by maximum likelihood), so its specifications leave the τ² rows blank. With
many specifications the indicator panel is readable at any resolution: specifications with the same
result (estimate and interval) form one block, and above :data:`MAX_COLUMNS` the sorted
specifications are drawn in equal bins; a cell's shade is the share of the block's (bin's)
specifications that made the choice (dark: all; grey: some), so runs of equal choices show as bands
and no pattern finer than a column is drawn (no moiré).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sbrtmeta.plots import labels
from sbrtmeta.plots.style import FIGURE_WIDTH_IN, PALETTE, SMALL_FONT_SIZE, figure_style

ROW_HEIGHT_IN = 0.12
MAX_COLUMNS = 200  # above this many specifications the indicator panel is drawn in this many bins
MAX_ARROWS = 60  # cut intervals marked at most this many times along the axis
# levels that are not a choice among the others: the GLMM's τ² (maximum likelihood, its own)
NOT_A_LEVEL = {"tau2_method": {"GLMM"}}
ROW_NAMES = {"tau2_method": "τ² estimator (inverse variance)"}


def _choice_rows(rows: pd.DataFrame, choices: list[str]) -> list[tuple[str, str]]:
    """``(choice, level)`` of every choice with two or more levels among ``rows`` (levels that
    are not choices, the GLMM's own τ², left out)."""
    out = []
    for choice in choices:
        levels = sorted(set(rows[choice].astype(str).unique()) - NOT_A_LEVEL.get(choice, set()))
        if len(levels) > 1:
            out += [(choice, level) for level in levels]
    return out


def _blocks(rows: pd.DataFrame) -> np.ndarray:
    """The block of each sorted row: consecutive rows with the same estimate and interval."""
    drawn = rows[["estimate", "ci_low", "ci_high"]].to_numpy(dtype=float).round(12)
    new = np.r_[True, np.any(drawn[1:] != drawn[:-1], axis=1) & ~np.all(np.isnan(drawn[1:]) & np.isnan(drawn[:-1]))]
    return np.cumsum(new) - 1


def indicator_matrix(rows: pd.DataFrame, marks: list[tuple[str, str]]) -> np.ndarray:
    """Shares (0-1), one row per ``(choice, level)`` of ``marks`` and one column per drawn column:
    each sorted specification's share of its block with that level, then averaged over at most
    :data:`MAX_COLUMNS` equal bins."""
    grid = np.zeros((len(marks), len(rows)))
    text = {choice: rows[choice].astype(str).to_numpy() for choice in dict(marks)}
    for i, (choice, level) in enumerate(marks):
        grid[i] = text[choice] == level
    block = _blocks(rows)
    counts = np.bincount(block)
    for i in range(len(marks)):
        grid[i] = (np.bincount(block, weights=grid[i]) / counts)[block]
    n = grid.shape[1]
    if n <= MAX_COLUMNS:
        return grid
    edges = np.linspace(0, n, MAX_COLUMNS + 1).round().astype(int)
    return np.add.reduceat(grid, edges[:-1], axis=1) / np.diff(edges)


def draw_specification_curve(rows: pd.DataFrame, summary, choices: list[str]) -> Figure:
    """The specification curve of one cell: ``rows`` of ``multiverse.csv``, ``summary`` its row
    of ``multiverse_summary.csv``, ``choices`` the choice columns in panel order."""
    rows = rows[np.isfinite(rows["estimate"].to_numpy(dtype=float))]
    text = {c: rows[c].astype(str) for c in choices}
    rows = rows.assign(_level=functools.reduce(lambda a, b: a + "|" + b, text.values()))
    rows = rows.sort_values(["estimate", "ci_low", "ci_high", "_level", "spec"], kind="mergesort")
    rows = rows.reset_index(drop=True)
    marks = _choice_rows(rows, choices)
    n = len(rows)
    est = 100 * rows["estimate"].to_numpy(dtype=float)
    lo, hi = 100 * rows["ci_low"].to_numpy(dtype=float), 100 * rows["ci_high"].to_numpy(dtype=float)
    main, margin = 100 * summary.main_estimate, 100 * summary.margin
    within = np.abs(est - main) <= margin + 1e-10
    with figure_style():
        lower = max(ROW_HEIGHT_IN * len(marks), 0.3)
        height = 1.1 + 2.2 + lower + 0.25
        fig = Figure(figsize=(FIGURE_WIDTH_IN, height))
        FigureCanvasAgg(fig)
        layout = dict(  # fixed margins in inches (no tight_layout: it draws the figure once more)
            height_ratios=[2.2, lower],
            left=2.25 / FIGURE_WIDTH_IN,
            right=1 - 0.1 / FIGURE_WIDTH_IN,
            top=1 - 0.6 / height,
            bottom=0.7 / height,
            hspace=0.1 / ((2.2 + lower) / 2),
        )
        top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw=layout)
        _curve(top, est, lo, hi, within, main, margin)
        top.set_ylabel(labels.endpoint_axis_label(summary.endpoint, summary.timepoint_months) + " (%)")
        top.set_title(
            f"{labels.site_title(summary.site, summary.histology)}: {n:,} specifications, "
            f"{100 * summary.share_within:.0f}% within ±{margin:g} points (grey band)\n"
            f"of the main analysis's {labels.pct(summary.main_estimate)}% (dashed line)",
            fontsize=SMALL_FONT_SIZE + 1,
        )
        _indicators(bottom, indicator_matrix(rows, marks), marks, n)
        top.yaxis.set_label_coords(-0.42 / (FIGURE_WIDTH_IN - 2.35), 0.5)
    return fig


def _curve(ax, est, lo, hi, within, main: float, margin: float) -> None:
    """Estimates and their intervals, cut to 0-100 % with an arrow where cut."""
    n = est.size
    x = np.arange(n)
    cut_lo, cut_hi = lo < -1e-9, hi > 100 + 1e-9
    lo, hi = np.clip(lo, 0, 100), np.clip(hi, 0, 100)
    ax.axhspan(main - margin, main + margin, color=PALETTE["rule"], zorder=0, linewidth=0)
    ax.axhline(main, color=PALETTE["ink"], linewidth=0.6, linestyle=(0, (3, 2)), zorder=1)
    if n > MAX_COLUMNS:  # one band, not n hairlines
        ax.fill_between(x, lo, hi, step="mid", color=PALETTE["sky"], alpha=0.45, linewidth=0, zorder=2)
    else:
        ax.vlines(x, lo, hi, color=PALETTE["sky"], linewidth=max(0.4, min(2.0, 150 / max(n, 1))), zorder=2)
    ax.scatter(x[within], est[within], s=3, color=PALETTE["blue"], linewidths=0, zorder=3, label="within ± margin")
    ax.scatter(x[~within], est[~within], s=3, color=PALETTE["vermillion"], linewidths=0, zorder=3, label="outside")
    handles, _ = ax.get_legend_handles_labels()
    step = max(1, int(np.ceil(n / MAX_ARROWS)))
    for cut, y, marker in ((cut_hi, 100, "^"), (cut_lo, 0, "v")):
        at = np.unique(x[cut] // step * step) if cut.any() else np.array([], dtype=int)
        at = np.array([x[cut][x[cut] // step * step == a][0] for a in at], dtype=int)
        if at.size:
            ax.scatter(at, np.full(at.size, y), marker=marker, s=14, color=PALETTE["muted"], linewidths=0, zorder=4)
    if cut_lo.any() or cut_hi.any():
        handles.append(
            Line2D(
                [],
                [],
                marker="^",
                markersize=3,
                linestyle="none",
                color=PALETTE["muted"],
                label="interval cut at 0 or 100%",
            )
        )
    ax.set_ylim(max(-4, np.nanmin(lo) - 3), min(104, np.nanmax(hi) + 3))
    ax.set_yticks([t for t in range(0, 101, 10) if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]])
    legend = ax.legend(handles=handles, loc="lower right", markerscale=2, handletextpad=0.2, frameon=True)
    legend.get_frame().update(dict(facecolor="white", edgecolor="none", alpha=0.85))


def _indicators(ax, shares: np.ndarray, marks: list[tuple[str, str]], n: int) -> None:
    """The choices as bands: shade = share of the column's specifications with the level."""
    ax.imshow(
        shares,
        aspect="auto",
        interpolation="nearest",
        cmap="Greys",
        vmin=0,
        vmax=1.4,
        extent=(-0.5, n - 0.5, len(marks) - 0.5, -0.5),
    )
    ax.set_yticks(range(len(marks)))
    ticks, last = [], None
    for choice, level in marks:
        name = ROW_NAMES.get(choice, labels.CHOICE_LABELS.get(choice, choice))
        shown = level.replace("_", " ")
        ticks.append(f"{name}: {shown}" if choice != last else shown)
        last = choice
    ax.set_yticklabels(ticks, fontsize=SMALL_FONT_SIZE - 1)
    for i in range(1, len(marks)):
        if marks[i][0] != marks[i - 1][0]:
            ax.axhline(i - 0.5, color=PALETTE["muted"], linewidth=0.5)
    ax.set_xlabel("Specification, sorted by estimate")
    ax.tick_params(axis="y", length=0)
    binned = f", in columns of about {n / MAX_COLUMNS:.0f}," if n > MAX_COLUMNS else ""
    ax.annotate(
        f"Shade: share of the specifications with the same result{binned} that made the choice (dark: all; "
        "grey: some).\nThe GLMM fits its own τ² (maximum likelihood): its τ² rows are blank.",
        xy=(0, 0),
        xycoords="axes fraction",
        xytext=(-2.1 * 72, -30),
        textcoords="offset points",
        va="top",
        fontsize=SMALL_FONT_SIZE - 1,
        color=PALETTE["muted"],
        annotation_clip=False,
    )
