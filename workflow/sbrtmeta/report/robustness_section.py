"""The robustness section of summary.md (issue 15): GOSH and the multiverse, from their tables.

A pure function of ``gosh_studies.csv`` and ``multiverse_summary.csv`` to Markdown lines; a
table that is absent (the analysis switched off) or empty is said so, not an error.
"""

from __future__ import annotations

import pandas as pd

from sbrtmeta.plots.labels import CHOICE_LABELS, TAU2_LABELS, TRANSFORM_LABELS, site_title

# Choices the multiverse does not cross, and why (said in summary.md).
NOT_CROSSED = (
    "α/β is not crossed: it enters only BED10 (the dose-response), not the pooled rates. "
    "Publication-year windows and pooling every arm of a study are not crossed either: the inclusion "
    "criteria have no year window, and arms of one study are not independent studies (one row per study)."
)


def _cell(r) -> str:
    return f"{site_title(r.site, r.histology)} {r.endpoint} {float(r.timepoint_months):g} m"


def _pts(x: float) -> str:
    return f"{100 * x:+.1f}"


def gosh_lines(shifts: pd.DataFrame | None) -> list[str]:
    """The GOSH paragraph and table: per cell, k, the subsets fitted and the studies that shift most."""
    out = ["## Robustness: GOSH", ""]
    if shifts is None:
        return out + ["GOSH is switched off (robustness.gosh.enabled).", ""]
    if shifts.empty:
        return out + ["No pooled cell has three or more studies: no GOSH.", ""]
    first = shifts.iloc[0]
    transform = TRANSFORM_LABELS.get(first["transform"], first["transform"]).lower()
    tau2 = TAU2_LABELS.get(first["tau2_method"], first["tau2_method"])
    out += [
        "Every subset of the studies of each pooled cell with three or more studies was fitted (as metafor's "
        f"`gosh()`: {transform}, {tau2}); a cell with more than "
        "robustness.gosh.exhaustive_max subsets gets a seeded random sample. Per study: the mean pooled rate "
        "and mean I² of the subsets with it minus those without it (results/tables/gosh_studies.csv).",
        "",
        "| Cell | k | Subsets | Largest shift of the rate | Largest shift of I² |",
        "|---|---|---|---|---|",
    ]
    for _, cell in shifts.groupby("cell", sort=False):
        r = cell.iloc[0]
        rate = cell.loc[cell["rate_shift"].abs().idxmax()]
        i2 = cell.loc[cell["i2_shift"].abs().idxmax()]
        how = "sample of " if bool(r.sampled) else "all "
        out.append(
            f"| {_cell(r)} | {int(r.k)} | {how}{int(r.subsets):,} | {rate.label}: {_pts(rate.rate_shift)} points | "
            f"{i2.label}: {i2.i2_shift:+.1f} points |"
        )
    return out + [""]


def _choice(name: str) -> str:
    return CHOICE_LABELS.get(name, name).lower() if name and name != "none" else "none"


def _spread(r) -> str:
    """``4.3 points: PLO 81.2%; PR 85.5%``, or that no choice moves the estimate."""
    levels = r.influential_levels if isinstance(r.influential_levels, str) and r.influential_levels else ""
    if not levels or not r.influential_range > 0:
        return f"{100 * r.influential_range:.1f} points: every choice gives the same estimate"
    return f"{100 * r.influential_range:.1f} points: {levels}"


def multiverse_lines(summary: pd.DataFrame | None) -> list[str]:
    """The multiverse paragraph and table: per pooled cell, the share of specifications within the
    equivalence margin of the main analysis and the choice that moves the estimate most."""
    out = ["## Robustness: multiverse", ""]
    if summary is None:
        return out + ["The multiverse is switched off (robustness.multiverse.enabled).", ""]
    fits = summary[(summary["k_main"] >= 2) & (summary["specs"] > 0)]
    if fits.empty:
        return out + ["No cell of the main analysis was pooled from two or more studies: no multiverse summary.", ""]
    margin = float(fits["margin"].iloc[0])
    total = int(fits["total_specs"].iloc[0])
    within = fits["specs_within"].sum() / fits["specs"].sum()
    top = fits["most_influential_choice"].value_counts()
    widest = fits.loc[fits["influential_range"].idxmax()]
    out += [
        f"{total:,} specifications (robustness.multiverse) each pooled every cell. Over the {len(fits)} cells "
        f"pooled from two or more studies in the main analysis, {100 * within:.0f}% of the specification "
        f"estimates lie within ±{100 * margin:g} percentage points of the main analysis (the clinically "
        f"equivalent range, robustness.multiverse.equivalence_margin). The choice that moves the estimate most "
        f"(the widest spread of its levels' mean estimates) is {_choice(top.index[0])} in {int(top.iloc[0])} of "
        f"{len(fits)} cells; the widest spread is {_choice(widest.most_influential_choice)} in "
        f"{_cell(widest)} ({_spread(widest)}). " + NOT_CROSSED,
        "",
        "| Cell | k | Main (%) | Specifications | Within ±margin | Range of estimates (%) | Moves it most |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in fits.itertuples():
        out.append(
            f"| {_cell(r)} | {int(r.k_main)} | {100 * r.main_estimate:.1f} | {int(r.specs):,} | "
            f"{100 * r.share_within:.0f}% | {100 * r.min_estimate:.1f}–{100 * r.max_estimate:.1f} | "
            f"{_choice(r.most_influential_choice)} ({100 * r.influential_range:.1f} points) |"
        )
    single = summary[(summary["k_main"] < 2) & (summary["specs"] > 0)]
    if len(single):
        share = single["specs_within"].sum() / single["specs"].sum()
        out += [
            "",
            f"Single-study cells ({len(single)}): {100 * share:.0f}% of their specifications within the margin.",
        ]
    return out + [""]


def robustness_section(gosh: pd.DataFrame | None, multiverse: pd.DataFrame | None) -> list[str]:
    """Both parts, GOSH first."""
    return gosh_lines(gosh) + multiverse_lines(multiverse)
