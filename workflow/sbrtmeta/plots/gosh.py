"""GOSH plot of one cell: I² against the pooled rate of every subset, as ``plot.gosh.rma``.

The first panel shows all subsets as a hexagonal density (counts on a log scale); each
further panel marks the subsets that contain one study (coloured) against those that do
not (grey), as ``plot.gosh.rma(out = j)`` does. Studies that pull the estimate or I²
show as coloured and grey clouds that separate. Draws the columns of ``gosh_<cell>.csv``
and ``gosh_studies.csv`` only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sbrtmeta.plots import labels
from sbrtmeta.plots.style import FIGURE_WIDTH_IN, FONT_SIZE, PALETTE, SMALL_FONT_SIZE, figure_style

COLUMNS = 4
PANEL_HEIGHT_IN = 1.7
MAX_POINTS = 20000  # points drawn per study panel; more subsets are thinned evenly (the hexbin shows all)


def _thin(n: int) -> np.ndarray:
    """Evenly spaced rows (all when there are at most MAX_POINTS)."""
    return np.arange(n) if n <= MAX_POINTS else np.linspace(0, n - 1, MAX_POINTS).round().astype(int)


def _limits(values: np.ndarray, floor: float, ceiling: float, min_span: float = 0.0) -> tuple[float, float]:
    """The values' range padded by 5 % or 0.5 (at least ``min_span`` wide), inside ``floor``-``ceiling``."""
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    pad = max((hi - lo) * 0.05, 0.5, (min_span - (hi - lo)) / 2)
    lo, hi = max(floor, lo - pad), min(ceiling, hi + pad)
    if hi - lo < min_span:  # cut at one end: widen at the other
        lo, hi = (lo, min(ceiling, lo + min_span)) if lo == floor else (max(floor, hi - min_span), hi)
    return lo, hi


def draw_gosh(table: pd.DataFrame, shifts: pd.DataFrame, highlight: list[str] | None = None) -> Figure:
    """The GOSH figure of one cell from its table and its rows of ``gosh_studies.csv``;
    ``highlight``: the study ids that get a panel (None or empty: every study)."""
    first = shifts.iloc[0]
    chosen = shifts if not highlight else shifts[shifts["study_id"].isin(highlight)]
    n_panels = 1 + len(chosen)
    rows = -(-n_panels // COLUMNS)
    x = 100 * table["rate"].to_numpy(dtype=float)
    y = table["i2"].to_numpy(dtype=float)
    # I² = 0 marks stay visible; I² spans at least 20 points (all subsets at 0: 0-17, no negative ticks)
    xlim, ylim = _limits(x, 0, 100), _limits(y, -3, 103, min_span=20)
    with figure_style():
        height = 0.95 + PANEL_HEIGHT_IN * rows
        fig = Figure(figsize=(FIGURE_WIDTH_IN, height))
        FigureCanvasAgg(fig)
        layout = dict(  # fixed margins in inches (no tight_layout: it draws the figure once more)
            left=0.6 / FIGURE_WIDTH_IN,
            right=1 - 0.1 / FIGURE_WIDTH_IN,
            top=1 - 0.85 / height,
            bottom=0.5 / height,
            hspace=0.55 / (PANEL_HEIGHT_IN - 0.55),
            wspace=0.12,
        )
        axes = fig.subplots(rows, COLUMNS, sharex=True, sharey=True, squeeze=False, gridspec_kw=layout).ravel()
        ax = axes[0]
        ax.set_xlim(*xlim)  # once, for every panel (shared), before the points: no autoscaling per scatter
        ax.set_ylim(*ylim)
        size = 2 if len(table) > 500 else 9
        if len(table) > 500:
            ax.hexbin(x, y, gridsize=30, bins="log", cmap="Blues", mincnt=1, extent=(*xlim, *ylim), linewidths=0.2)
        else:  # a few subsets: each one a point
            ax.scatter(x, y, s=size, color=PALETTE["blue"], linewidths=0, alpha=0.8)
        ax.set_title("All subsets", fontsize=SMALL_FONT_SIZE)
        keep = _thin(len(table))
        for ax, s in zip(axes[1:], chosen.itertuples()):
            inn = table[f"in_{s.study_id}"].to_numpy(dtype=bool)[keep]
            xs, ys = x[keep], y[keep]
            ax.scatter(xs[~inn], ys[~inn], s=size, color=PALETTE["light"], linewidths=0, rasterized=True)
            ax.scatter(xs[inn], ys[inn], s=size, color=PALETTE["vermillion"], linewidths=0, alpha=0.6, rasterized=True)
            shift = f"Δ {100 * s.rate_shift:+.1f} points, I² {s.i2_shift:+.0f}"
            ax.set_title(f"{labels.shorten(s.label)}\n{shift}", fontsize=SMALL_FONT_SIZE)
        for ax in axes[n_panels:]:
            ax.set_visible(False)
        for i, ax in enumerate(axes[:n_panels]):
            ax.tick_params(labelbottom=i + COLUMNS >= n_panels, labelsize=SMALL_FONT_SIZE)  # lowest panel of a column
        how = "random sample of" if first.sampled else "all"
        fig.suptitle(
            f"{labels.site_title(first.site, first.histology)}: GOSH, k = {first.k}, {how} "
            f"{first.subsets:,} subsets ({labels.TAU2_LABELS.get(first.tau2_method, first.tau2_method)})\n"
            "coloured: subsets with the study, grey: without; Δ: mean with − mean without",
            fontsize=FONT_SIZE,
            y=1 - 0.12 / height,
            va="top",
        )
        fig.supxlabel(
            labels.endpoint_axis_label(first.endpoint, first.timepoint_months) + " (%), pooled per subset",
            y=0.08 / height,
            va="bottom",
        )
        fig.supylabel("I² (%)", x=0.08 / FIGURE_WIDTH_IN, ha="left")
    return fig
