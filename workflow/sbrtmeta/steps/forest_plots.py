"""The forest_plots step: the pooled tables, with each study's year and overall risk of bias
joined, drawn as a forest plot per endpoint × time point with a pooled cell
(:func:`sbrtmeta.plots.forest.forest_figures`)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from matplotlib.figure import Figure

from sbrtmeta.data.cells import with_years
from sbrtmeta.data.risk_of_bias import with_risk_of_bias
from sbrtmeta.plots.forest import forest_figures


def forest_plots(
    pooled: pd.DataFrame,
    studies: pd.DataFrame,
    included: pd.DataFrame,
    risk_of_bias: pd.DataFrame,
    subgroups: pd.DataFrame,
    endpoints: list[str],
    options: dict,
    level: float,
) -> Iterator[tuple[str, Figure]]:
    """``(stem, figure)`` of every forest plot; ``options`` is config's ``figures.forest`` (``sort``,
    ``max_studies``), ``level`` the pooling's."""
    studies = with_risk_of_bias(with_years(studies, included), risk_of_bias)
    return forest_figures(pooled, studies, endpoints, options["sort"], options["max_studies"], subgroups, level=level)
