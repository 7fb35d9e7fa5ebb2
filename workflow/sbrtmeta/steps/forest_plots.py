"""The forest_plots step: the pooled tables, with each study's year and overall risk of bias
joined, drawn as a forest plot per endpoint × time point with a pooled cell
(:func:`sbrtmeta.plots.forest.forest_figures`)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from matplotlib.figure import Figure

from sbrtmeta.data.cells import with_years
from sbrtmeta.data.minors import FOLLOW_UP_ITEM, follow_up_by_result
from sbrtmeta.data.risk_of_bias import ITEM_PREFIX, PER_RESULT, TOOLS, UNJUDGED_LEVELS, with_risk_of_bias
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
    ``max_studies``, ``risk_of_bias_items``: a column per item of the tool), ``level`` the pooling's."""
    studies = with_risk_of_bias(with_years(studies, included), risk_of_bias, options["risk_of_bias_items"])
    studies = _follow_up_per_result(studies, included)
    return forest_figures(pooled, studies, endpoints, options["sort"], options["max_studies"], subgroups, level=level)


def _follow_up_per_result(studies: pd.DataFrame, included: pd.DataFrame) -> pd.DataFrame:
    """With a MINORS item 6 column, that item judged against each plot's own time point
    (:func:`sbrtmeta.data.minors.follow_up_by_result`) instead of the sheet's, in a column marked
    :data:`~sbrtmeta.data.risk_of_bias.PER_RESULT` (the footnote says so)."""
    column = f"{ITEM_PREFIX}{FOLLOW_UP_ITEM}"
    if column not in studies:
        return studies
    levels = {**TOOLS["MINORS"].levels, **UNJUDGED_LEVELS}
    judged = follow_up_by_result(studies, included)[FOLLOW_UP_ITEM].map(levels).to_numpy()
    return studies.rename(columns={column: f"{column}{PER_RESULT}"}).assign(**{f"{column}{PER_RESULT}": judged})
