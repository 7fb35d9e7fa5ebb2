"""The leave_one_out_figures step: every site's ``leave_one_out_<site>.csv`` drawn as its leave-one-out plot
(:func:`sbrtmeta.plots.leave_one_out.draw_leave_one_out`); it reads only those tables, so a figure setting reruns
only this step (one job for every site: a Python job costs about a second of imports)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from matplotlib.figure import Figure

from sbrtmeta.plots.leave_one_out import draw_leave_one_out


def leave_one_out_figures(tables: dict[str, pd.DataFrame], level: float) -> Iterator[tuple[str, Figure]]:
    """``(stem, figure)`` of the leave-one-out plot of each site of ``tables`` (site → its table), e.g.
    ``leave_one_out_lymph_node``; ``level``: ``pooling.level``."""
    for site, table in tables.items():
        yield f"leave_one_out_{site.replace(' ', '_')}", draw_leave_one_out(table, site, level=level)
