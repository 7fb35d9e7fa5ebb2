"""Contour-enhanced funnel plots, one panel per site pooled from ``sensitivity.funnel.min_studies.plot``
or more studies.

Each panel is on the model's scale (logit for PLO): a study's effect size ``yi``
against, as the panels table's ``axis`` says (config ``sensitivity.funnel.axis``),
its sample size (largest at the top; Hunter et al., J Clin Epidemiol 2014;67:897-903, for
proportions), 1/√n, or its standard error ``sqrt(vi)`` (0 at the top); the pooled estimate as
a vertical line. On the standard-error axis only, shaded regions show where a study would
differ from the pooled estimate at p < 0.10, p < 0.05 and p < 0.01 (two-sided z), as
metafor's ``funnel(res, level = c(90, 95, 99), shade = ...)``. Tick labels are the
proportions in % (the axis label says so; the ticks are numbers).

From ``min_studies.test`` studies (10, Sterne et al. 2011) a panel also shows the regression
test for funnel asymmetry (``regtest(predictor = ...)``; Egger's test for the standard error)
with its fitted line ``yi = b0 + b1·predictor`` where the predictor is a function of the axis;
from three, trim and fill with the imputed studies as open points (each at the n and standard
error of the study it reflects). A test run below ten studies (a lower configured threshold)
is said to be underpowered, as the Cochrane Handbook (chapter 13) advises. The numbers come from
:func:`sbrtmeta.analysis.small_study.funnel_panels`; this module only draws them.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy.special import ndtri

from sbrtmeta.plots.labels import SCALE_NAMES, endpoint_axis_label, p_text, site_title
from sbrtmeta.plots.style import FIGURE_WIDTH_IN, PALETTE, SMALL_FONT_SIZE, figure_style

MAX_COLUMNS = 3
PANEL_HEIGHT_IN = 2.6
# Shaded regions: (p-value bound, colour), widest first. Inside the 90% region is white.
CONTOURS = ((0.01, "#d9d9d9"), (0.05, "#b3b3b3"), (0.10, "#8c8c8c"))
CONTOUR_LABELS = ("p < 0.01", "0.01 ≤ p < 0.05", "0.05 ≤ p < 0.10", "p ≥ 0.10")
SMALL_K = 10
AXIS_LABELS = {"sample_size": "Sample size", "inverse_sqrt_n": "1/√n", "standard_error": "Standard error"}
PREDICTOR_TEXT = {"sei": "Egger", "vi": "Regression on variance", "ni": "Regression on n", "ninv": "Regression on 1/n"}
PREDICTOR_TEXT["sqrtninv"] = "Regression on 1/√n"
# the regression line in the axis' own variable a: predictor = f(a), for the predictors that are functions of it
_LINE = {
    "standard_error": {"sei": lambda a: a, "vi": lambda a: a**2},
    "sample_size": {"ni": lambda a: a, "ninv": lambda a: 1 / a, "sqrtninv": lambda a: 1 / np.sqrt(a)},
    "inverse_sqrt_n": {"ni": lambda a: 1 / a**2, "ninv": lambda a: a**2, "sqrtninv": lambda a: a},
}
HUNTER = "Hunter et al., J Clin Epidemiol 2014"
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
    return np.array([x for x, _ in kept]), [f"{p:g}" for _, p in kept]


def tests_text(panel) -> list[str]:
    """The panel's lines about Egger's test and trim and fill (``panel``: a row of the panels table)."""
    lines = []
    if pd.notna(panel.egger_stat) and np.isfinite(panel.egger_stat):
        stat = f"t({int(panel.egger_df)})" if pd.notna(panel.egger_df) else "z"
        name = PREDICTOR_TEXT.get(str(getattr(panel, "predictor", "sei")), "Regression test")
        lines.append(f"{name}: {stat} = {panel.egger_stat:.2f}, {p_text(panel.egger_p)}")
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
    foot = _footnote(panels, width) if not panels.empty else ""
    foot_in = 0.12 * (foot.count("\n") + 1) + 0.08 if foot else 0.0
    height = PANEL_HEIGHT_IN * nrows + 0.8 + foot_in
    with figure_style():
        fig = Figure(figsize=(width, height), layout="constrained")
        FigureCanvasAgg(fig)
        if panels.empty:
            _no_panel(fig, width, what)
            return fig
        # the panels, title and legend above; the footnote in a strip of its own below
        top, bottom = fig.subfigures(2, 1, height_ratios=[height - foot_in, foot_in])
        bottom.text(0.01, 0.5, foot, fontsize=SMALL_FONT_SIZE, color=PALETTE["muted"], va="center", gid="footnote")
        axes = top.subplots(nrows, ncols, squeeze=False).ravel()
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
        axis = _axis(panels)
        for ax in axes[::ncols]:
            ax.set_ylabel(f"Standard error ({scale} scale)" if axis == "standard_error" else AXIS_LABELS[axis])
        for ax in axes[: len(panels)]:
            ax.set_xlabel(f"% ({scale} scale)", labelpad=2)
        top.suptitle(what)
        line = _line_function(panels) is not None
        any_egger = bool(np.isfinite(panels["egger_b0"].astype(float)).any()) and line
        shown_fill = bool(funnel.points["imputed"].astype(bool).any())
        _legend(top, any_egger, shown_fill, ncols, axis == "standard_error", _line_label(panels))
    return fig


def _axis(panels) -> str:
    return str(panels["axis"].iloc[0]) if "axis" in panels and len(panels) else "standard_error"


def _predictor(panels) -> str:
    return str(panels["predictor"].iloc[0]) if "predictor" in panels and len(panels) else "sei"


def _line_function(panels):
    """The predictor as a function of the axis variable, or None when it is not one (no line)."""
    return _LINE[_axis(panels)].get(_predictor(panels))


def _line_label(panels) -> str:
    return "Egger's line" if _predictor(panels) == "sei" else f"{PREDICTOR_TEXT[_predictor(panels)]} (line)"


def _footnote(panels, width_in: float) -> str:
    """What the vertical axis and the regression test are, and why."""
    axis, predictor = _axis(panels), _predictor(panels)
    names = {"sei": "standard error (Egger)", "vi": "variance", "ni": "n", "ninv": "1/n", "sqrtninv": "1/√n"}
    if axis == "standard_error":
        first = "Vertical axis: standard error of the transformed proportion."
    else:
        first = (
            f"Vertical axis: {AXIS_LABELS[axis].lower() if axis == 'sample_size' else '1/√n'}, as {HUNTER} "
            "recommend for proportions (the standard error of a logit depends on the proportion itself); "
            "no significance contours (they need the standard-error axis)."
        )
    second = f"Regression test for funnel asymmetry: metafor regtest, predictor {names[predictor]}"
    second += "." if _line_function(panels) is not None else " (no line: the predictor is not a function of the axis)."
    if funnel_has_fill(panels):
        second += " Open circles: studies trim and fill imputes, each at the size of the study it mirrors."
    chars = int(width_in * 19)  # characters of the small font per line
    return "\n".join(textwrap.wrap(first, chars) + textwrap.wrap(second, chars))


def funnel_has_fill(panels) -> bool:
    return bool((pd.to_numeric(panels["k0"], errors="coerce").fillna(0) > 0).any())


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
    if panel.k < SMALL_K and pd.notna(panel.egger_stat):
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


def _legend(
    fig, any_egger: bool, any_fill: bool, ncols: int, contours: bool = True, line_label: str = "Egger's line"
) -> None:
    handles = []
    if contours:
        handles = [Patch(facecolor="white", edgecolor=PALETTE["light"], linewidth=0.6, label=CONTOUR_LABELS[3])]
        handles += [Patch(facecolor=c, label=lab) for (_, c), lab in zip(CONTOURS[::-1], CONTOUR_LABELS[2::-1])]
    handles.append(Line2D([], [], color=PALETTE["blue"], label="Pooled estimate"))
    if any_egger:
        handles.append(Line2D([], [], color=PALETTE["vermillion"], linestyle="--", label=line_label))
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


def _z(p: float) -> float:
    """The two-sided normal bound of ``p``: scipy.stats' ``norm.isf(p / 2)``, from scipy.special as it computes it
    (plots fit nothing, so they do not import sbrtmeta.stats.distributions; nor scipy.stats, ~0.6 CPU-s)."""
    return float(-ndtri(p / 2))


def _contours(ax, mu: float, top: float, panel) -> None:
    """The shaded significance regions, the pooled estimate and Egger's line."""
    ax.set_facecolor(CONTOURS[0][1])  # p < 0.01 outside the widest region
    se_grid = np.array([0.0, top])
    for (p, _), (_, colour) in zip(CONTOURS, list(CONTOURS[1:]) + [(None, "white")]):
        half = _z(p) * se_grid
        ax.fill_betweenx(se_grid, mu - half, mu + half, color=colour, linewidth=0, zorder=0, gid=f"contour:{p:g}")
    ax.axvline(mu, color=PALETTE["blue"], linewidth=1.0, zorder=2, gid="pooled")


