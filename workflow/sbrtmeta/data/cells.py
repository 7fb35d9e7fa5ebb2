"""The key of a pooled cell and the rows of one cell.

A pooled cell is a site × histology × endpoint × time point: :data:`CELL` names its columns in
every result table (``pooled.csv``, ``pooled_studies.csv``, the sensitivity and robustness
tables), :data:`TARGET_CELL` in the included rows (keyed by the target time point a row was
matched to). The helpers below build, name and select one key, the same way for the analyses
that refit cells and for the figures that draw them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CELL = ["site", "histology", "endpoint", "timepoint_months"]
TARGET_CELL = ["site", "histology", "endpoint", "target_timepoint_months"]
SITE_COMPARISON = CELL[1:]  # a histology × endpoint × time point, whose sites are compared
CURVE = CELL[:3]  # a site × histology × endpoint, whose curve spans the time points


def cell_place(site, histology, endpoint, timepoint_months) -> dict:
    """A cell's key as the first columns of a row (the time point a float)."""
    return dict(site=site, histology=histology, endpoint=endpoint, timepoint_months=float(timepoint_months))


def row_place(row) -> dict:
    """:func:`cell_place` of a row of a result table (a namedtuple or Series with the :data:`CELL` columns)."""
    return cell_place(*(getattr(row, c) for c in CELL))


def cell_name(site, histology, endpoint, timepoint_months) -> str:
    """``lung_colorectal_LC_24m``: a cell in a file name (``gosh_<cell>.csv``, ``baujat_<cell>.png``, ...)."""
    return f"{site}_{histology}_{endpoint}_{float(timepoint_months):g}m".replace(" ", "_")


def same_cell(table: pd.DataFrame, row) -> np.ndarray:
    """The rows of ``table`` in the cell of ``row`` (time points compared as floats)."""
    return (
        (table["site"] == row.site).to_numpy()
        & (table["histology"] == row.histology).to_numpy()
        & (table["endpoint"] == row.endpoint).to_numpy()
        & np.isclose(table["timepoint_months"].to_numpy(dtype=float), float(row.timepoint_months))
    )


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
