"""The dose-response step: tidy outcomes in; the dose-response tables out.

:func:`dose_response` selects the arms (:func:`sbrtmeta.analysis.dose_arms.select_dose_arms`) and fits
the per-site and across-site models (:func:`sbrtmeta.analysis.dose_response.analyse_dose_response`).
Besides ``dose_response.csv`` and the arms it writes what only the figure reads: each per-site fit's
curve with its bands over the BED10 grid (``dose_response_curves.csv``, :data:`CURVE_COLUMNS`) and what
the figure's footnote says of that fit (``dose_response_models.csv``, :data:`MODEL_COLUMNS`); the
dose_response_figures step (:mod:`sbrtmeta.steps.dose_response_figures`) draws the bubble plot from the
tables alone. With no arm to fit it says so in the log and writes empty tables rather than fail the
workflow. ``workflow/scripts/dose_response.py`` only reads the outcomes, calls it and writes what it
returns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

from sbrtmeta.analysis.dose_arms import select_dose_arms
from sbrtmeta.analysis.dose_notes import no_arms_reason
from sbrtmeta.analysis.dose_response import TABLE_COLUMNS, DoseAnalysis, analyse_dose_response

# dose_response_curves.csv: per fitted site (site_key, the figure's label) the fitted LC over the BED10 grid,
# its confidence and prediction bands (proportions) and their logit-scale values
# (:func:`sbrtmeta.stats.dose_response.dose_curve`)
CURVE_COLUMNS = (
    "site_key",
    "bed10",
    "logit",
    "se",
    "lc",
    "ci_low",
    "ci_high",
    "pi_low",
    "pi_high",
    "logit_ci_low",
    "logit_ci_high",
    "logit_pi_low",
    "logit_pi_high",
)
# dose_response_models.csv: a row per per-site fit the figure draws (site_key; its site and histology name its
# row of dose_response.csv), the fit as :func:`sbrtmeta.stats.dose_response.model_description` gives it
MODEL_COLUMNS = (
    "site_key",
    "site",
    "histology",
    "multilevel",
    "time_model",
    "scale",
    "site_moderator",
    "ci_method",
    "df",
    "tau2_method",
    "level",
    "k",
    "n_studies",
    "n_arms",
    "study_effect",
    "struct",
    "timepoint",
)


@dataclass(frozen=True)
class DoseResponseOutputs:
    """``dose_response.csv``, ``dose_response_arms.csv``, ``dose_response_left_out.csv``,
    ``dose_response_curves.csv`` and ``dose_response_models.csv``."""

    table: pd.DataFrame
    arms: pd.DataFrame
    left_out: pd.DataFrame
    curves: pd.DataFrame
    models: pd.DataFrame


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
    log.warning("%s", no_arms_reason(dose))
    return DoseResponseOutputs(pd.DataFrame(columns=list(TABLE_COLUMNS)), arms, left_out, *_figure_tables(None, arms))


def _figure_tables(a: DoseAnalysis | None, used: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``dose_response_curves.csv`` and ``dose_response_models.csv`` of the analysis ``a`` (empty, with their
    columns, when nothing was fitted)."""
    if a is None or not a.models:
        return pd.DataFrame(columns=list(CURVE_COLUMNS)), pd.DataFrame(columns=list(MODEL_COLUMNS))
    curves = a.curves.rename(columns={"site": "site_key"}).reindex(columns=list(CURVE_COLUMNS))
    keyed = used.drop_duplicates("site_key").set_index("site_key")
    models = pd.DataFrame(
        [
            dict(site_key=key, site=keyed.at[key, "site"], histology=keyed.at[key, "histology"], **description)
            for key, description in a.models.items()
        ]
    ).reindex(columns=list(MODEL_COLUMNS))
    return curves, models


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
    """The dose-response tables from the tidy ``outcomes``.

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
    _log_fits(log, a, used, left_out, dose)
    return DoseResponseOutputs(a.table, used, left_out, *_figure_tables(a, used))
