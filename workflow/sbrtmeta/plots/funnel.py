"""Contour-enhanced funnel plots, one panel per site pooled from two or more studies.

Each panel is on the model's scale (logit for PLO): a study's effect size ``yi``
against its standard error ``sqrt(vi)`` (0 at the top), the pooled estimate as a
vertical line, and shaded regions where a study would differ from the pooled
estimate at p < 0.10, p < 0.05 and p < 0.01 (two-sided z), as metafor's
``funnel(res, level = c(90, 95, 99), shade = ...)``. Tick labels are the
proportions in %.

With three or more studies a panel also shows Egger's regression test with its
fitted line ``yi = b0 + b1·sei``, and trim and fill with the imputed studies as open
points. Below ten studies the panel says the tests are underpowered, as the Cochrane
Handbook (chapter 13) advises. The numbers come from
:func:`sbrtmeta.analysis.small_study.funnel_panels`; this module only draws them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy.stats import norm

from sbrtmeta.plots.labels import SCALE_NAMES, endpoint_axis_label, p_text, site_title
from sbrtmeta.plots.style import FIGURE_WIDTH_IN, PALETTE, SMALL_FONT_SIZE, figure_style

MAX_COLUMNS = 3
PANEL_HEIGHT_IN = 2.6
# Shaded regions: (p-value bound, colour), widest first. Inside the 90% region is white.
CONTOURS = ((0.01, "#d9d9d9"), (0.05, "#b3b3b3"), (0.10, "#8c8c8c"))
CONTOUR_LABELS = ("p < 0.01", "0.01 ≤ p < 0.05", "0.05 ≤ p < 0.10", "p ≥ 0.10")
SMALL_K = 10
SMALL_K_NOTE = "k < 10: asymmetry tests underpowered\n(Cochrane Handbook, ch. 13)"
# Tick candidates in %, most wanted first; a tick is kept if it is far enough from those kept.
TICK_PERCENTS = (50, 80, 20, 90, 10, 95, 5, 99, 1, 70, 30, 98, 2, 60, 40, 99.5, 0.5, 99.9, 0.1)
MIN_TICK_GAP_IN = 0.45  # between two tick labels, centre to centre


def percent_ticks(x0: float, x1: float, positions: dict, min_gap: float = 0.2) -> tuple[np.ndarray, list[str]]:
    """Positions in ``[x0, x1]`` of round percentages at least ``min_gap`` (a fraction of
    the axis) apart, and their labels. ``positions`` maps a percentage to its place on
    the panel's scale (the ``percents`` table of the funnel tables)."""
    kept = []
    for p in TICK_PERCENTS:
        x = float(positions[p])
        if x0 <= x <= x1 and all(abs(x - k) >= min_gap * (x1 - x0) for k, _ in kept):
            kept.append((x, p))
    kept.sort()
    return np.array([x for x, _ in kept]), [f"{p:g}%" for _, p in kept]


def tests_text(panel) -> list[str]:
    """The panel's lines about Egger's test and trim and fill (``panel``: a row of the panels table)."""
    lines = []
    if pd.notna(panel.egger_stat) and np.isfinite(panel.egger_stat):
        stat = f"t({int(panel.egger_df)})" if pd.notna(panel.egger_df) else "z"
        lines.append(f"Egger: {stat} = {panel.egger_stat:.2f}, {p_text(panel.egger_p)}")
    if pd.notna(panel.k0):
        k0 = int(panel.k0)
        lines.append(f"Trim and fill: {k0} imputed" + (f" ({panel.side})" if k0 else ""))
    for note in filter(None, str(panel.note).split("; ")):
        lines.append(note if len(note) < 45 else note.split(" (")[0])
    return lines


def draw_funnel(funnel, endpoint: str, timepoint_months: float, endpoint_label: str | None = None) -> Figure:
    """Funnel plots of :func:`sbrtmeta.analysis.small_study.funnel_panels`' tables for
    ``endpoint`` at ``timepoint_months``.

    ``funnel`` has the tables ``panels``, ``points`` and ``percents``. Panels run in
    table order, three to a row. With no panel the figure holds a single message. The
    figure is returned unsaved.
    """
    panels = funnel.panels
    what = endpoint_axis_label(endpoint, timepoint_months, endpoint_label)
    ncols = max(1, min(MAX_COLUMNS, len(panels)))
    nrows = max(1, math.ceil(len(panels) / ncols))
    width = FIGURE_WIDTH_IN if ncols > 1 else FIGURE_WIDTH_IN / 2 + 0.6
    with figure_style():
        fig = Figure(figsize=(width, PANEL_HEIGHT_IN * nrows + 0.8), layout="constrained")
        FigureCanvasAgg(fig)
        if panels.empty:
            _no_panel(fig, width, what)
            return fig
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        scale = SCALE_NAMES.get(str(panels["transform"].iloc[0]), str(panels["transform"].iloc[0]))
        for ax, panel in zip(axes, panels.itertuples()):
            points = funnel.points[funnel.points["panel"] == panel.panel]
            at = funnel.percents[funnel.percents["panel"] == panel.panel]
            positions = dict(zip(at["percent"], at["x"]))
            _panel(ax, points, panel, MIN_TICK_GAP_IN * ncols / width, positions)
            ax.set_title(f"{site_title(panel.site, panel.histology or None)} (k = {int(panel.k)})")
            _panel_notes(ax, panel)
        for ax in axes[len(panels) :]:
            ax.set_axis_off()
        for ax in axes[::ncols]:
            ax.set_ylabel(f"Standard error ({scale} scale)")
        for ax in axes[: len(panels)]:
            ax.set_xlabel(f"% ({scale} scale)", labelpad=2)
        fig.suptitle(what)
        any_egger = bool(np.isfinite(panels["egger_b0"].astype(float)).any())
        _legend(fig, any_egger, bool(funnel.points["imputed"].astype(bool).any()), ncols)
    return fig


