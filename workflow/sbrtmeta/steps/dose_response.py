"""The dose-response step: tidy outcomes in; the dose-response tables and the bubble plot out.

:func:`dose_response` selects the arms (:func:`sbrtmeta.analysis.dose_arms.select_dose_arms`),
fits the per-site and across-site models (:func:`sbrtmeta.analysis.dose_response.analyse_dose_response`)
and draws them (:func:`sbrtmeta.plots.bubble.draw_dose_response`). With no arm to fit it says
so in every output rather than fail the workflow. ``workflow/scripts/dose_response.py`` only
reads the outcomes, calls it and writes what it returns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

from sbrtmeta.analysis.dose_arms import select_dose_arms
from sbrtmeta.analysis.dose_response import TABLE_COLUMNS, DoseAnalysis, analyse_dose_response
from sbrtmeta.plots.bubble import draw_dose_response
from sbrtmeta.plots.labels import DOSE_RULE_LABELS, dose_model_text
from sbrtmeta.plots.style import message_figure


@dataclass(frozen=True)
class DoseResponseOutputs:
    """``dose_response.csv``, ``dose_response_arms.csv``, ``dose_response_left_out.csv`` and the figure."""

    table: pd.DataFrame
    arms: pd.DataFrame
    left_out: pd.DataFrame
    figure: Figure


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


def bubble_footnote(a: DoseAnalysis, used: pd.DataFrame, dose: dict) -> str:
    """The model, the BED rule, converted arms and the sites not fitted, as one footnote."""
    fitted = set(a.tcp)
    conv = int(used.loc[used["site_key"].isin(fitted), "converted"].sum())
    foot = ["; ".join(f"{key}: {dose_model_text(m)}" for key, m in a.models.items())] if a.models else []
    foot.append(f"BED10 with α/β = {dose['alpha_beta']:g} Gy; one dose per arm: {DOSE_RULE_LABELS[dose['dose_rule']]}")
    if dose.get("time", "timepoint") == "model":
        t = float(dose["timepoint_months"])
        foot.append(f"points: each arm's rates at the months printed; curves: the model at {t:g} months")
    if conv:
        t = float(dose["timepoint_months"])
        foot.append(f"{conv} arm(s) converted to {t:g} months under a constant hazard, S(t) = S(t0)^(t/t0)")
    not_fitted = a.table[a.table["note"].fillna("").str.startswith("not fitted")]
    if len(not_fitted):
        foot.append(
            "not fitted (too few arms or a single dose; see dose_response.csv): "
            + ", ".join(f"{s} ({h})" for s, h in zip(not_fitted["site"], not_fitted["histology"]))
        )
    return "; ".join(foot)


def _time_model(dose: dict, curves: dict | None) -> dict | None:
    """The options of the dose x time model, or None for the single-time-point analysis."""
    if dose.get("time", "timepoint") != "model":
        return None
    c = curves or {}
    return dict(
        timepoint=float(dose["timepoint_months"]),
        time_function=c.get("time_function", "log"),
        spline_df=int(c.get("spline_df", 3)),
        struct=c.get("struct", "CAR"),
    )


def _nothing_to_fit(arms: pd.DataFrame, left_out: pd.DataFrame, dose: dict, log) -> DoseResponseOutputs:
    t, tol = float(dose["timepoint_months"]), float(dose["tolerance_months"])
    why = (
        f"No arm has a dose, {dose['endpoint']} at {t:g} months (tolerance {tol:g}) and a sample size, so "
        "there is no dose-response to fit. Widen dose_response.tolerance_months or set "
        "convert_timepoint: true; dose_response_left_out.csv says why each arm was left out."
    )
    log.warning("%s", why)
    return DoseResponseOutputs(pd.DataFrame(columns=list(TABLE_COLUMNS)), arms, left_out, message_figure(why))


def _log_fits(log, a: DoseAnalysis, used: pd.DataFrame, left_out: pd.DataFrame, dose: dict) -> None:
    log.info(
        "%d arms used (%d converted to %g months), %d left out; alpha/beta %g Gy, rule %s",
        len(used),
        int(used["converted"].sum()),
        float(dose["timepoint_months"]),
        len(left_out),
        dose["alpha_beta"],
        dose["dose_rule"],
    )
    for r in a.table.itertuples():
        if pd.isna(r.bed50) and pd.isna(r.slope):
            log.info("%s %s (%s): %s", r.model, r.site, r.histology, r.note)
            continue
        log.info(
            "%s %s (%s): k = %d arms, %d studies; slope %.3f (p = %.3g); BED50 %.1f Gy [%.1f, %.1f]; "
            "gamma50 %.2f; BED%g %.1f Gy [%.1f, %.1f] (bootstrap [%.1f, %.1f]) %s",
            *(r.model, r.site, r.histology, r.k_arms, r.n_studies, r.slope, r.slope_p),
            *(r.bed50, r.bed50_ci_low, r.bed50_ci_high, r.gamma50, 100 * r.target_lc),
            *(r.bed_target, r.bed_target_ci_low, r.bed_target_ci_high, r.bed_target_boot_low, r.bed_target_boot_high),
            r.note,
        )


def dose_response(
    outcomes: pd.DataFrame,
    dose: dict,
    inclusion: dict,
    histology: str = "review",
    log: logging.Logger | None = None,
    curves: dict | None = None,
    risk_of_bias: dict | None = None,
) -> DoseResponseOutputs:
    """The dose-response tables and figure from the tidy ``outcomes``.

    ``dose`` is the ``dose_response`` config (``tau2_method``, ``ci_method``, bootstrap,
    ``time``, ...), ``inclusion`` the ``inclusion`` config and ``histology``
    ``pooling.histology``; ``curves`` the ``curves`` config, whose f(t) and struct the dose x
    time model (``dose["time"] == "model"``) uses; ``risk_of_bias`` each study's overall
    judgement, for ``inclusion.max_risk_of_bias``.
    """
    log = log or logging.getLogger(__name__)
    arms, left_out = select_dose_arms(outcomes, inclusion, dose, histology, risk_of_bias)
    if arms.empty:
        return _nothing_to_fit(arms, left_out, dose, log)
    a = analyse_dose_response(
        arms,
        scale=dose["scale"],
        tau2_method=dose["tau2_method"],
        ci_method=dose["ci_method"],
        level=dose["level"],
        target_lc=dose["target_lc"],
        min_arms=dose["min_arms"],
        n_boot=dose["bootstrap"]["replicates"],
        seed=dose["bootstrap"]["seed"],
        alpha_beta=dose["alpha_beta"],
        dose_rule=dose["dose_rule"],
        boot_max_arms=dose["bootstrap"].get("max_arms", 200),
        time_model=_time_model(dose, curves),
    )
    used = a.arms.assign(alpha_beta=float(dose["alpha_beta"])).rename(columns={"bed": "bed10"})
    fig = draw_dose_response(
        bubble_arms(used, set(a.tcp)),
        a.curves if not a.curves.empty else None,
        a.tcp or None,
        footnote=bubble_footnote(a, used, dose),
        timepoint_months=float(dose["timepoint_months"]),
        endpoint=dose["endpoint"],
        level=float(dose["level"]),
    )
    _log_fits(log, a, used, left_out, dose)
    return DoseResponseOutputs(a.table, used, left_out, fig)
