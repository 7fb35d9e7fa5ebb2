"""Pooled survival curves: one figure per site × endpoint, drawn from the curve tables.

Each histology of the site gets its colour: the pooled curve (solid within the printed
time points, dashed beyond), its confidence band (darker) and prediction band (lighter),
and each study's printed rates as points joined by a line, the point area proportional to
the rate's weight in the model. A histology without a curve shows its per-time-point
pooled estimates with their CIs instead. Only the columns of ``survival_curves.csv`` and
``curve_studies.csv`` are used.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sbrtmeta.plots.labels import endpoint_name, level_text, site_title
from sbrtmeta.plots.style import CYCLE, FIGURE_WIDTH_IN, PALETTE, SMALL_FONT_SIZE, figure_style

_MAX_AREA = 140.0  # points^2 of the heaviest rate


def _stem(site: str, endpoint: str) -> str:
    return f"curve_{site.replace(' ', '_')}_{endpoint}"


def _draw_histology(ax, colour, curve: pd.DataFrame, studies: pd.DataFrame, wmax: float) -> str:
    """One histology's band, curve and study lines; returns its legend text."""
    fitted = curve["method"].str.startswith("curve model").any()
    for _, s in studies.groupby(["study_id", "arm"], sort=True):
        s = s.sort_values("timepoint_months")
        w = s["weight_pct"].to_numpy(float)
        size = np.where(np.isfinite(w), _MAX_AREA * w / wmax, 12.0) if wmax > 0 else np.full(len(s), 12.0)
        ax.plot(s["timepoint_months"], 100 * s["rate"], color=colour, lw=0.6, alpha=0.45, zorder=2)
        ax.scatter(
            s["timepoint_months"],
            100 * s["rate"],
            s=size,
            color=colour,
            alpha=0.45,
            edgecolor="white",
            lw=0.4,
            zorder=3,
        )
    if fitted:
        c = curve.sort_values("month").astype(
            {k: float for k in ("month", "estimate", "ci_low", "ci_high", "pi_low", "pi_high")}
        )
        m = c["month"].to_numpy(float)
        ax.fill_between(m, 100 * c["pi_low"], 100 * c["pi_high"], color=colour, alpha=0.10, lw=0, zorder=1)
        ax.fill_between(m, 100 * c["ci_low"], 100 * c["ci_high"], color=colour, alpha=0.25, lw=0, zorder=1)
        inside = c["within_data"].astype(bool).to_numpy()
        est = 100 * c["estimate"].to_numpy(float)
        ax.plot(m, np.where(inside, est, np.nan), color=colour, lw=1.6, zorder=4)
        ax.plot(m, est, color=colour, lw=1.2, ls=(0, (3, 2)), zorder=4)
        return "curve model"
    c = curve.sort_values("month")
    ax.errorbar(
        c["month"],
        100 * c["estimate"],
        yerr=[100 * (c["estimate"] - c["ci_low"]), 100 * (c["ci_high"] - c["estimate"])],
        fmt="D",
        ms=4,
        color=colour,
        capsize=2,
        lw=1.0,
        zorder=4,
    )
    return "per-time-point pooling (no curve)"


def _model_note(hist: str, rows: pd.DataFrame) -> str:
    """The footnote of one fitted histology: f(t), structure, τ² (per time point for HCS), ρ,
    and a slope at its bound."""
    mod = rows.iloc[0]
    f = {"log": "ln t", "linear": "t"}.get(mod["time_function"], mod["time_function"])
    rho = "" if pd.isna(mod["rho"]) else f", ρ = {float(mod['rho']):.2f}"
    per_time = rows[rows["term"] == "tau2"]
    if per_time.empty:
        tau2 = f"τ² = {float(mod['tau2']):.3g}"
    else:
        tau2 = "τ² = " + ", ".join(
            f"{float(v):.3g} at {float(t):g}" for t, v in zip(per_time["tau2_month"], per_time["tau2"])
        )
        tau2 += " months"
    bound = isinstance(mod["reason"], str) and "at its bound" in mod["reason"]
    flat = f"; slope of {f} at its bound 0 (the unconstrained fit rose): flat" if bound else ""
    return f"{hist}: logit S(t) on {f}, {mod['struct']}, {tau2}{rho}{flat}"


