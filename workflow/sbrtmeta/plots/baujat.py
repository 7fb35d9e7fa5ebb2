"""Baujat plots: one figure per pooled cell of three or more studies.

Each study is a labelled point: its contribution to the heterogeneity statistic (squared
Pearson residual) across, its influence on the pooled estimate (the squared standardized
shift when it is left out) up, as metafor's ``baujat(res)`` (Baujat et al., Stat Med
2002;21:2641-2652); numbered, with the key of numbers and studies on the figure under the plot,
the numbers placed clear of each other and of the points. The numbers are the rows of
:func:`sbrtmeta.analysis.baujat.baujat_table`; this module only draws them.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from sbrtmeta.plots.labels import endpoint_axis_label, site_title, tau2_ci_text
from sbrtmeta.plots.style import FIGURE_WIDTH_IN, PALETTE, SMALL_FONT_SIZE, figure_style

# where a point's number may go: distances (points) and directions tried, nearest first
RADII_PT = (5.0, 10.0, 16.0, 24.0)
DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1))
POINT_RADIUS_PT = 3.0


def _overlap(a: tuple, b: tuple) -> float:
    """Area shared by two boxes ``(x0, y0, x1, y1)``."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def label_positions(points_pt: np.ndarray, sizes_pt: list[tuple[float, float]], frame_pt: tuple) -> list[tuple]:
    """Offsets (points) of each point's label so that no label covers another label or a point: for each
    point in turn the nearest free place among :data:`RADII_PT` x :data:`DIRECTIONS` inside ``frame_pt``
    (the axes' box), else the least covered one. ``points_pt``: the points' positions in points;
    ``sizes_pt``: each label's width and height."""
    r = POINT_RADIUS_PT
    taken = [(x - r, y - r, x + r, y + r) for x, y in points_pt]
    out = []
    for (x, y), (w, h) in zip(points_pt, sizes_pt):
        best = None
        for radius in RADII_PT:
            for dx, dy in DIRECTIONS:
                cx, cy = x + dx * (radius + w / 2 * abs(dx)), y + dy * (radius + h / 2 * abs(dy))
                box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
                outside = box[0] < frame_pt[0] or box[1] < frame_pt[1] or box[2] > frame_pt[2] or box[3] > frame_pt[3]
                score = sum(_overlap(box, t) for t in taken) + (1e6 if outside else 0.0)
                if best is None or score < best[0]:
                    best = (score, cx - x, cy - y, box)
            if best[0] == 0:
                break
        taken.append(best[3])
        out.append((best[1], best[2]))
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
        xmax = float(np.nanmax(x)) if x.size else 1.0
        ymax = float(np.nanmax(y[finite])) if finite.any() else 1.0
        ax.set_xlim(-0.05 * xmax, 1.25 * xmax)
        ax.set_ylim(-0.06 * ymax, 1.15 * ymax)
        _number_points(fig, ax, x, y, finite)
        ax.set_xlabel("Contribution to heterogeneity (squared Pearson residual)")
        ax.set_ylabel("Influence on the pooled estimate")
        what = endpoint_axis_label(first.endpoint, first.timepoint_months)
        ax.set_title(f"{site_title(first.site, hist)}: {what} (k = {int(first.k)})")
        fig.text(
            0.08 / width, 0.08 / height, "\n".join(lines), fontsize=SMALL_FONT_SIZE, color=PALETTE["muted"], va="bottom"
        )
        ax.grid(True, color=PALETTE["rule"], linewidth=0.5, zorder=0)
    return fig


def _number_points(fig, ax, x: np.ndarray, y: np.ndarray, finite: np.ndarray) -> None:
    """Each drawn point's number (the key is in the footnote), placed clear of the other numbers and points;
    a number set apart from its point is joined to it by a thin line."""
    renderer = fig.canvas.get_renderer()
    font = FontProperties(size=SMALL_FONT_SIZE)
    to_pt = 72.0 / fig.dpi
    index = np.flatnonzero(finite)
    points = ax.transData.transform(np.column_stack([x[index], y[index]])) * to_pt
    sizes = []
    for i in index:
        w, h, _ = renderer.get_text_width_height_descent(str(i + 1), font, ismath=False)
        sizes.append((w * to_pt + 3, 1.25 * h * to_pt + 2))  # (a text box is taller than its glyphs)
    frame = tuple(np.asarray(ax.get_window_extent(renderer).extents) * to_pt)
    for i, (dx, dy) in zip(index, label_positions(points, sizes, frame)):
        far = np.hypot(dx, dy) > 14.0  # beyond the nearest ring: a leader line
        ax.annotate(
            str(i + 1),
            (x[i], y[i]),
            xytext=(dx, dy),
            textcoords="offset points",
            ha="center",
            va="center",
            fontsize=SMALL_FONT_SIZE,
            color=PALETTE["ink"],
            gid=f"number:{i + 1}",
            arrowprops=dict(arrowstyle="-", color=PALETTE["muted"], linewidth=0.4, shrinkA=0, shrinkB=3)
            if far
            else None,
        )
