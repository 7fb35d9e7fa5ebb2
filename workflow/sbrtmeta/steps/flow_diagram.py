"""The flow-diagram step: selection counts (:mod:`sbrtmeta.analysis.selection`) drawn
(:mod:`sbrtmeta.plots.flow_diagram`)."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from sbrtmeta.analysis.selection import flow_counts
from sbrtmeta.plots.flow_diagram import draw_flow


def flow_diagram(included: pd.DataFrame, excluded: pd.DataFrame) -> Figure:
    """The flow diagram of study selection."""
    return draw_flow(flow_counts(included, excluded))
