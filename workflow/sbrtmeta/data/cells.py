"""Rows of one cell: selecting an endpoint × time point, and a pooled cell's studies.

The result tables (``pooled.csv``, ``pooled_studies.csv``, ``subgroup_tests.csv``) are keyed
by site, histology, endpoint and time point. These helpers pick the rows of one key, the same
way for the analyses that refit cells and for the figures that draw them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def select_rows(df: pd.DataFrame, endpoint: str, timepoint_months: float) -> pd.DataFrame:
    """The rows of ``df`` (pooled or studies table) for one endpoint × time point."""
    times = df["timepoint_months"].astype(float).to_numpy()
    return df[(df["endpoint"] == endpoint).to_numpy() & np.isclose(times, float(timepoint_months))]


def cell_studies(cell, studies: pd.DataFrame) -> pd.DataFrame:
    """The studies of one pooled cell: same site and, where the tables have it, histology."""
    keep = studies["site"] == cell.site
    if "histology" in studies and hasattr(cell, "histology"):
        keep &= studies["histology"] == cell.histology
    return studies[keep]
