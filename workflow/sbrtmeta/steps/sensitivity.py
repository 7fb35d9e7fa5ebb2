"""The sensitivity step: cumulative meta-analysis and Baujat tables of every pooled cell,
drawn as a cumulative forest plot per endpoint × time point and a Baujat plot per cell of
three or more studies (:mod:`sbrtmeta.analysis.cumulative`, :mod:`sbrtmeta.analysis.baujat`,
:mod:`sbrtmeta.plots.cumulative`, :mod:`sbrtmeta.plots.baujat`).
``workflow/scripts/sensitivity.py`` writes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

from sbrtmeta.analysis.baujat import COLUMNS as BAUJAT_COLUMNS
from sbrtmeta.analysis.baujat import baujat_table
from sbrtmeta.analysis.cumulative import COLUMNS as CUMULATIVE_COLUMNS
from sbrtmeta.analysis.cumulative import MAX_STUDIES, cumulative_table
from sbrtmeta.data.cells import CELL, cell_name, cell_stem, pooled_cells, select_rows
from sbrtmeta.plots.baujat import draw_baujat
from sbrtmeta.plots.cumulative import draw_cumulative


@dataclass(frozen=True)
class SensitivityTables:
    """``cumulative.csv`` and ``baujat.csv`` (empty, with their columns, when switched off)."""

    cumulative: pd.DataFrame
    baujat: pd.DataFrame


def sensitivity_tables(
    pooled: pd.DataFrame, studies: pd.DataFrame, included: pd.DataFrame, sensitivity: dict, level: float
) -> SensitivityTables:
    """The tables of config's ``sensitivity.cumulative`` and ``sensitivity.baujat``."""
    cum = sensitivity.get("cumulative", {})
    bj = sensitivity.get("baujat", {})
    return SensitivityTables(
        cumulative=cumulative_table(
            pooled, studies, included, cum.get("tie_break", "n"), level, cum.get("max_studies", MAX_STUDIES)
        )
        if cum.get("enabled", True)
        else pd.DataFrame(columns=CUMULATIVE_COLUMNS),
        baujat=baujat_table(pooled, studies, level, max_studies=bj.get("max_studies", MAX_STUDIES))
        if bj.get("enabled", True)
        else pd.DataFrame(columns=BAUJAT_COLUMNS),
    )


def cumulative_figures(table: pd.DataFrame, endpoints: list[str], *, level: float) -> Iterator[tuple[str, Figure]]:
    """``(stem, figure)`` of the cumulative forest plot of every endpoint × time point with rows
    (cells not estimable are only in the table, with the reason)."""
    table = table[table["step"].notna()]
    for endpoint, t in pooled_cells(table, endpoints):
        fig = draw_cumulative(select_rows(table, endpoint, t), endpoint, t, level=level)
        yield cell_stem("cumulative", endpoint, t), fig


def baujat_figures(table: pd.DataFrame, *, level: float) -> Iterator[tuple[str, Figure]]:
    """``(stem, figure)`` of the Baujat plot of every cell in the table, e.g. ``baujat_lung_colorectal_LC_24m``."""
    table = table[table["contribution"].notna()]  # cells not estimable are only in the table
    for key, cell in table.groupby(CELL):
        yield f"baujat_{cell_name(*key)}", draw_baujat(cell, level=level)


@dataclass(frozen=True)
class SensitivityOutputs:
    """The two tables and, lazily, their figures (``(stem, figure)`` pairs)."""

    tables: SensitivityTables
    cumulative_figures: Iterator[tuple[str, Figure]]
    baujat_figures: Iterator[tuple[str, Figure]]


def sensitivity(
    pooled: pd.DataFrame,
    studies: pd.DataFrame,
    included: pd.DataFrame,
    options: dict,
    level: float,
    endpoints: list[str],
) -> SensitivityOutputs:
    """``cumulative.csv``, ``baujat.csv`` and their figures; ``options`` is config's ``sensitivity``."""
    t = sensitivity_tables(pooled, studies, included, options, level)
    return SensitivityOutputs(
        t, cumulative_figures(t.cumulative, endpoints, level=level), baujat_figures(t.baujat, level=level)
    )
