"""The curve_figures step: the curve tables (``survival_curves.csv``, ``curve_studies.csv``,
``curve_models.csv``) in; a figure per site × endpoint with a fitted curve out
(:func:`sbrtmeta.plots.curves.curve_figures`). It reads only tables, so a ``figures.*`` change
reruns it and not the curve fits (the curves step, :mod:`sbrtmeta.steps.curves`).
``workflow/scripts/curve_figures.py`` reads the tables, calls it and saves what it returns.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from sbrtmeta.plots import curves as curve_plots


def curve_figures(curves: pd.DataFrame, studies: pd.DataFrame, models: pd.DataFrame) -> list[tuple[str, Figure]]:
    """``(stem, figure)`` per site × endpoint with at least one fitted curve (none when nothing was fitted)."""
    return curve_plots.curve_figures(curves, studies, models)
