"""The gosh_figures step: a GOSH plot per cell (:mod:`sbrtmeta.plots.gosh`), drawn from the
tables of the gosh step only (``gosh_studies.csv`` and each cell's ``gosh_<cell>.csv``), one
cell at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pandas as pd
from matplotlib.figure import Figure

from sbrtmeta.plots.gosh import draw_gosh


def gosh_figures(
    studies: pd.DataFrame, cell_table: Callable[[str], pd.DataFrame], highlight: list[str] | None = None
) -> Iterator[tuple[str, Figure]]:
    """``(stem, figure)`` per cell of ``gosh_studies.csv`` (``studies``), in its order;
    ``cell_table(name)`` reads that cell's ``gosh_<name>.csv``; ``highlight``: config's
    ``robustness.gosh.highlight`` (the study ids with a panel; empty: every study)."""
    for name, shifts in studies.groupby("cell", sort=False):
        yield f"gosh_{name}", draw_gosh(cell_table(name), shifts, highlight or [])
