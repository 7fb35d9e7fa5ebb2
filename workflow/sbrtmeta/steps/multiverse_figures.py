"""The multiverse_figures step: a specification curve per pooled cell
(:mod:`sbrtmeta.plots.specification_curve`), drawn from ``multiverse.csv`` and
``multiverse_summary.csv`` only."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from matplotlib.figure import Figure

from sbrtmeta.analysis.multiverse_design import CHOICES
from sbrtmeta.data.cells import cell_name, same_cell
from sbrtmeta.plots.specification_curve import draw_specification_curve


def multiverse_figures(table: pd.DataFrame, summary: pd.DataFrame) -> Iterator[tuple[str, Figure]]:
    """``(stem, figure)``, lazily, per row of ``summary`` (a cell of ``pooled.csv``) with two or
    more studies and a specification: its rows of ``table`` drawn as a specification curve."""
    for r in summary.itertuples():
        if r.k_main < 2 or r.specs == 0:
            continue  # a single study: the specifications differ only in its own interval
        stem = "specification_curve_" + cell_name(r.site, r.histology, r.endpoint, r.timepoint_months)
        yield stem, draw_specification_curve(table[same_cell(table, r)], r, list(CHOICES))