def _regression_line(ax, panel, lo: float, hi: float) -> None:
    """The fitted ``yi = b0 + b1·predictor`` over the axis from ``lo`` to ``hi``, where the
    predictor is a function of the axis variable."""
    axis = str(getattr(panel, "axis", "standard_error"))
    f = _LINE[axis].get(str(getattr(panel, "predictor", "sei")))
    if f is None or not np.isfinite(float(panel.egger_b0)):
        return
    grid = np.array([lo, hi]) if f(2.0) == 2.0 else np.linspace(lo, hi, 200)
    with np.errstate(divide="ignore"):
        x = panel.egger_b0 + panel.egger_b1 * f(grid)
    ax.plot(x, grid, color=PALETTE["vermillion"], linestyle="--", linewidth=1.0, zorder=2, gid="egger")


def _panel(ax, points: pd.DataFrame, panel, min_tick_gap: float, positions: dict) -> None:
    axis = str(getattr(panel, "axis", "standard_error"))
    if axis != "standard_error":
        _panel_by_n(ax, points, panel, min_tick_gap, positions, axis)
        return
    study, imputed = points[~points["imputed"].astype(bool)], points[points["imputed"].astype(bool)]
    yi, se = study["yi"].to_numpy(float), study["sei"].to_numpy(float)
    filled, filled_se = imputed["yi"].to_numpy(float), imputed["sei"].to_numpy(float)
    mu = float(panel.estimate)
    top = 1.08 * se.max()
    z_max = _z(CONTOURS[0][0])
    x0 = min(yi.min(), mu - z_max * top, *filled)
    x1 = max(yi.max(), mu + z_max * top, *filled)
    pad = 0.06 * (x1 - x0)
    x0, x1 = x0 - pad, x1 + pad
    _contours(ax, mu, top, panel)
    _regression_line(ax, panel, 0.0, top)
    many = yi.size > 500
    _scatter(ax, yi, se, many)
    _filled(ax, filled, filled_se, many)
    ax.set_xlim(x0, x1)
    ax.set_ylim(top, 0)
    ticks, labels = percent_ticks(x0, x1, positions, min_tick_gap)
    ax.set_xticks(ticks, labels)


