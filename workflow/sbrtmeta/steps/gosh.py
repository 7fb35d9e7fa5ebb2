"""The GOSH gather step: the shards' fits joined into each cell's table and the per-study
summary (:mod:`sbrtmeta.analysis.gosh`), and each cell's GOSH plot (:mod:`sbrtmeta.plots.gosh`)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from matplotlib.figure import Figure

from sbrtmeta.analysis.gosh import GoshTables, gather_gosh
from sbrtmeta.plots.gosh import draw_gosh


def _figures(tables: GoshTables, highlight: list[str]) -> Iterator[tuple[str, Figure]]:
    for name, table in tables.cells.items():
        yield f"gosh_{name}", draw_gosh(table, tables.studies[tables.studies["cell"] == name], highlight)


def gosh(
    parts: list[pd.DataFrame], studies: pd.DataFrame, pooling: dict, gosh: dict
) -> tuple[GoshTables, Iterator[tuple[str, Figure]]]:
    """``gosh_<cell>.csv`` of every cell with three or more studies, ``gosh_studies.csv``,
    and, lazily, each cell's GOSH plot (panels for ``gosh["highlight"]``, or every study)."""
    tables = gather_gosh(parts, studies, pooling, gosh)
    return tables, _figures(tables, gosh.get("highlight") or [])
