"""The multiverse gather step: the shards' specifications joined into ``multiverse.csv`` and
summarised against the main analysis (:mod:`sbrtmeta.analysis.multiverse`), and a
specification curve per pooled cell (:mod:`sbrtmeta.plots.specification_curve`)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from matplotlib.figure import Figure

from sbrtmeta.analysis.multiverse import MultiverseTables, gather_multiverse
from sbrtmeta.analysis.multiverse_design import CHOICES
from sbrtmeta.data.cells import cell_name, same_cell
from sbrtmeta.plots.specification_curve import draw_specification_curve


def _curves(tables: MultiverseTables) -> Iterator[tuple[str, Figure]]:
    table = tables.table
    for r in tables.summary.itertuples():
        if r.k_main < 2 or r.specs == 0:
            continue  # a single study: the specifications differ only in its own interval
        rows = table[same_cell(table, r)]
        stem = "specification_curve_" + cell_name(r.site, r.histology, r.endpoint, r.timepoint_months)
        yield stem, draw_specification_curve(rows, r, list(CHOICES))


def multiverse(
    parts: list[pd.DataFrame], pooled: pd.DataFrame, margin: float
) -> tuple[MultiverseTables, Iterator[tuple[str, Figure]]]:
    """The gathered tables and, lazily, the specification curve of every cell of ``pooled.csv``
    with two or more studies."""
    tables = gather_multiverse(parts, pooled, margin)
    return tables, _curves(tables)
