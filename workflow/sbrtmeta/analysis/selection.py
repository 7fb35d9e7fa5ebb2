"""Counts of the study selection: rows and studies extracted, excluded by criterion, included.

:func:`flow_counts` turns ``included.csv`` and ``excluded.csv`` into the numbers that the
flow diagram (:mod:`sbrtmeta.plots.flow_diagram`) draws and the summary prints.
"""

from __future__ import annotations

import pandas as pd

from sbrtmeta.data.inclusion import CRITERIA


def _studies(frame: pd.DataFrame) -> int:
    return int(frame["study_id"].nunique()) if "study_id" in frame and len(frame) else 0


def flow_counts(included: pd.DataFrame, excluded: pd.DataFrame) -> dict:
    """The numbers of the flow diagram.

    Returns ``extracted`` / ``included`` / ``excluded`` as ``(rows, studies)``,
    ``criteria``: ``[(criterion, rows)]`` in the order criteria are applied (only
    those that excluded a row; unknown criteria last), and ``per_site``: a frame with
    site, endpoint, rows and studies of the included rows.
    """
    both = pd.concat([included[["study_id"]], excluded[["study_id"]]]) if len(included) + len(excluded) else included
    counts = excluded["criterion"].value_counts() if len(excluded) else pd.Series(dtype=int)
    order = [c for c in CRITERIA if c in counts.index] + sorted(c for c in counts.index if c not in CRITERIA)
    per_site = (
        included.groupby(["site", "endpoint"], sort=True)
        .agg(rows=("study_id", "size"), studies=("study_id", "nunique"))
        .reset_index()
        if len(included)
        else pd.DataFrame(columns=["site", "endpoint", "rows", "studies"])
    )
    return dict(
        extracted=(len(included) + len(excluded), _studies(both)),
        excluded=(len(excluded), _studies(excluded)),
        included=(len(included), _studies(included)),
        criteria=[(c, int(counts[c])) for c in order],
        per_site=per_site,
    )
