"""The sensitivity_figures step: ``cumulative.csv`` drawn as a cumulative forest plot per endpoint × time point
and ``baujat.csv`` as a Baujat plot per cell of three or more studies (:mod:`sbrtmeta.plots.cumulative`,
:mod:`sbrtmeta.plots.baujat`); it reads only those tables, so a figure setting reruns only this step."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from matplotlib.figure import Figure

from sbrtmeta.data.cells import CELL, cell_name, cell_stem, pooled_cells, select_rows
from sbrtmeta.plots.baujat import draw_baujat
from sbrtmeta.plots.cumulative import draw_cumulative


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


def sensitivity_figures(
    cumulative: pd.DataFrame, baujat: pd.DataFrame, endpoints: list[str], level: float
) -> tuple[Iterator[tuple[str, Figure]], Iterator[tuple[str, Figure]]]:
    """The cumulative and Baujat figures (lazily, ``(stem, figure)`` pairs) of ``cumulative.csv`` and
    ``baujat.csv``; ``endpoints``: config ``inclusion.endpoints`` (their order), ``level``: ``pooling.level``."""
    return cumulative_figures(cumulative, endpoints, level=level), baujat_figures(baujat, level=level)
