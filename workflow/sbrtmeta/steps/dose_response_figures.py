"""The dose_response_figures step: the dose-response tables in; the bubble plot out
(:func:`sbrtmeta.plots.bubble.draw_dose_response`), or a figure saying why there is none.

It reads only tables: the arms (``dose_response_arms.csv``), the fits (``dose_response.csv``: each per-site
fit's target dose and its CI), their curves and bands (``dose_response_curves.csv``) and what the footnote
says of each fit (``dose_response_models.csv``), all written by the dose_response step
(:mod:`sbrtmeta.steps.dose_response`), and the ``dose_response`` config for the labels. So a ``figures.*``
change reruns this step and not the fits. ``workflow/scripts/dose_response_figures.py`` reads the tables,
calls it and saves the figure.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from sbrtmeta.analysis.dose_notes import PER_SITE, no_arms_reason
from sbrtmeta.plots.bubble import draw_dose_response
from sbrtmeta.plots.labels import DOSE_RULE_LABELS, dose_model_text
from sbrtmeta.plots.style import message_figure


def bubble_arms(used: pd.DataFrame, fitted: set) -> pd.DataFrame:
    """The arms the bubble plot draws: those of fitted sites (all arms, weight 1, if none was fitted)."""
    plotted = used[used["site_key"].isin(fitted)]
    if plotted.empty:  # nothing fitted: still show the arms
        plotted = used.assign(weight=1.0)
    return pd.DataFrame(
        {
            "site": plotted["site_key"],
            "study": plotted["study_id"],
            "bed10": plotted["bed10"],
            "lc": plotted["events"] / plotted["n"],
            "weight": plotted["weight"],
        }
    )


def target_doses(table: pd.DataFrame, models: pd.DataFrame) -> dict[str, dict]:
    """Site key -> the target dose of its per-site fit (``dose_response.csv``'s row of its site and histology):
    target_lc, bed_target and its CI, and whether the slope's CI excludes 0."""
    per_site = table[table["model"] == PER_SITE].set_index(["site", "histology"])
    out = {}
    for m in models.itertuples(index=False):
        r = per_site.loc[(m.site, m.histology)]
        out[m.site_key] = dict(
            target_lc=float(r["target_lc"]),
            bed_target=float(r["bed_target"]),
            bed_target_ci_low=float(r["bed_target_ci_low"]),
            bed_target_ci_high=float(r["bed_target_ci_high"]),
            slope_ci_excludes_zero=bool(float(r["slope_ci_low"]) > 0),
            level=float(r["level"]),
        )
    return out


def bubble_footnote(table: pd.DataFrame, models: pd.DataFrame, used: pd.DataFrame, dose: dict) -> str:
    """The model, the BED rule, converted arms and the sites not fitted, as one footnote."""
    fitted = set(models["site_key"])
    conv = int(used.loc[used["site_key"].isin(fitted), "converted"].sum())
    foot = ["; ".join(f"{m['site_key']}: {dose_model_text(m)}" for m in models.to_dict("records"))] if fitted else []
    foot.append(f"BED10 with α/β = {dose['alpha_beta']:g} Gy; one dose per arm: {DOSE_RULE_LABELS[dose['dose_rule']]}")
    if dose.get("time", "timepoint") == "model":
        t = float(dose["timepoint_months"])
        foot.append(f"points: each arm's rates at the months printed; curves: the model at {t:g} months")
    if conv:
        t = float(dose["timepoint_months"])
        foot.append(f"{conv} arm(s) converted to {t:g} months under a constant hazard, S(t) = S(t0)^(t/t0)")
    not_fitted = table[table["note"].fillna("").str.startswith("not fitted")]
    if len(not_fitted):
        foot.append(
            "not fitted (too few arms or a single dose; see dose_response.csv): "
            + ", ".join(f"{s} ({h})" for s, h in zip(not_fitted["site"], not_fitted["histology"]))
        )
    return "; ".join(foot)


def dose_response_figures(
    arms: pd.DataFrame, table: pd.DataFrame, curves: pd.DataFrame, models: pd.DataFrame, dose: dict
) -> Figure:
    """The bubble plot of ``arms`` with the fitted ``curves`` and each fit's target dose (``table``), or a figure
    saying why there is none; ``dose`` is the ``dose_response`` config (endpoint, time point, level, α/β, rule)."""
    if arms.empty:
        return message_figure(no_arms_reason(dose))
    tcp = target_doses(table, models)
    return draw_dose_response(
        bubble_arms(arms, set(tcp)),
        curves.rename(columns={"site_key": "site"}) if not curves.empty else None,
        tcp or None,
        footnote=bubble_footnote(table, models, arms, dose),
        timepoint_months=float(dose["timepoint_months"]),
        endpoint=dose["endpoint"],
        level=float(dose["level"]),
    )
