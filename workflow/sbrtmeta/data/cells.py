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


def pooled_cells(pooled: pd.DataFrame, endpoints: list[str]) -> list[tuple[str, float]]:
    """The endpoint × time points with at least one row in ``pooled.csv`` (a pooled or a
    single-study cell): endpoints in the order given, time points ascending. These, and only
    these, get forest and funnel plots; cells with nothing pooled are in ``not_pooled.csv``."""
    times = pooled["timepoint_months"].astype(float)
    return [(e, t) for e in endpoints for t in sorted(set(times[pooled["endpoint"] == e]))]


def cell_stem(kind: str, endpoint: str, timepoint_months: float) -> str:
    """The file name of one cell's figure without its extension, e.g. ``forest_LC_24m``."""
    return f"{kind}_{endpoint}_{float(timepoint_months):g}m"


def with_years(studies: pd.DataFrame, included: pd.DataFrame) -> pd.DataFrame:
    """``studies`` with each study's publication ``year`` from ``included`` (for the forest sort)."""
    if "year" not in included:
        return studies
    years = included.drop_duplicates("study_id").set_index("study_id")["year"]
    return studies.assign(year=studies["study_id"].map(years))
