"""The answer first: the headline table of every pooled cell and one sentence per pooled rate.

:func:`headline_table` is one row per site × histology × endpoint × time point of ``pooled.csv``:
k, the participants (lesions or patients, as the cell's rows count them), the rate with its
confidence interval, the prediction interval, I² and the GRADE certainty as GRADEpro's ⊕ symbols
(:data:`sbrtmeta.report.certainty_section.SYMBOLS`, from ``summary_of_findings.csv``). It returns
a DataFrame of text so summary.md, the HTML report and the docx print the same table;
:func:`headline_sentences` says each pooled rate in words."""

from __future__ import annotations

import re

import pandas as pd

from sbrtmeta.data.cells import CELL
from sbrtmeta.plots.labels import (
    endpoint_name,
    level_text,
    share_cutoffs,
    share_header,
    share_sentence,
    share_text,
    site_title,
)
from sbrtmeta.report.certainty_section import SYMBOLS
from sbrtmeta.report.formats import finite, markdown_table

SYNTHETIC = re.compile(r"\bsynthetic\b", re.IGNORECASE)  # a source column that says its study is invented


def synthetic_note(included: pd.DataFrame | None) -> str | None:
    """A warning when any included study's ``source`` marks it synthetic (``"SYNTHETIC EXAMPLE (invented)"``, as
    the example sheets of config/examples/ do), naming how many of the studies are; None for real data."""
    if included is None or included.empty or "source" not in included:
        return None
    marked = included["source"].astype(str).str.contains(SYNTHETIC)
    synthetic, studies = included.loc[marked, "study_id"].nunique(), included["study_id"].nunique()
    if not synthetic:
        return None
    if synthetic == studies:
        who = "The included study is" if studies == 1 else f"All {studies} included studies are"
    else:
        who = f"{synthetic} of the {studies} included studies {'is' if synthetic == 1 else 'are'}"
    return (
        f"**Synthetic data.** {who} marked synthetic in the sheets' source column (e.g. "
        f"'{included.loc[marked, 'source'].iloc[0]}'): invented for illustration, so these results say nothing "
        "about SBRT."
    )


def headline_header(level: float = 0.95, cutoffs: list[float] | None = None) -> list[str]:
    """The headline table's columns, the intervals named by the pooling's ``level``; with ``cutoffs`` (in %,
    ``pooling.targets``) a column per cutoff: the share of true rates above it (:func:`share_header`)."""
    return [
        "Site",
        "Histology",
        "Outcome",
        "k",
        "Participants",
        f"Rate, % ({level_text(level)} CI)",
        f"{level_text(level)} PI, %",
        "I², %",
        "Certainty (GRADE)",
        *(share_header(c, level) for c in cutoffs or []),
    ]


SHORT_ENDPOINT = {"LC": "LC", "OS": "OS"}


def _key(r) -> tuple:
    return (r.site, r.histology if isinstance(r.histology, str) else "", r.endpoint, float(r.timepoint_months))


def participant_units(pooled_studies: pd.DataFrame | None, included: pd.DataFrame | None) -> dict[tuple, str]:
    """Each cell's unit of n (``"lesions"``, ``"patients"`` or ``"lesions or patients"``): the ``n_basis`` of
    the included rows its studies pool (``pooled_studies.csv`` joined to ``included.csv`` by study, arm,
    endpoint and target time point)."""
    if pooled_studies is None or included is None or "n_basis" not in included or pooled_studies.empty:
        return {}
    rows = included.rename(columns={"target_timepoint_months": "_t"})[
        ["study_id", "arm", "site", "endpoint", "_t", "n_basis"]
    ].astype({"study_id": str, "arm": str, "_t": float})
    studies = pooled_studies.astype({"study_id": str, "arm": str, "timepoint_months": float})
    joined = studies.merge(
        rows,
        left_on=["study_id", "arm", "site", "endpoint", "timepoint_months"],
        right_on=["study_id", "arm", "site", "endpoint", "_t"],
        how="left",
    )
    units = {}
    for key, cell in joined.groupby(CELL, dropna=False, sort=False):
        found = sorted(set(cell["n_basis"].dropna().astype(str)))
        if found:
            units[_key(pd.Series(dict(zip(CELL, key, strict=True))))] = " or ".join(found)
    return units


def _certainty(sof: pd.DataFrame | None) -> dict[tuple, tuple[str, bool]]:
    """Each cell's certainty word and whether it is provisional, from ``summary_of_findings.csv``."""
    if sof is None or sof.empty:
        return {}
    provisional = sof.get("provisional", pd.Series(False, index=sof.index)).astype(str).str.lower().eq("true")
    return {_key(r): (r.certainty, p) for r, p in zip(sof.itertuples(index=False), provisional, strict=True)}


def _whole_rate(r) -> str:
    """``"86% (77–92)"`` in whole percent, or all three with one decimal where a whole percent would round a
    value inside (0, 1) to 0 or 100."""
    values = [float(r.estimate), float(r.ci_low), float(r.ci_high)]
    digits = 1 if any(f"{100 * v:.0f}" in ("0", "100") and 0 < v < 1 for v in values) else 0
    est, low, high = (f"{100 * v:.{digits}f}" for v in values)
    return f"{est}% ({low}–{high})"


