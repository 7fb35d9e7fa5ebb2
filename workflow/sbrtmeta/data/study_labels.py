"""One name per study: ``Author year [ref]`` (and `` (arm)`` for an arm), the label of every
table, figure and text (issue 22 item 3).

A study's rows may come from several sources: a review's table that prints no author and the
study's own abstract that does. :func:`study_names` takes, per study, the first author and year
that any of its rows prints, so a review row without an author gets the label the study's other
rows give it (``Ref.`` only when no row names an author).
"""

from __future__ import annotations

import pandas as pd


def _given(x) -> bool:
    """A printed value: not missing, not empty text."""
    if x is None or (not isinstance(x, str) and pd.isna(x)):
        return False
    return str(x).strip() != ""


def _year_text(year) -> str:
    if not _given(year):
        return ""
    try:
        return f" {int(float(year))}"
    except (TypeError, ValueError):
        return f" {year}"


def study_label(author, year, ref, arm="all") -> str:
    """``"Kim 2009 [86]"``; ``"Ref. 2009 [86]"`` without an author; `` (arm)`` unless the arm is ``all``."""
    who = (str(author).strip() if _given(author) else "Ref.") + _year_text(year)
    part = "" if not _given(arm) or str(arm) == "all" else f" ({arm})"
    return f"{who} [{ref}]{part}"


def study_names(rows: pd.DataFrame) -> pd.DataFrame:
    """Per ``study_id`` (index, in order of first appearance): the first ``first_author``, ``year``
    and ``ref`` any of its rows prints (None where none does)."""
    out = pd.DataFrame(index=pd.Index(pd.unique(rows["study_id"]), name="study_id"))
    for col in ("first_author", "year", "ref"):
        if col not in rows:
            out[col] = None
            continue
        v = rows[col]
        ok = v.notna() & (v.astype(str).str.strip() != "")
        out[col] = v[ok].groupby(rows["study_id"][ok], sort=False).first().reindex(out.index).astype(object)
    return out.where(out.notna(), None)


def label_rows(rows: pd.DataFrame, every: pd.DataFrame | None = None, names: pd.DataFrame | None = None) -> list[str]:
    """The label of each row of ``rows``: its own author and year, else the first its study's rows
    print (in ``every``, default ``rows``; or ``names``, :func:`study_names` computed once)."""
    if names is None:
        names = study_names(rows if every is None else pd.concat([rows, every], ignore_index=True))
    known = names.reindex(rows["study_id"].to_numpy())
    labels = []
    for r, (author0, year0, ref0) in zip(rows.itertuples(index=False), known.itertuples(index=False)):
        author = getattr(r, "first_author", None)
        year = getattr(r, "year", None)
        ref = getattr(r, "ref", None)
        author = author if _given(author) else author0
        year = year if _given(year) else year0
        ref = ref if _given(ref) else (ref0 if _given(ref0) else r.study_id)
        labels.append(study_label(author, year, ref, getattr(r, "arm", "all")))
    return labels
