"""The alpha_beta_profile step (``dose_response.alpha_beta_mode: profile``): the dose-response arms in; the
profile likelihood of α/β per model (:func:`sbrtmeta.analysis.alpha_beta.profile_alpha_beta_table`), its
points and its figure (:func:`sbrtmeta.plots.alpha_beta.draw_alpha_beta_profile`) out."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

from sbrtmeta.analysis.alpha_beta import POINT_COLUMNS, PROFILE_COLUMNS, profile_alpha_beta_table
from sbrtmeta.plots.alpha_beta import draw_alpha_beta_profile
from sbrtmeta.plots.style import message_figure


@dataclass(frozen=True)
class AlphaBetaOutputs:
    """``alpha_beta_profile.csv``, ``alpha_beta_profile_points.csv`` and the figure."""

    table: pd.DataFrame
    points: pd.DataFrame
    figure: Figure


def alpha_beta_profile(arms: pd.DataFrame, dose: dict, log: logging.Logger | None = None) -> AlphaBetaOutputs:
    """The α/β profiles of the arms of ``dose_response_arms.csv`` under the ``dose_response`` config ``dose``.
    The dose x time model (``time: model``) has no profile: the tables are empty and the figure says why."""
    log = log or logging.getLogger(__name__)
    empty = pd.DataFrame(columns=list(PROFILE_COLUMNS)), pd.DataFrame(columns=list(POINT_COLUMNS))
    if dose["time"] == "model":
        why = (
            "The α/β profile is computed for the single-time-point dose-response model only "
            "(dose_response.time: timepoint); with time: model it is not computed."
        )
        log.warning("%s", why)
        return AlphaBetaOutputs(*empty, message_figure(why))
    if arms.empty:
        log.warning("no dose-response arms: no α/β profile")
        return AlphaBetaOutputs(*empty, draw_alpha_beta_profile(empty[0], empty[1]))
    table, points = profile_alpha_beta_table(arms, dose)
    for r in table.drop_duplicates("profile").itertuples():
        log.info(
            "%s: alpha/beta %.3g Gy, LR %g%% interval %.3g-%.3g Gy (%s); LR test of %g Gy p = %.3g",
            *(r.profile, r.alpha_beta, 100 * r.level, r.alpha_beta_ci_low, r.alpha_beta_ci_high),
            *("identifiable" if r.identifiable else "not identifiable", r.alpha_beta_fixed, r.p_fixed),
        )
    return AlphaBetaOutputs(table, points, draw_alpha_beta_profile(table, points))
