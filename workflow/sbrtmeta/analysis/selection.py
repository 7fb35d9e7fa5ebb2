"""Counts of the study selection: rows and studies extracted, excluded by criterion, included.

:func:`flow_counts` turns ``included.csv`` and ``excluded.csv`` into the numbers that the
flow diagram (:mod:`sbrtmeta.plots.flow_diagram`) draws and the summary prints.
"""

from __future__ import annotations

import pandas as pd

from sbrtmeta.data.inclusion import CRITERIA


def _studies(frame: pd.DataFrame) -> int:
    return int(frame["study_id"].nunique()) if "study_id" in frame and len(frame) else 0


def _ordered(counts) -> list[tuple[str, int]]:
    """``[(criterion, count)]`` in the order criteria are applied, unknown criteria last."""
    if counts is None or not len(counts):
        return []
    order = [c for c in CRITERIA if c in counts.index] + sorted(c for c in counts.index if c not in CRITERIA)
    return [(c, int(counts[c])) for c in order]


def _last_criteria(excluded: pd.DataFrame) -> pd.Series:
    """Studies per criterion, each study under the latest-applied criterion among its rows."""
    if not len(excluded):
        return pd.Series(dtype=int)
    rank = {c: i for i, c in enumerate(CRITERIA)}
    last = excluded.assign(_rank=excluded["criterion"].map(lambda c: rank.get(c, len(CRITERIA))))
    last = last.sort_values(["study_id", "_rank", "criterion"], kind="mergesort").groupby("study_id").tail(1)
    return last["criterion"].value_counts()


def flow_counts(included: pd.DataFrame, excluded: pd.DataFrame) -> dict:
    """The numbers of the flow diagram.

    Returns ``extracted`` / ``included`` / ``excluded`` as ``(rows, studies)``,
    ``criteria``: ``[(criterion, rows)]`` in the order criteria are applied (only
    those that excluded a row; unknown criteria last), and ``per_site``: a frame with
    site, endpoint, rows and studies of the included rows.

    Counted by study, as the PRISMA 2020 flow diagram counts (Page et al., BMJ 2021;372:n71):
    ``studies_excluded``, ``(rows, studies)`` of the studies none of whose rows is included, with
    ``study_criteria``, ``[(criterion, studies)]``, each such study under the criterion at which
    its last row fell (the latest applied among its rows); ``studies_included``, ``(rows, studies)``
    of the studies with an included row (all their rows); and ``rows_excluded_within``, ``(rows,
    studies)`` of those studies' excluded rows, with ``within_criteria``, ``[(criterion, rows)]``.
    So ``extracted = studies_excluded + studies_included`` and ``studies_included =
    rows_excluded_within + included``, in rows and studies.
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
    kept = set(included["study_id"]) if len(included) else set()
    within = excluded["study_id"].isin(kept) if len(excluded) else pd.Series(dtype=bool)
    gone = excluded[~within] if len(excluded) else excluded
    return dict(
        studies_excluded=(len(gone), _studies(gone)),
        study_criteria=_ordered(_last_criteria(gone)),
        studies_included=(len(included) + int(within.sum()), _studies(included)),
        rows_excluded_within=(int(within.sum()), _studies(excluded[within]) if len(excluded) else 0),
        within_criteria=_ordered(excluded.loc[within, "criterion"].value_counts() if len(excluded) else None),
        extracted=(len(included) + len(excluded), _studies(both)),
        excluded=(len(excluded), _studies(excluded)),
        included=(len(included), _studies(included)),
        criteria=[(c, int(counts[c])) for c in order],
        per_site=per_site,
    )
