"""Leave-one-out sensitivity plots: one figure per site, one block per pooled cell with k >= 3.

Each block shows the pooled estimate with its CI when each study is omitted in
turn (metafor's ``leave1out(res)``, computed by
:func:`sbrtmeta.stats.influence.leave1out` with the cell's τ² estimator and CI method,
back-transformed to %), then the estimate on all studies as a diamond, taken from
``pooled.csv``, with a vertical line through it.

:func:`leave_one_out_table` gives the numbers; :func:`draw_leave_one_out` draws that
table, so the numbers drawn are the numbers written to the table. Cells with more
than ``max_studies`` studies are not refitted k times: their block says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from matplotlib.transforms import blended_transform_factory

from sbrtmeta.plots.forest import (
    CI_LABELS,
    TAU2_LABELS,
    ci_text,
    endpoint_axis_label,
    percent_row_axis,
    select_rows,
    site_title,
)
from sbrtmeta.plots.style import FIGURE_WIDTH_IN, PALETTE, SMALL_FONT_SIZE, figure_style
from sbrtmeta.stats.effect_sizes import inverse_transform
from sbrtmeta.stats.influence import leave1out

MIN_K = 3
MAX_STUDIES = 100
ROW_IN = 0.18
PAD_IN = 0.08
GAP_IN = 0.2
PLOT_IN = 2.6
DIAMOND_HALF = 0.34
LOO_TAU2 = ("REML", "ML", "DL", "PM", "EB", "HE", "HS", "SJ", "FE")
COLUMNS = [
    "site",
    "histology",
    "endpoint",
    "timepoint_months",
    "row",
    "study_id",
    "label",
    "k",
    "estimate",
    "ci_low",
    "ci_high",
    "tau2",
    "i2",
    "tau2_method",
    "ci_method",
]


def site_slug(site: str) -> str:
    """``"lymph node"`` → ``"lymph_node"``: the site as it appears in file names."""
    return str(site).replace(" ", "_")


def sites_with_leave_one_out(pooled: pd.DataFrame, min_k: int = MIN_K) -> list[str]:
    """Sites with at least one pooled cell of ``min_k`` or more studies, sorted."""
    return sorted(pooled.loc[pooled["k"] >= min_k, "site"].unique())


def _cells(pooled: pd.DataFrame, site: str, min_k: int) -> pd.DataFrame:
    cells = pooled[(pooled["site"] == site) & (pooled["k"] >= min_k)]
    keys = [c for c in ("endpoint", "timepoint_months", "histology") if c in cells]
    return cells.sort_values(keys, kind="stable")


def leave_one_out_table(
    pooled: pd.DataFrame,
    studies: pd.DataFrame,
    site: str,
    min_k: int = MIN_K,
    max_studies: int = MAX_STUDIES,
    level: float | None = None,
) -> pd.DataFrame:
    """The leave-one-out estimates (proportions) of ``site``'s cells with ``min_k`` or more studies.

    Per cell: one row ``row="omitted"`` per study (the model without it), then a
    row ``row="all"`` with the estimate on all studies from ``pooled``. A cell with
    more than ``max_studies`` studies gets only its ``"all"`` row and one row
    ``row="not computed"``. Estimators leave1out does not offer fall back to REML
    (``tau2_method`` says which was used).
    """
    out = []
    level = level if level is not None else 0.95
    for cell in _cells(pooled, site, min_k).itertuples():
        group = select_rows(studies, cell.endpoint, cell.timepoint_months)
        group = group[group["site"] == site]
        if "histology" in group and hasattr(cell, "histology"):
            group = group[group["histology"] == cell.histology]
        key = dict(
            site=site,
            histology=getattr(cell, "histology", ""),
            endpoint=cell.endpoint,
            timepoint_months=float(cell.timepoint_months),
        )
        method = cell.tau2_method if cell.tau2_method in LOO_TAU2 else "REML"
        ci = cell.ci_method if cell.ci_method in ("knha", "z") else "z"
        k = len(group)
        if k > max_studies:
            out.append(
                dict(
                    key,
                    row="not computed",
                    study_id="",
                    label=f"k = {k} > {max_studies}",
                    k=k,
                    tau2_method=method,
                    ci_method=ci,
                )
            )
        else:
            transform = str(cell.transform)
            res = leave1out(group["yi"].to_numpy(float), group["vi"].to_numpy(float), method, ci, level)
            n = group["n"].to_numpy(float)
            for i, s in enumerate(group.itertuples()):
                rest = np.delete(n, i)
                back = [
                    float(inverse_transform(x, transform, rest))
                    for x in (res.estimate[i], res.ci_low[i], res.ci_high[i])
                ]
                out.append(
                    dict(
                        key,
                        row="omitted",
                        study_id=s.study_id,
                        label=str(s.label),
                        k=k - 1,
                        estimate=back[0],
                        ci_low=back[1],
                        ci_high=back[2],
                        tau2=float(res.tau2[i]),
                        i2=float(res.i2[i]),
                        tau2_method=method,
                        ci_method=ci,
                    )
                )
        out.append(
            dict(
                key,
                row="all",
                study_id="",
                label="All studies",
                k=int(cell.k),
                estimate=cell.estimate,
                ci_low=cell.ci_low,
                ci_high=cell.ci_high,
                tau2=cell.tau2,
                i2=cell.i2,
                tau2_method=cell.tau2_method,
                ci_method=cell.ci_method,
            )
        )
    return pd.DataFrame(out, columns=COLUMNS)


def _block_title(r, split: bool) -> str:
    title = endpoint_axis_label(r.endpoint, r.timepoint_months)
    hist = r.histology if isinstance(r.histology, str) else ""
    return f"{title}{f', {hist}' if split and hist else ''}"


def draw_leave_one_out(table: pd.DataFrame, site: str) -> Figure:
    """Draw :func:`leave_one_out_table`'s rows of ``site``. Returned unsaved."""
    rows_in = table[table["site"] == site]
    if rows_in.empty:
        raise ValueError(f"no cell of site {site!r} has {MIN_K} or more studies: no leave-one-out plot")
    split = True  # the histology is always named: a single one is not obvious
    rows = []  # dicts: kind, label, ci text, values
    for _, block in rows_in.groupby(["endpoint", "timepoint_months", "histology"], sort=False):
        first = block.iloc[0]
        full = block[block["row"] == "all"].iloc[0]
        rows.append(dict(kind="title", label=f"{_block_title(first, split)} (k = {int(full.k)})"))
        start = len(rows)
        for r in block.itertuples():
            if r.row == "omitted":
                rows.append(
                    dict(
                        kind="study",
                        label=f"Omitting {r.label}",
                        ci=ci_text(r.estimate, r.ci_low, r.ci_high),
                        est=r.estimate,
                        lo=r.ci_low,
                        hi=r.ci_high,
                    )
                )
            elif r.row == "not computed":
                rows.append(
                    dict(
                        kind="note",
                        label=f"{r.label} studies (figures.leave_one_out.max_studies): leave-one-out not computed",
                    )
                )
            else:
                rows.append(
                    dict(
                        kind="all",
                        label="All studies",
                        ci=ci_text(r.estimate, r.ci_low, r.ci_high),
                        est=r.estimate,
                        lo=r.ci_low,
                        hi=r.ci_high,
                        first=start,
                    )
                )
        rows.append(dict(kind="gap"))
    rows = rows[:-1]
    methods = sorted(set(zip(rows_in["tau2_method"].astype(str), rows_in["ci_method"].astype(str))))
    with figure_style():
        fig = Figure(figsize=(FIGURE_WIDTH_IN, 4))
        FigureCanvasAgg(fig)
        renderer = fig.canvas.get_renderer()
        ax = fig.add_axes((0, 0, 1, 1))
        at_row = blended_transform_factory(fig.dpi_scale_trans, ax.transData)
        left, right = [], []
        header = fig.text(
            0,
            -0.8,
            "Proportion, %\n[95% CI]",
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
        width = lambda ts: max((t.get_window_extent(renderer).width / fig.dpi for t in ts), default=0)  # noqa: E731
        w_left, w_right = width(left), width(right)
        fig_w = max(FIGURE_WIDTH_IN * 0.75, PAD_IN + w_left + GAP_IN + PLOT_IN + GAP_IN + w_right + PAD_IN)
        for t in right:
            t.set_x(fig_w - PAD_IN)
        plot_x0 = PAD_IN + w_left + GAP_IN
        plot_x1 = fig_w - PAD_IN - w_right - GAP_IN
        foot = [
            f"Each row: the model refitted without that study (metafor leave1out); "
            f"{'; '.join(f'{TAU2_LABELS.get(m, m)}, {CI_LABELS.get(c, c)}' for m, c in methods)}."
        ]
        omitted = rows_in[rows_in["row"] == "omitted"]
        if (omitted["ci_high"] - omitted["ci_low"] <= 1e-12).any():
            foot.append(
                "A CI of zero width: the remaining studies have identical estimates, so the "
                "Knapp-Hartung standard error is 0 (as in metafor)."
            )
        foot = "\n".join(foot)
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
        fig.text(
            PAD_IN / fig_w, 1 - 0.1 / fig_h, f"Leave-one-out analysis: {site_title(site)}", fontweight="bold", va="top"
        )
        study = [(y, r) for y, r in enumerate(rows) if r["kind"] == "study"]
        if study:
            ys = np.array([y for y, _ in study], dtype=float)
            get = lambda key: 100 * np.array([r[key] for _, r in study], dtype=float)  # noqa: E731
            ax.hlines(ys, get("lo"), get("hi"), color=PALETTE["ink"], linewidth=0.8, zorder=2, gid="loo-ci")
            ax.scatter(
                get("est"), ys, s=16, marker="s", color=PALETTE["ink"], linewidths=0, zorder=3, gid="loo-estimate"
            )
        for y, r in enumerate(rows):
            if r["kind"] == "all":
                est, lo, hi = 100 * r["est"], 100 * r["lo"], 100 * r["hi"]
                ax.add_patch(
                    Polygon(
                        [(lo, y), (est, y - DIAMOND_HALF), (hi, y), (est, y + DIAMOND_HALF)],
                        closed=True,
                        facecolor=PALETTE["blue"],
                        edgecolor=PALETTE["blue"],
                        linewidth=0.6,
                        zorder=3,
                        gid="all-studies",
                    )
                )
                ax.vlines(
                    est,
                    r["first"] - 0.5,
                    y - DIAMOND_HALF,
                    color=PALETTE["blue"],
                    linewidth=0.6,
                    linestyles=(0, (2, 2)),
                    zorder=1,
                )
        percent_row_axis(ax, n_rows, "Pooled proportion (%)")
    return fig
