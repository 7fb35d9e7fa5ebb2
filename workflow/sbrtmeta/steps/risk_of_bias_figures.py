"""The risk_of_bias_figures step: ``results/tables/risk_of_bias.csv`` drawn as the traffic-light and summary
plots (:mod:`sbrtmeta.plots.risk_of_bias`); it reads only that table, so a figure setting reruns only this step."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from matplotlib.figure import Figure

from sbrtmeta.data.risk_of_bias import DEFAULT_TOOL
from sbrtmeta.plots.risk_of_bias import risk_of_bias_figures as draw_figures


def risk_of_bias_figures(table: pd.DataFrame, max_studies: int | None = None) -> Iterator[tuple[str, Figure]]:
    """``(stem, figure)`` of the traffic-light plot (up to ``max_studies`` studies:
    figures.risk_of_bias.max_studies) and the summary plot of ``table`` (risk_of_bias.csv), in its ``tool``'s
    items."""
    tool = str(table["tool"].iloc[0]) if len(table) else DEFAULT_TOOL
    return draw_figures(table, tool, max_studies)
