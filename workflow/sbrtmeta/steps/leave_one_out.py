"""The leave-one-out step of one site: the refits of its cells of three or more studies
(:mod:`sbrtmeta.analysis.leave_one_out`), ``leave_one_out_<site>.csv``; rule ``leave_one_out_figures`` draws
them (:mod:`sbrtmeta.steps.leave_one_out_figures`; no matplotlib here)."""

from __future__ import annotations

import pandas as pd

from sbrtmeta.analysis.leave_one_out import leave_one_out_table


def leave_one_out(
    pooled: pd.DataFrame,
    studies: pd.DataFrame,
    site: str,
    max_studies: int,
    level: float,
    back_transform: str = "median",
) -> pd.DataFrame:
    """``leave_one_out_<site>.csv`` (``max_studies``: a cell of more studies is not refitted, which its row
    says; ``back_transform``: ``pooling.back_transform``)."""
    return leave_one_out_table(
        pooled, studies, site, max_studies=max_studies, level=level, back_transform=back_transform
    )