def _no_panel(fig, width: float, what: str) -> None:
    fig.set_size_inches(width, 1.5)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(
        0.5,
        0.5,
        f"{what}:\nno cell has two or more studies,\nso there is no funnel plot.",
        ha="center",
        va="center",
        transform=ax.transAxes,
        color=PALETTE["muted"],
    )


def _panel_notes(ax, panel) -> None:
    """The test results and the small-k warning under a panel."""
    lines = tests_text(panel)
    if panel.k < SMALL_K:
        lines.append(SMALL_K_NOTE)
    if lines:
        ax.annotate(
            "\n".join(lines),
            xy=(0.5, 0),
            xycoords="axes fraction",
            xytext=(0, -26),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=SMALL_FONT_SIZE,
            color=PALETTE["muted"],
            linespacing=1.25,
        )


def _legend(fig, any_egger: bool, any_fill: bool, ncols: int) -> None:
    handles = [Patch(facecolor="white", edgecolor=PALETTE["light"], linewidth=0.6, label=CONTOUR_LABELS[3])]
    handles += [Patch(facecolor=c, label=lab) for (_, c), lab in zip(CONTOURS[::-1], CONTOUR_LABELS[2::-1])]
    handles.append(Line2D([], [], color=PALETTE["blue"], label="Pooled estimate"))
    if any_egger:
        handles.append(Line2D([], [], color=PALETTE["vermillion"], linestyle="--", label="Egger's line"))
    handles.append(Line2D([], [], marker="o", linestyle="none", color=PALETTE["ink"], markersize=4, label="Study"))
    if any_fill:
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="none",
                markerfacecolor="white",
                markeredgecolor=PALETTE["ink"],
                markersize=4,
                label="Imputed (trim and fill)",
            )
        )
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=min(len(handles), 4 if ncols > 1 else 2),
        fontsize=SMALL_FONT_SIZE,
        handlelength=1.6,
        columnspacing=1.2,
    )


def _contours(ax, mu: float, top: float, panel) -> None:
    """The shaded significance regions, the pooled estimate and Egger's line."""
    ax.set_facecolor(CONTOURS[0][1])  # p < 0.01 outside the widest region
    se_grid = np.array([0.0, top])
    for (p, _), (_, colour) in zip(CONTOURS, list(CONTOURS[1:]) + [(None, "white")]):
        half = norm.isf(p / 2) * se_grid
        ax.fill_betweenx(se_grid, mu - half, mu + half, color=colour, linewidth=0, zorder=0, gid=f"contour:{p:g}")
    ax.axvline(mu, color=PALETTE["blue"], linewidth=1.0, zorder=2, gid="pooled")
    if np.isfinite(float(panel.egger_b0)):
        ax.plot(
            panel.egger_b0 + panel.egger_b1 * se_grid,
            se_grid,
            color=PALETTE["vermillion"],
            linestyle="--",
            linewidth=1.0,
            zorder=2,
            gid="egger",
        )


def _panel(ax, points: pd.DataFrame, panel, min_tick_gap: float, positions: dict) -> None:
    study, imputed = points[~points["imputed"].astype(bool)], points[points["imputed"].astype(bool)]
    yi, se = study["yi"].to_numpy(float), study["sei"].to_numpy(float)
    filled, filled_se = imputed["yi"].to_numpy(float), imputed["sei"].to_numpy(float)
    mu = float(panel.estimate)
    top = 1.08 * se.max()
    z_max = norm.isf(CONTOURS[0][0] / 2)
    x0 = min(yi.min(), mu - z_max * top, *filled)
    x1 = max(yi.max(), mu + z_max * top, *filled)
    pad = 0.06 * (x1 - x0)
    x0, x1 = x0 - pad, x1 + pad
    _contours(ax, mu, top, panel)
    many = yi.size > 500
    ax.scatter(
        yi,
        se,
        s=6 if many else 18,
        color=PALETTE["ink"],
        edgecolors="white",
        linewidths=0 if many else 0.5,
        zorder=3,
        gid="studies",
        rasterized=many,
    )
    if filled.size:
        ax.scatter(
            filled,
            filled_se,
            s=6 if many else 18,
            facecolors="white",
            edgecolors=PALETTE["ink"],
            linewidths=0.7,
            zorder=3,
            gid="filled",
            rasterized=many,
        )
    ax.set_xlim(x0, x1)
    ax.set_ylim(top, 0)
    ticks, labels = percent_ticks(x0, x1, positions, min_tick_gap)
    ax.set_xticks(ticks, labels)
