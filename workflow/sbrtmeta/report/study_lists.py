"""The studies a reader cites: the included studies with their source and the reference number the
review printed, and each study's excluded rows with the reasons (from ``included.csv`` and
``excluded.csv``). DataFrames of text, for the docx (and any other writer)."""

from __future__ import annotations

import pandas as pd

from sbrtmeta.data.study_labels import label_rows, study_names
from sbrtmeta.plots.labels import CRITERION_LABELS

INCLUDED_HEADER = ["Study", "First author", "Year", "Review", "Reference number", "Source"]
EXCLUDED_HEADER = ["Study", "Rows excluded", "Reason"]


def _text(x) -> str:
    if x is None or (not isinstance(x, str) and pd.isna(x)):
        return ""
    try:
        return str(int(float(x))) if float(x) == int(float(x)) else str(x)
    except (TypeError, ValueError):
        return str(x)


def _names(included: pd.DataFrame, excluded: pd.DataFrame | None) -> pd.DataFrame:
    return study_names(pd.concat([included, excluded], ignore_index=True) if excluded is not None else included)


def included_studies(included: pd.DataFrame, excluded: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per included study (first appearance order): its label, first author and year (the first any
    of its rows prints, also its excluded rows), the review and the reference number it printed (``ref``), and
    its sources (each distinct ``source`` of its included rows, ``; ``-joined)."""
    if included.empty:
        return pd.DataFrame(columns=INCLUDED_HEADER)
    names = _names(included, excluded)
    first = included.drop_duplicates("study_id").assign(arm="all")
    labels = label_rows(first, names=names)
    rows = []
    for label, r in zip(labels, first.itertuples(index=False), strict=True):
        own = included[included["study_id"] == r.study_id]
        author, year, _ = names.loc[r.study_id]
        rows.append(
            [
                label,
                _text(author),
                _text(year),
                "; ".join(dict.fromkeys(own["review"].map(_text))) if "review" in own else "",
                "; ".join(dict.fromkeys(own["ref"].map(_text))) if "ref" in own else "",
                "; ".join(dict.fromkeys(own["source"].map(_text))) if "source" in own else "",
            ]
        )
    return pd.DataFrame(rows, columns=INCLUDED_HEADER)


def study_exclusions(excluded: pd.DataFrame, included: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per excluded study × reason: the study's label, its rows excluded for that reason, and the
    reason (the criterion in words and the row's detail), in the order of ``excluded.csv``."""
    if excluded.empty:
        return pd.DataFrame(columns=EXCLUDED_HEADER)
    names = _names(included if included is not None else excluded.iloc[:0], excluded)
    labels = pd.Series(label_rows(excluded.assign(arm="all"), names=names), index=excluded.index)
    reason = excluded["criterion"].map(lambda c: CRITERION_LABELS.get(c, c))
    if "detail" in excluded:
        detail = excluded["detail"].map(_text)
        reason = reason.where(detail.eq("") | detail.eq(reason), reason + ": " + detail)
    frame = pd.DataFrame(dict(study=labels, reason=reason))
    counts = frame.groupby(["study", "reason"], sort=False).size()
    return pd.DataFrame([[s, str(n), r] for (s, r), n in counts.items()], columns=EXCLUDED_HEADER)
