"""The alpha_beta_profile step (``dose_response.alpha_beta_mode: profile``): the dose-response arms in; the
profile likelihood of α/β per model (:func:`sbrtmeta.analysis.alpha_beta.profile_alpha_beta_table`) and its
points out. The figure is drawn from these tables by the alpha_beta_profile_figures step
(:func:`sbrtmeta.steps.alpha_beta_profile_figures.alpha_beta_profile_figures`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

from sbrtmeta.analysis.alpha_beta import POINT_COLUMNS, PROFILE_COLUMNS, profile_alpha_beta_table
from sbrtmeta.analysis.dose_notes import NO_PROFILE_WITH_TIME_MODEL


@dataclass(frozen=True)
class AlphaBetaOutputs:
    """``alpha_beta_profile.csv`` and ``alpha_beta_profile_points.csv``."""

    table: pd.DataFrame
    points: pd.DataFrame


def alpha_beta_profile(arms: pd.DataFrame, dose: dict, log: logging.Logger | None = None) -> AlphaBetaOutputs:
    """The α/β profiles of the arms of ``dose_response_arms.csv`` under the ``dose_response`` config ``dose``.
    The dose x time model (``time: model``) has no profile: the tables are empty and the log says why."""
    log = log or logging.getLogger(__name__)
    empty = AlphaBetaOutputs(pd.DataFrame(columns=list(PROFILE_COLUMNS)), pd.DataFrame(columns=list(POINT_COLUMNS)))
    if dose["time"] == "model":
        log.warning("%s", NO_PROFILE_WITH_TIME_MODEL)
        return empty
    if arms.empty:
        log.warning("no dose-response arms: no α/β profile")
        return empty
    table, points = profile_alpha_beta_table(arms, dose)
    for r in table.drop_duplicates("profile").itertuples():
        log.info(
            "%s: alpha/beta %.3g Gy, LR %g%% interval %.3g-%.3g Gy (%s); LR test of %g Gy p = %.3g",
            *(r.profile, r.alpha_beta, 100 * r.level, r.alpha_beta_ci_low, r.alpha_beta_ci_high),
            *("identifiable" if r.identifiable else "not identifiable", r.alpha_beta_fixed, r.p_fixed),
        )
    return AlphaBetaOutputs(table, points)