def _filled(ax, x, y, many: bool) -> None:
    """The studies trim and fill imputes, as open circles."""
    if x.size:
        ax.scatter(
            x,
            y,
            s=6 if many else 18,
            facecolors="white",
            edgecolors=PALETTE["ink"],
            linewidths=0.7,
            zorder=3,
            gid="filled",
            rasterized=many,
        )


def _scatter(ax, x, y, many: bool) -> None:
    ax.scatter(
        x,
        y,
        s=6 if many else 18,
        color=PALETTE["ink"],
        edgecolors="white",
        linewidths=0 if many else 0.5,
        zorder=3,
        gid="studies",
        rasterized=many,
    )


def _panel_by_n(ax, points: pd.DataFrame, panel, min_tick_gap: float, positions: dict, axis: str) -> None:
    """A panel with sample size (largest at the top) or 1/√n (0 at the top) up, no contours."""
    study, imputed = points[~points["imputed"].astype(bool)], points[points["imputed"].astype(bool)]
    yi, n = study["yi"].to_numpy(float), study["n"].to_numpy(float)
    filled, filled_n = imputed["yi"].to_numpy(float), imputed["n"].to_numpy(float)
    a = n if axis == "sample_size" else 1 / np.sqrt(n)
    filled_a = filled_n if axis == "sample_size" else 1 / np.sqrt(filled_n)
    mu = float(panel.estimate)
    half = 1.96 * float(np.median(study["sei"].to_numpy(float)))  # room for round-percent ticks
    x0, x1 = min(yi.min(), mu - half, *filled), max(yi.max(), mu + half, *filled)
    pad = 0.06 * (x1 - x0)
    x0, x1 = x0 - pad, x1 + pad
    top = 1.08 * a.max()
    ax.axvline(mu, color=PALETTE["blue"], linewidth=1.0, zorder=2, gid="pooled")
    _regression_line(ax, panel, 0.5 * a.min() if axis == "sample_size" else 1e-3 * top, top)
    _scatter(ax, yi, a, yi.size > 500)
    _filled(ax, filled, filled_a, yi.size > 500)
    ax.set_xlim(x0, x1)
    ax.set_ylim((0, top) if axis == "sample_size" else (top, 0))
    ticks, labels = percent_ticks(x0, x1, positions, min_tick_gap)
    ax.set_xticks(ticks, labels)
