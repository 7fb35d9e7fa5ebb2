"""The GOSH gather step: the shards' fits joined into each cell's table and the per-study
summary (:mod:`sbrtmeta.analysis.gosh`), and each cell's GOSH plot (:mod:`sbrtmeta.plots.gosh`),
one cell at a time: the parts are read as streams, so memory holds one cell, not every part."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pandas as pd
from matplotlib.figure import Figure

from sbrtmeta.analysis.gosh import gather_cells
from sbrtmeta.plots.gosh import draw_gosh


def gosh(
    parts: list[Iterable[pd.DataFrame]], studies: pd.DataFrame, pooling: dict, gosh: dict
) -> Iterator[tuple[str, pd.DataFrame, pd.DataFrame, Figure]]:
    """Per cell with three or more studies: its name, ``gosh_<cell>.csv``, its rows of
    ``gosh_studies.csv`` and its GOSH plot (panels for ``gosh["highlight"]``, or every study).
    ``parts``: each shard's part as a stream of chunks."""
    highlight = gosh.get("highlight") or []
    for cell, table, shifts in gather_cells(parts, studies, pooling, gosh):
        yield cell.name, table, shifts, draw_gosh(table, shifts, highlight)
