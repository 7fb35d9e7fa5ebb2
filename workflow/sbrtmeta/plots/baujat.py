"""Baujat plots: one figure per pooled cell of three or more studies.

Each study is a labelled point: its contribution to the heterogeneity statistic (squared
Pearson residual) across, its influence on the pooled estimate (the squared standardized
shift when it is left out) up, as metafor's ``baujat(res)`` (Baujat et al., Stat Med
2002;21:2641-2652). The numbers are the rows of
:func:`sbrtmeta.analysis.baujat.baujat_table`; this module only draws them.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sbrtmeta.plots.labels import endpoint_axis_label, site_title, tau2_ci_text
from sbrtmeta.plots.style import FIGURE_WIDTH_IN, PALETTE, SMALL_FONT_SIZE, figure_style

# offsets (points) of a point's number, cycled among points that lie close together
OFFSETS = ((5.0, 0.0, "left"), (-5.0, 0.0, "right"), (0.0, 6.0, "center"), (0.0, -7.0, "center"))


def _label_offsets(x: np.ndarray, y: np.ndarray) -> list[tuple[float, float, str]]:
    """An offset per point: points within 6 % of the axes' ranges of an earlier one take the next offset."""
    sx = np.ptp(x) or 1.0
    sy = np.ptp(y) or 1.0
    out = []
    for i in range(x.size):
        near = sum(abs(x[j] - x[i]) < 0.06 * sx and abs(y[j] - y[i]) < 0.06 * sy for j in range(i))
        out.append(OFFSETS[near % len(OFFSETS)])
    return out


def draw_baujat(cell: pd.DataFrame, *, level: float) -> Figure:
    """The Baujat plot of one cell (its rows of the Baujat table). Returned unsaved."""
    first = cell.iloc[0]
    x = cell["contribution"].to_numpy(float)
    y = cell["influence"].to_numpy(float)
    finite = np.isfinite(y)
    hist = first.histology if isinstance(first.histology, str) else None
    with figure_style():
        foot = [
            f"Baujat plot (metafor baujat); {tau2_ci_text(str(first.tau2_method), str(first.ci_method), level)}. "
            "Influence: squared shift of the pooled estimate without the study, in units of its standard error."
        ]
        foot.append("; ".join(f"{i + 1} {label}" for i, label in enumerate(cell["label"].astype(str))) + ".")
        foot += [f"Not drawn: {cell['label'].iloc[i]} ({cell['note'].iloc[i]})." for i in np.flatnonzero(~finite)]
        lines = [line for f in foot for line in textwrap.wrap(f, 96)]
        width, foot_in = FIGURE_WIDTH_IN * 0.7, 0.55 + 0.13 * len(lines)
        height = 3.2 + foot_in
        fig = Figure(figsize=(width, height))
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0.75 / width, (foot_in + 0.05) / height, 1 - 1.0 / width, 1 - (foot_in + 0.35) / height))
        ax.scatter(
            x[finite],
            y[finite],
            s=22,
            color=PALETTE["blue"],
            edgecolors="white",
            linewidths=0.5,
            zorder=3,
            gid="studies",
        )
        for i, (dx, dy, ha) in enumerate(_label_offsets(x, np.where(finite, y, 0.0))):
            if not finite[i]:
                continue
            ax.annotate(
                str(i + 1),
                (x[i], y[i]),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va="center",
                fontsize=SMALL_FONT_SIZE,
                color=PALETTE["ink"],
            )
        xmax = float(np.nanmax(x)) if x.size else 1.0
        ymax = float(np.nanmax(y[finite])) if finite.any() else 1.0
        ax.set_xlim(-0.05 * xmax, 1.25 * xmax)
        ax.set_ylim(-0.06 * ymax, 1.15 * ymax)
        ax.set_xlabel("Contribution to heterogeneity (squared Pearson residual)")
        ax.set_ylabel("Influence on the pooled estimate")
        what = endpoint_axis_label(first.endpoint, first.timepoint_months)
        ax.set_title(f"{site_title(first.site, hist)}: {what} (k = {int(first.k)})")
        fig.text(
            0.08 / width, 0.08 / height, "\n".join(lines), fontsize=SMALL_FONT_SIZE, color=PALETTE["muted"], va="bottom"
        )
        ax.grid(True, color=PALETTE["rule"], linewidth=0.5, zorder=0)
    return fig