def curve_figure(site: str, endpoint: str, curves: pd.DataFrame, studies: pd.DataFrame, models: pd.DataFrame) -> Figure:
    """The figure of one site × endpoint (all its histologies in one panel)."""
    with figure_style():
        fig = Figure(figsize=(FIGURE_WIDTH_IN * 0.62, 4.05))
        FigureCanvasAgg(fig)
        ax = fig.add_axes([0.13, 0.40, 0.84, 0.53])
        handles, foot, between = [], [], []
        wmax = float(np.nanmax(studies["weight_pct"])) if studies["weight_pct"].notna().any() else 0.0
        for j, (hist, cur) in enumerate(curves.groupby("histology", sort=True)):
            colour = CYCLE[j % len(CYCLE)]
            st = studies[studies["histology"] == hist]
            how = _draw_histology(ax, colour, cur, st, wmax)
            k = st["study_id"].nunique()
            handles.append(Line2D([], [], color=colour, lw=1.6, label=f"{hist}: {how}, {k} studies, {len(st)} rates"))
            rows = models[models["histology"] == hist]
            mod = rows.iloc[0]
            if mod["status"] == "fitted":
                foot.append(_model_note(hist, rows))
                if int(mod["n_studies_several_times"]) == 0:
                    between.append(hist)
            else:
                foot.append(f"{hist}: no curve ({mod['reason']})")
        lvl = level_text(float(models["level"].iloc[0]))  # curves.level
        handles += [
            Patch(color=PALETTE["muted"], alpha=0.45, lw=0, label=f"{lvl} CI"),
            Patch(color=PALETTE["muted"], alpha=0.15, lw=0, label=f"{lvl} prediction interval"),
            Line2D([], [], color=PALETTE["muted"], ls=(0, (3, 2)), label="beyond the printed time points"),
        ]
        ax.set_xlim(0, max(60.0, float(curves["month"].max()) + 3))
        ax.set_ylim(0, 100)
        ax.set_xlabel("Months after SBRT")
        ax.set_ylabel(f"{endpoint_name(endpoint)} (%)")
        title = f"{site_title(site)}: {endpoint_name(endpoint).lower()} over time"
        if between:
            title += (
                f"\nBetween studies only ({', '.join(between)}): no study prints two time points,"
                "\nso the slope compares different studies at different months"
            )
        if between:
            ax.set_position([0.13, 0.40, 0.84, 0.45])
        ax.set_title(title, color=PALETTE["vermillion"] if between else PALETTE["ink"])
        ax.grid(axis="y", color=PALETTE["rule"], lw=0.5)
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(-0.1, -0.16),
            frameon=False,
            fontsize=SMALL_FONT_SIZE - 0.5,
        )
        fig.text(
            0.02,
            0.02,
            "\n".join(
                textwrap.fill(line, 96, subsequent_indent="  ")
                for line in foot
                + ["Points: each study's printed rates, joined per cohort; area ∝ weight in the model."]
            ),
            fontsize=SMALL_FONT_SIZE - 0.5,
            color=PALETTE["muted"],
            va="bottom",
        )
    return fig


def curve_figures(curves: pd.DataFrame, studies: pd.DataFrame, models: pd.DataFrame):
    """``(stem, figure)`` for each site × endpoint with at least one fitted curve."""
    if curves.empty:
        return []
    fitted = models[models["status"] == "fitted"]
    out = []
    for (site, endpoint), _ in fitted.groupby(["site", "endpoint"], sort=True):
        parts = [f[(f["site"] == site) & (f["endpoint"] == endpoint)] for f in (curves, studies, models)]
        out.append((_stem(site, endpoint), curve_figure(site, endpoint, *parts)))
    return out
