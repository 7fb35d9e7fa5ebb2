"""The leave-one-out step of one site: the refits (:mod:`sbrtmeta.analysis.leave_one_out`)
and their plot (:mod:`sbrtmeta.plots.leave_one_out`)."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from sbrtmeta.analysis.leave_one_out import leave_one_out_table
from sbrtmeta.plots.leave_one_out import draw_leave_one_out


def leave_one_out_plot(
    pooled: pd.DataFrame,
    studies: pd.DataFrame,
    site: str,
    max_studies: int,
    level: float,
    back_transform: str = "median",
) -> tuple[pd.DataFrame, Figure]:
    """``leave_one_out_<site>.csv`` and its figure (``back_transform``: ``pooling.back_transform``)."""
    table = leave_one_out_table(
        pooled, studies, site, max_studies=max_studies, level=level, back_transform=back_transform
    )
    return table, draw_leave_one_out(table, site, level=level)
