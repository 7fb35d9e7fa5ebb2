"""The words a dose-response step and its figure share: the models of dose_response.csv, and why nothing is
fitted.

The statistics job (rule ``dose_response`` or ``alpha_beta_profile``) writes the table's models, or logs the
reason and writes empty tables; the drawing job (``dose_response_figures``, ``alpha_beta_profile_figures``)
selects those models and draws the same words from the config alone. They live here, with no estimator
imported, so that the drawing job loads none.
"""

from __future__ import annotations

# dose_response.csv's column model: the fit per site, and the one across sites (site as moderator)
PER_SITE, ACROSS_SITES = "per site", "across sites"

# dose_response.time: model has no α/β profile (analysis.alpha_beta profiles the single-time-point model)
NO_PROFILE_WITH_TIME_MODEL = (
    "The α/β profile is computed for the single-time-point dose-response model only "
    "(dose_response.time: timepoint); with time: model it is not computed."
)


def no_arms_reason(dose: dict) -> str:
    """Why there is no dose-response to fit when no arm qualifies, and what to change (``dose``: the
    ``dose_response`` config)."""
    t, tol = float(dose["timepoint_months"]), float(dose["tolerance_months"])
    return (
        f"No arm has a dose, {dose['endpoint']} at {t:g} months (tolerance {tol:g}) and a sample size, so "
        "there is no dose-response to fit. Widen dose_response.tolerance_months or set "
        "convert_timepoint: true; dose_response_left_out.csv says why each arm was left out."
    )
