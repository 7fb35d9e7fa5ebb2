"""The profile likelihood of α/β (``alpha_beta_profile.csv`` and its points), a panel per dose-response model,
with the α/β that Klement et al. estimated from tumour control data as reference bands.

Each panel draws the likelihood-ratio statistic 2 [ℓmax − ℓ(α/β)] over the grid (log axis), the χ²₁
cutoff of the interval's level, the likelihood-ratio interval on it, the estimate and the configured α/β.
The bands are Klement et al., Radiother Oncol 2017;123:218 (Bayesian tumour control probability over 62
studies): lung metastases 13–23 Gy, liver metastases 16–28 Gy, colorectal primaries 43 ± 4.7 Gy. Only draws
the tables' columns.
"""

from __future__ import annotations

import math
import textwrap

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sbrtmeta.plots.labels import level_text, site_title
from sbrtmeta.plots.style import FIGURE_WIDTH_IN, PALETTE, SMALL_FONT_SIZE, figure_style, message_figure

# (label, low, high, colour): Klement et al., Radiother Oncol 2017;123:218
KLEMENT_2017 = (
    ("lung metastases 13–23 Gy", 13.0, 23.0, PALETTE["sky"]),
    ("liver metastases 16–28 Gy", 16.0, 28.0, PALETTE["green"]),
    ("colorectal primaries 43 ± 4.7 Gy", 43.0 - 4.7, 43.0 + 4.7, PALETTE["orange"]),
)
KLEMENT_CITATION = "Klement et al., Radiother Oncol 2017;123:218"
TICKS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


def _gy(x: float) -> str:
    return f"{x:.2g}" if x < 10 else f"{x:.0f}"


def _interval_words(r) -> str:
    """``"α/β 17 Gy, LR 90% CI 8.9 to 33"``, or with open ends (``<1``, ``>100``) and "not identifiable"."""
    low = _gy(r.alpha_beta_ci_low) if r.ci_low_reached else f"<{_gy(r.alpha_beta_ci_low)}"
    high = _gy(r.alpha_beta_ci_high) if r.ci_high_reached else f">{_gy(r.alpha_beta_ci_high)}"
    words = f"α/β {_gy(r.alpha_beta)} Gy, LR {level_text(r.level)} CI {low} to {high}"
    return words if r.identifiable else words + ": not identifiable"


def _title(r) -> str:
    sites = r.profile.split(": ", 1)[-1].rsplit(" (", 1)[0]
    where = " + ".join(site_title(s) for s in sites.split(" + "))
    kind = "across sites, " if r.model == "across sites" else ""
    return f"{where} ({kind}{r.histology}), {int(r.k_arms)} arms"


def _panel(ax, r, points: pd.DataFrame) -> None:
    """One profile: the bands, the curve, the cutoff, the interval, the estimate and the configured α/β."""
    for _, low, high, colour in KLEMENT_2017:
        ax.axvspan(low, high, color=colour, alpha=0.22, lw=0)
    cutoff = float(r.lr_cutoff)
    dev = points["deviance"].to_numpy(float)
    top = max(2.0 * cutoff, min(float(dev.max()) * 1.05, 4.0 * cutoff))
    ax.plot(points["alpha_beta"], dev, color=PALETTE["ink"], lw=1.3, clip_on=True)
    ax.axhline(cutoff, color=PALETTE["muted"], lw=0.8, ls="--")
    colour = PALETTE["blue"] if r.identifiable else PALETTE["vermillion"]
    ax.plot(
        [r.alpha_beta_ci_low, r.alpha_beta_ci_high],
        [cutoff, cutoff],
        color=colour,
        lw=2.0,
        alpha=0.8,
        solid_capstyle="butt",
    )
    ax.plot([r.alpha_beta], [0.0], marker="o", ms=5, color=colour, clip_on=False, zorder=5)
    if math.isfinite(float(r.alpha_beta_fixed)):
        ax.axvline(float(r.alpha_beta_fixed), color=PALETTE["ink"], lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xlim(float(r.grid_low), float(r.grid_high))
    ax.set_ylim(0.0, top)
    ticks = [t for t in TICKS if r.grid_low <= t <= r.grid_high]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_title(_title(r), fontsize=SMALL_FONT_SIZE + 0.5, loc="left", pad=14)
    ax.text(
        0.0,
        1.02,
        _interval_words(r),
        transform=ax.transAxes,
        ha="left",
        va="bottom",
        fontsize=SMALL_FONT_SIZE,
        color=colour,
    )


def _legend(fig, r, top: float) -> None:
    handles = [Patch(facecolor=c, alpha=0.35, label=f"{label}") for label, _, _, c in KLEMENT_2017]
    handles += [
        Line2D([], [], color=PALETTE["muted"], ls="--", lw=0.8, label=f"{level_text(r.level)} cutoff (χ²₁)"),
        Line2D(
            [], [], color=PALETTE["ink"], ls=":", lw=0.8, label=f"configured α/β = {float(r.alpha_beta_fixed):g} Gy"
        ),
    ]
    fig.legend(
        handles=handles,
        loc="upper center",
        ncol=3,
        frameon=False,
        fontsize=SMALL_FONT_SIZE,
        bbox_to_anchor=(0.5, top),
        title=f"Reference bands: α/β estimated by {KLEMENT_CITATION}",
        title_fontsize=SMALL_FONT_SIZE,
    )


FOOTNOTE = (
    "Profile likelihood: at each α/β every arm's BED is recomputed from its printed dose and the dose-response "
    "model refitted by maximum likelihood; y: 2[ℓmax − ℓ(α/β)]. Bar: the likelihood-ratio interval (red: open "
    "at an end of the grid, α/β not identifiable); dot: the estimate."
)


def draw_alpha_beta_profile(table: pd.DataFrame, points: pd.DataFrame) -> Figure:
    """A panel per profile of ``table`` (``alpha_beta_profile.csv``; one row per model and site, the profile
    drawn once) from ``points`` (``alpha_beta_profile_points.csv``); a message figure when there is none."""
    if table.empty:
        return message_figure("No dose-response model was fitted, so there is no profile of α/β to draw.")
    rows = table.drop_duplicates("profile")
    n = len(rows)
    ncols = min(n, 2)
    nrows = math.ceil(n / ncols)
    panel_in, foot_in, head_in = 2.2, 1.05, 0.45
    height = nrows * (panel_in + head_in) + foot_in
    with figure_style():
        fig = Figure(figsize=(FIGURE_WIDTH_IN, height))
        FigureCanvasAgg(fig)
        axes = fig.subplots(nrows, ncols, squeeze=False)
        fig.subplots_adjust(
            left=0.09,
            right=0.98,
            top=1 - head_in / height,
            bottom=(foot_in + 0.35) / height,
            wspace=0.22,
            hspace=(head_in + 0.4) / panel_in,
        )
        for ax, r in zip(axes.flat, rows.itertuples(index=False)):
            _panel(ax, r, points[points["profile"] == r.profile])
            ax.set_xlabel("α/β (Gy, log scale)")
        for ax in list(axes.flat)[n:]:
            ax.set_visible(False)
        for ax in axes[:, 0]:
            ax.set_ylabel("Likelihood-ratio statistic")
        _legend(fig, rows.iloc[0], (foot_in - 0.05) / height)
        foot = "\n".join(textwrap.wrap(FOOTNOTE, 150))
        fig.text(0.01, 0.08 / height, foot, fontsize=SMALL_FONT_SIZE - 0.5, color=PALETTE["muted"], va="bottom")
    return fig
