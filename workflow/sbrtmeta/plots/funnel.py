"""Contour-enhanced funnel plots, one panel per site pooled from two or more studies.

Each panel is on the model's scale (logit for PLO): a study's effect size ``yi``
against its standard error ``sqrt(vi)`` (0 at the top), the pooled estimate as a
vertical line, and shaded regions where a study would differ from the pooled
estimate at p < 0.10, p < 0.05 and p < 0.01 (two-sided z), as metafor's
``funnel(res, level = c(90, 95, 99), shade = ...)``. Tick labels are the
proportions in %.

With three or more studies a panel also shows Egger's regression test
(``regtest(res)``: the model's τ² estimator and test, predictor the standard
error) with its fitted line ``yi = b0 + b1·sei``, and trim and fill
(``trimfill(res)``, estimator L0) with the imputed studies as open points. Below
ten studies the panel says the tests are underpowered, as the Cochrane Handbook
(chapter 13) advises.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy.stats import norm

from sbrtmeta.plots.forest import cell_studies, endpoint_axis_label, p_text, select_rows, site_title
from sbrtmeta.plots.style import FIGURE_WIDTH_IN, PALETTE, SMALL_FONT_SIZE, figure_style
from sbrtmeta.stats.effect_sizes import SCALE_NAMES, forward_transform
from sbrtmeta.stats.meta_regression import regtest
from sbrtmeta.stats.small_study import trimfill

MAX_COLUMNS = 3
PANEL_HEIGHT_IN = 2.6
Z95 = 1.959964
# Shaded regions: (p-value bound, colour), widest first. Inside the 90% region is white.
CONTOURS = ((0.01, "#d9d9d9"), (0.05, "#b3b3b3"), (0.10, "#8c8c8c"))
CONTOUR_LABELS = ("p < 0.01", "0.01 ≤ p < 0.05", "0.05 ≤ p < 0.10", "p ≥ 0.10")
SMALL_K = 10
SMALL_K_NOTE = "k < 10: asymmetry tests underpowered\n(Cochrane Handbook, ch. 13)"
MAX_TRIMFILL_K = 2000  # trim and fill iterates k-study fits: above this many studies it is skipped, and said so
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


@dataclass(frozen=True)
class FunnelTests:
    """What a funnel panel shows of Egger's test and trim and fill.

    ``egger_*`` come from :func:`sbrtmeta.stats.meta_regression.regtest` (NaN below three
    studies): the statistic (t with ``egger_df`` df under Knapp-Hartung, else z), its
    p-value, and the fitted line ``b0 + b1·sei``. ``k0``, ``side`` and
    ``filled_yi``/``filled_sei`` come from :func:`sbrtmeta.stats.small_study.trimfill`
    (estimator L0): the imputed studies. ``tau2_method`` is the estimator used; ``note``
    says why a test was not done.
    """

    egger_stat: float = float("nan")
    egger_df: int | None = None
    egger_p: float = float("nan")
    egger_b0: float = float("nan")
    egger_b1: float = float("nan")
    k0: int | None = None
    side: str = ""
    filled_yi: np.ndarray = field(default_factory=lambda: np.empty(0))
    filled_sei: np.ndarray = field(default_factory=lambda: np.empty(0))
    tau2_method: str = ""
    note: str = ""


def funnel_tests(
    yi, vi, tau2_method: str = "REML", ci_method: str = "knha", level: float = 0.95, max_trimfill: int = MAX_TRIMFILL_K
) -> FunnelTests:
    """Egger's test (``regtest(res)``) and trim and fill (``trimfill(res)``, L0) for one panel.

    ``tau2_method`` and ``ci_method`` are the pooled model's; estimators the
    regression test and trim and fill do not offer (PM, EB, HE, HS, SJ, GLMM) fall
    back to REML, and ``tau2_method`` says which was used. Trim and fill refits with
    a z test, as metafor's ``trimfill()`` does by default. Fewer than three studies
    give no tests; more than ``max_trimfill`` give Egger's test only.
    """
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    k = yi.size
    if k < 3:
        return FunnelTests(note="k < 3: no test")
    method = tau2_method if tau2_method in ("REML", "DL", "FE") else "REML"
    ci = ci_method if ci_method in ("z", "knha") else "z"
    notes = [] if method == tau2_method else ["tests with REML τ²"]
    egger = {}
    try:
        r = regtest(yi, vi, model="rma", predictor="sei", tau2_method=method, ci_method=ci, level=level)
        egger = dict(
            egger_stat=float(r.zval),
            egger_df=r.df,
            egger_p=float(r.pval),
            egger_b0=float(r.fit.coef[0]),
            egger_b1=float(r.fit.coef[1]),
        )
    except (ValueError, np.linalg.LinAlgError) as exc:
        notes.append(f"Egger: not estimable ({exc})")
    fill = {}
    if k > max_trimfill:
        notes.append(f"trim and fill: not run (k > {max_trimfill})")
    else:
        try:
            tf = trimfill(yi, vi, tau2_method=method, estimator="L0", level=level)
            fill = dict(k0=int(tf.k0), side=tf.side, filled_yi=tf.yi[tf.filled], filled_sei=np.sqrt(tf.vi[tf.filled]))
        except (ValueError, np.linalg.LinAlgError) as exc:
            notes.append(f"trim and fill: not estimable ({exc})")
    return FunnelTests(**egger, **fill, tau2_method=method, note="; ".join(notes))


def tests_text(t: FunnelTests) -> list[str]:
    """The panel's lines about Egger's test and trim and fill."""
    lines = []
    if np.isfinite(t.egger_stat):
        stat = f"t({t.egger_df})" if t.egger_df is not None else "z"
        lines.append(f"Egger: {stat} = {t.egger_stat:.2f}, {p_text(t.egger_p)}")
    if t.k0 is not None:
        lines.append(f"Trim and fill: {t.k0} imputed" + (f" ({t.side})" if t.k0 else ""))
    for note in filter(None, t.note.split("; ")):
        lines.append(note if len(note) < 45 else note.split(" (")[0])
    return lines


def draw_funnel(
    pooled: pd.DataFrame,
    studies: pd.DataFrame,
    endpoint: str,
    timepoint_months: float,
    endpoint_label: str | None = None,
    max_trimfill: int = MAX_TRIMFILL_K,
) -> Figure:
    """Funnel plots of the sites with two or more studies for ``endpoint`` at ``timepoint_months``.

    Panels run in ``pooled`` order, three to a row. With no such site the figure
    holds a single message. Trim and fill is run for panels of at most
    ``max_trimfill`` studies. The figure is returned unsaved.
    """
    cells = select_rows(pooled, endpoint, timepoint_months)
    cells = cells[cells["k"] >= 2]
    rows = select_rows(studies, endpoint, timepoint_months)
    what = endpoint_axis_label(endpoint, timepoint_months, endpoint_label)
    ncols = max(1, min(MAX_COLUMNS, len(cells)))
    nrows = max(1, math.ceil(len(cells) / ncols))
    width = FIGURE_WIDTH_IN if ncols > 1 else FIGURE_WIDTH_IN / 2 + 0.6
    with figure_style():
        fig = Figure(figsize=(width, PANEL_HEIGHT_IN * nrows + 0.8), layout="constrained")
        FigureCanvasAgg(fig)
        if cells.empty:
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
            return fig
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        transform = str(cells["transform"].iloc[0]) if "transform" in cells else "PLO"
        scale = SCALE_NAMES.get(transform, transform)
        named = "histology" in cells
        any_fill = any_egger = False
        for ax, cell in zip(axes, cells.itertuples()):
            group = cell_studies(cell, rows)
            n = group["n"].to_numpy(float)
            forward = lambda q, n=n: forward_transform(q, transform, n)  # noqa: E731
            mu = float(getattr(cell, "model_estimate", np.nan))
            if not np.isfinite(mu):
                mu = float(forward(cell.estimate))
            yi, vi = group["yi"].to_numpy(float), group["vi"].to_numpy(float)
            tests = funnel_tests(
                yi,
                vi,
                str(getattr(cell, "tau2_method", "REML")),
                str(getattr(cell, "ci_method", "knha")),
                max_trimfill=max_trimfill,
            )
            any_fill |= bool(tests.filled_yi.size)
            any_egger |= bool(np.isfinite(tests.egger_b0))
            _panel(ax, yi, np.sqrt(vi), mu, MIN_TICK_GAP_IN * ncols / width, forward, tests)
            hist = cell.histology if named and isinstance(cell.histology, str) and cell.histology else None
            ax.set_title(f"{site_title(cell.site, hist)} (k = {int(cell.k)})")
            lines = tests_text(tests)
            if cell.k < SMALL_K:
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
        for ax in axes[len(cells) :]:
            ax.set_axis_off()
        for ax in axes[::ncols]:
            ax.set_ylabel(f"Standard error ({scale} scale)")
        for ax in axes[: len(cells)]:
            ax.set_xlabel(f"% ({scale} scale)", labelpad=2)
        fig.suptitle(what)
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
    return fig


def _panel(
    ax, yi: np.ndarray, se: np.ndarray, mu: float, min_tick_gap: float, forward=None, tests: FunnelTests | None = None
) -> None:
    top = 1.08 * se.max()
    z_max = norm.isf(CONTOURS[0][0] / 2)
    filled = tests.filled_yi if tests is not None else np.empty(0)
    x0 = min(yi.min(), mu - z_max * top, *filled)
    x1 = max(yi.max(), mu + z_max * top, *filled)
    pad = 0.06 * (x1 - x0)
    x0, x1 = x0 - pad, x1 + pad
    ax.set_facecolor(CONTOURS[0][1])  # p < 0.01 outside the widest region
    se_grid = np.array([0.0, top])
    for (p, _), (_, colour) in zip(CONTOURS, list(CONTOURS[1:]) + [(None, "white")]):
        half = norm.isf(p / 2) * se_grid
        ax.fill_betweenx(se_grid, mu - half, mu + half, color=colour, linewidth=0, zorder=0, gid=f"contour:{p:g}")
    ax.axvline(mu, color=PALETTE["blue"], linewidth=1.0, zorder=2, gid="pooled")
    if tests is not None and np.isfinite(tests.egger_b0):
        ax.plot(
            tests.egger_b0 + tests.egger_b1 * se_grid,
            se_grid,
            color=PALETTE["vermillion"],
            linestyle="--",
            linewidth=1.0,
            zorder=2,
            gid="egger",
        )
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
            tests.filled_sei,
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
    ticks, labels = percent_ticks(x0, x1, min_tick_gap, forward)
    ax.set_xticks(ticks, labels)