def _rate(r, fmt) -> str:
    return f"{fmt(r.estimate)} ({fmt(r.ci_low)}–{fmt(r.ci_high)})"


def _one_decimal(p) -> str:
    return f"{100 * float(p):.1f}"


def ordered_cells(pooled: pd.DataFrame, sites: list[str] | None = None) -> pd.DataFrame:
    """``pooled`` by site (in the order of ``sites`` where given, the rest after), histology, endpoint, time."""
    rank = {s: i for i, s in enumerate(sites or [])}
    order = pooled.assign(
        _site=pooled["site"].map(lambda s: (rank.get(s, len(rank)), s)),
        _t=pooled["timepoint_months"].astype(float),
    )
    return order.sort_values(["_site", "histology", "endpoint", "_t"], kind="stable").drop(columns=["_site", "_t"])


def headline_table(
    pooled: pd.DataFrame,
    sof: pd.DataFrame | None = None,
    units: dict[tuple, str] | None = None,
    sites: list[str] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """One row per cell of ``pooled`` (:func:`headline_header`), as text: participants with their unit
    (:func:`participant_units`), rate and CI in % with one decimal, the prediction interval and
    I² of pooled cells (blank for a single study), the certainty as ⊕ symbols and its word, and with
    ``pooling.targets`` (``share_above_*`` columns) the share of true rates above each cutoff (blank where the
    cell's endpoint has no such target or the rate rests on one study)."""
    certainty, units, cutoffs = _certainty(sof), units or {}, share_cutoffs(pooled.columns)
    rows = []
    for r in ordered_cells(pooled, sites).itertuples(index=False):
        key, pooled_cell = _key(r), int(r.k) >= 2
        word, provisional = certainty.get(key, (None, False))
        unit = units.get(key, "")
        rows.append(
            [
                site_title(r.site),
                key[1],
                f"{endpoint_name(r.endpoint)} at {key[3]:g} months",
                str(int(r.k)),
                f"{int(r.n_total)} {unit}".strip(),
                _rate(r, _one_decimal),
                f"{_one_decimal(r.pi_low)}–{_one_decimal(r.pi_high)}" if pooled_cell and finite(r.pi_low) else "",
                f"{float(r.i2):.0f}" if pooled_cell and finite(r.i2) else "",
                f"{SYMBOLS[word]} {word}" + (" (provisional)" if provisional else "") if word in SYMBOLS else "",
                *(share_text(r, c) for c in cutoffs),
            ]
        )
    return pd.DataFrame(rows, columns=headline_header(level, cutoffs))


def headline_sentences(
    pooled: pd.DataFrame,
    sof: pd.DataFrame | None = None,
    units: dict[tuple, str] | None = None,
    sites: list[str] | None = None,
    level: float = 0.95,
) -> list[str]:
    """One sentence per pooled rate (k ≥ 2): ``"Lung, colorectal: LC at 24 months 86% (77–92), 11 studies,
    574 lesions; certainty very low."`` (whole percent; participants in the cell's unit), followed, with
    ``pooling.targets``, by one sentence of the shares of true rates above the cutoffs
    (:func:`sbrtmeta.plots.labels.share_sentence`)."""
    certainty, units, cutoffs = _certainty(sof), units or {}, share_cutoffs(pooled.columns)
    out = []
    for r in ordered_cells(pooled, sites).itertuples(index=False):
        if int(r.k) < 2:
            continue
        key = _key(r)
        word, provisional = certainty.get(key, (None, False))
        unit = units.get(key, "participants")
        text = (
            f"{site_title(r.site, key[1] or None)}: {SHORT_ENDPOINT.get(r.endpoint, r.endpoint)} at {key[3]:g} "
            f"months {_whole_rate(r)}, {int(r.k)} studies, "
            f"{int(r.n_total)} {unit}"
        )
        if word:
            text += f"; certainty {word}" + (" (provisional)" if provisional else "")
        shares = share_sentence(r, cutoffs, level)
        out.append(text + "." + (f" {shares}" if shares else ""))
    return out


def headline_lines(
    pooled: pd.DataFrame,
    sof: pd.DataFrame | None = None,
    units: dict[tuple, str] | None = None,
    sites: list[str] | None = None,
    level: float = 0.95,
) -> list[str]:
    """``## Answer``: the headline table, then each pooled rate in words (summary.md's first section)."""
    if pooled.empty:
        return []
    table = headline_table(pooled, sof, units, sites, level)
    singles = int((pooled["k"] < 2).sum())
    words = headline_sentences(pooled, sof, units, sites, level)
    return [
        "## Answer",
        "",
        markdown_table(list(table.columns), table.values.tolist()),
        "",
        "LC local control, OS overall survival; PI prediction interval; k studies; participants as the cell's "
        "studies count them; certainty ⊕⊕⊕⊕ high to ⊕◯◯◯ very low (footnotes in the summary of findings below)."
        + (f" {singles} rates rest on a single study (k = 1): not pooled, no PI or I²." if singles else "")
        + (
            " True rates > x%: the share of the true rates of new series above x% in the predictive distribution "
            "(pooling.targets), with its interval at the confidence limits of the mean."
            if share_cutoffs(pooled.columns)
            else ""
        ),
        "",
        *(f"- {w}" for w in words),
        "",
    ]
