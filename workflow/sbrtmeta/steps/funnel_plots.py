"""The funnel-plot step: small-study tests of every pooled cell, drawn as funnel plots.

:func:`funnel_plots` runs Egger's test and trim and fill per site
(:func:`sbrtmeta.analysis.small_study.funnel_panels`) and draws each endpoint × time point
(:func:`sbrtmeta.plots.funnel.draw_funnel`); ``workflow/scripts/funnel_plots.py`` saves them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from matplotlib.figure import Figure

from sbrtmeta.analysis.small_study import MAX_TRIMFILL_K, funnel_panels
from sbrtmeta.data.cells import cell_stem, pooled_cells
from sbrtmeta.plots.funnel import draw_funnel


def funnel_plots(
    pooled: pd.DataFrame,
    studies: pd.DataFrame,
    endpoints: list[str],
    max_trimfill: int = MAX_TRIMFILL_K,
    predictor: str = "sei",
    axis: str = "standard_error",
    min_studies: dict | None = None,
) -> Iterator[tuple[str, Figure]]:
    """``(stem, figure)`` of the funnel plot of every endpoint × time point with a cell of
    ``min_studies["plot"]`` or more studies (none elsewhere: no placeholder image), with the regression
    test's ``predictor``, the vertical ``axis`` and ``min_studies`` of config ``sensitivity.funnel``."""
    for endpoint, t in pooled_cells(pooled, endpoints):
        panels = funnel_panels(
            pooled,
            studies,
            endpoint,
            t,
            max_trimfill=max_trimfill,
            predictor=predictor,
            axis=axis,
            min_studies=min_studies,
        )
        if len(panels.panels):
            yield cell_stem("funnel", endpoint, t), draw_funnel(panels, endpoint, t)
