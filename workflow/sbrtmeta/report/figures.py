"""Step functions of the figure rules: result tables in, figures (and their tables) out.

Each composes an analysis table with the plot that draws it, so that
``workflow/scripts/plot_figures.py`` only reads the tables, calls one of these per
figure and writes what it returns.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from sbrtmeta.analysis.leave_one_out import leave_one_out_table
from sbrtmeta.analysis.selection import flow_counts
from sbrtmeta.analysis.small_study import MAX_TRIMFILL_K, funnel_panels
from sbrtmeta.plots.flow_diagram import draw_flow
from sbrtmeta.plots.forest import MAX_STUDIES, draw_forest
from sbrtmeta.plots.funnel import draw_funnel
from sbrtmeta.plots.leave_one_out import draw_leave_one_out


def with_years(studies: pd.DataFrame, included: pd.DataFrame) -> pd.DataFrame:
    """``studies`` with each study's publication ``year`` from ``included`` (for the forest sort)."""
    if "year" not in included:
        return studies
    years = included.drop_duplicates("study_id").set_index("study_id")["year"]
    return studies.assign(year=studies["study_id"].map(years))


def forest_figure(
    pooled: pd.DataFrame,
    studies: pd.DataFrame,
    endpoint: str,
    timepoint_months: float,
    sort: str = "table",
    max_studies: int = MAX_STUDIES,
    subgroups: pd.DataFrame | None = None,
) -> Figure:
    """The forest plot of one endpoint × time point (see :func:`sbrtmeta.plots.forest.draw_forest`)."""
    return draw_forest(
        pooled, studies, endpoint, timepoint_months, sort=sort, max_studies=max_studies, subgroups=subgroups
    )


def funnel_figure(
    pooled: pd.DataFrame,
    studies: pd.DataFrame,
    endpoint: str,
    timepoint_months: float,
    max_trimfill: int = MAX_TRIMFILL_K,
) -> Figure:
    """Egger's test and trim and fill of each site (:func:`sbrtmeta.analysis.small_study.funnel_panels`),
    drawn as funnel plots."""
    panels = funnel_panels(pooled, studies, endpoint, timepoint_months, max_trimfill=max_trimfill)
    return draw_funnel(panels, endpoint, timepoint_months)


def leave_one_out_outputs(
    pooled: pd.DataFrame, studies: pd.DataFrame, site: str, max_studies: int, level: float
) -> tuple[pd.DataFrame, Figure]:
    """``leave_one_out_<site>.csv`` and its figure."""
    table = leave_one_out_table(pooled, studies, site, max_studies=max_studies, level=level)
    return table, draw_leave_one_out(table, site)


def flow_figure(included: pd.DataFrame, excluded: pd.DataFrame) -> Figure:
    """The flow diagram of study selection."""
    return draw_flow(flow_counts(included, excluded))
