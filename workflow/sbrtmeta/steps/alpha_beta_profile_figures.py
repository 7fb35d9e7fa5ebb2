"""The alpha_beta_profile_figures step: ``alpha_beta_profile.csv`` and its points in; the figure of the α/β
profiles out (:func:`sbrtmeta.plots.alpha_beta.draw_alpha_beta_profile`), or one saying why there is none.
It reads only tables (and ``dose_response.time``), so a ``figures.*`` change reruns it and not the profile
(:mod:`sbrtmeta.steps.alpha_beta_profile`)."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from sbrtmeta.analysis.dose_notes import NO_PROFILE_WITH_TIME_MODEL
from sbrtmeta.plots.alpha_beta import draw_alpha_beta_profile
from sbrtmeta.plots.style import message_figure


def alpha_beta_profile_figures(table: pd.DataFrame, points: pd.DataFrame, time: str = "timepoint") -> Figure:
    """The profiles of ``table`` drawn from ``points``; ``time`` is ``dose_response.time`` (``model`` has no
    profile, and the figure says so)."""
    if time == "model":
        return message_figure(NO_PROFILE_WITH_TIME_MODEL)
    return draw_alpha_beta_profile(table, points)
