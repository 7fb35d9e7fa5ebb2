"""The GOSH gather step: the shards' fits joined into each cell's table and the per-study
summary (:mod:`sbrtmeta.analysis.gosh`), one cell at a time: the parts are read as streams, so
memory holds one cell, not every part. The plots are drawn from these tables by the
gosh_figures step (:mod:`sbrtmeta.steps.gosh_figures`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pandas as pd

from sbrtmeta.analysis.gosh import gather_cells


def gosh(
    parts: list[Iterable[pd.DataFrame]], studies: pd.DataFrame, pooling: dict, gosh: dict
) -> Iterator[tuple[str, pd.DataFrame, pd.DataFrame]]:
    """Per cell with three or more studies: its name, ``gosh_<cell>.csv`` and its rows of
    ``gosh_studies.csv``. ``parts``: each shard's part as a stream of chunks; ``gosh``: the
    subsets fitted (config's ``robustness.gosh`` ``exhaustive_max`` and ``samples``)."""
    for cell, table, shifts in gather_cells(parts, studies, pooling, gosh):
        yield cell.name, table, shifts
