"""Funnel plots, one panel per site pooled from two or more studies.

Each panel is on the model's logit scale: a study's logit proportion ``yi``
against its standard error ``sqrt(vi)`` (0 at the top), the pooled estimate as a
vertical line and the pseudo 95% confidence region ``estimate ± 1.96·se`` as
dashed lines. Tick labels are the proportions in %.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .effect_sizes import SCALE_NAMES, forward_transform
from .forest import cell_studies, endpoint_axis_label, select_rows, site_title
from .plot_style import FIGURE_WIDTH_IN, PALETTE, SMALL_FONT_SIZE, figure_style

MAX_COLUMNS = 3
PANEL_HEIGHT_IN = 2.35
Z95 = 1.959964
SMALL_K_NOTE = "k < 10: funnel asymmetry\ncannot be judged reliably"
# Tick candidates in %, most wanted first; a tick is kept if it is far enough from those kept.
TICK_PERCENTS = (50, 80, 20, 90, 10, 95, 5, 99, 1, 70, 30, 98, 2, 60, 40, 99.5, 0.5, 99.9, 0.1)
MIN_TICK_GAP_IN = 0.45  # between two tick labels, centre to centre


def percent_ticks(x0: float, x1: float, min_gap: float = 0.2, forward=None) -> tuple[np.ndarray, list[str]]:
    """Positions in ``[x0, x1]`` (on the model's scale, ``forward`` maps a proportion
    there; logit by default) of round percentages at least ``min_gap`` (a fraction of
    the axis) apart, and their labels."""
    forward = forward or (lambda q: forward_transform(q, "PLO"))
    kept = []
    for p in TICK_PERCENTS:
        x = float(forward(p / 100))
        if x0 <= x <= x1 and all(abs(x - k) >= min_gap * (x1 - x0) for k, _ in kept):
            kept.append((x, p))
    kept.sort()
    return np.array([x for x, _ in kept]), [f"{p:g}%" for _, p in kept]


def draw_funnel(pooled: pd.DataFrame, studies: pd.DataFrame, endpoint: str, timepoint_months: float,
                endpoint_label: str | None = None) -> Figure:
    """Funnel plots of the sites with two or more studies for ``endpoint`` at ``timepoint_months``.

    Panels run in ``pooled`` order, three to a row. With no such site the figure
    holds a single message. The figure is returned unsaved.
    """
    cells = select_rows(pooled, endpoint, timepoint_months)
    cells = cells[cells["k"] >= 2]
    rows = select_rows(studies, endpoint, timepoint_months)
    what = endpoint_axis_label(endpoint, timepoint_months, endpoint_label)
    ncols = max(1, min(MAX_COLUMNS, len(cells)))
    nrows = max(1, math.ceil(len(cells) / ncols))
    width = FIGURE_WIDTH_IN if ncols > 1 else FIGURE_WIDTH_IN / 2
    with figure_style():
        fig = Figure(figsize=(width, PANEL_HEIGHT_IN * nrows + 0.3), layout="constrained")
        FigureCanvasAgg(fig)
        if cells.empty:
            ax = fig.add_subplot()
            ax.set_axis_off()
            ax.text(0.5, 0.5, f"{what}:\nno cell has two or more studies,\nso there is no funnel plot.",
                    ha="center", va="center", transform=ax.transAxes, color=PALETTE["muted"])
            return fig
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        transform = str(cells["transform"].iloc[0]) if "transform" in cells else "PLO"
        scale = SCALE_NAMES.get(transform, transform)
        for ax, cell in zip(axes, cells.itertuples()):
            group = cell_studies(cell, rows)
            n = group["n"].to_numpy(float)
            forward = lambda q, n=n: forward_transform(q, transform, n)  # noqa: E731
            mu = float(getattr(cell, "model_estimate", np.nan))
            if not np.isfinite(mu):
                mu = float(forward(cell.estimate))
            _panel(ax, group["yi"].to_numpy(float), np.sqrt(group["vi"].to_numpy(float)), mu,
                   MIN_TICK_GAP_IN * ncols / width, forward)
            split = "histology" in cells and cells["histology"].nunique() > 1
            ax.set_title(f"{site_title(cell.site, cell.histology if split else None)} (k = {int(cell.k)})")
            if cell.k < 10:
                ax.annotate(SMALL_K_NOTE, xy=(0.5, 0), xycoords="axes fraction", xytext=(0, -20),
                            textcoords="offset points", ha="center", va="top",
                            fontsize=SMALL_FONT_SIZE, color=PALETTE["muted"], linespacing=1.2)
        for ax in axes[len(cells):]:
            ax.set_axis_off()
        for ax in axes[::ncols]:
            ax.set_ylabel(f"Standard error ({scale} scale)")
        fig.supxlabel(f"{what}, % ({scale} scale)")
    return fig


def _panel(ax, yi: np.ndarray, se: np.ndarray, mu: float, min_tick_gap: float, forward=None) -> None:
    top = 1.08 * se.max()
    half = Z95 * top
    x0 = min(yi.min(), mu - half)
    x1 = max(yi.max(), mu + half)
    pad = 0.06 * (x1 - x0)
    x0, x1 = x0 - pad, x1 + pad
    ax.plot([mu - half, mu, mu + half], [top, 0, top], color=PALETTE["muted"], linestyle="--",
            linewidth=0.8, zorder=1, gid="funnel")
    ax.axvline(mu, color=PALETTE["blue"], linewidth=1.0, zorder=2, gid="pooled")
    ax.scatter(yi, se, s=18, color=PALETTE["ink"], edgecolors="white", linewidths=0.5, zorder=3,
               gid="studies")
    ax.set_xlim(x0, x1)
    ax.set_ylim(top, 0)
    ticks, labels = percent_ticks(x0, x1, min_tick_gap, forward)
    ax.set_xticks(ticks, labels)
