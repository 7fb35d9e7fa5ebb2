"""MINORS as its authors define it (Slim et al., ANZ J Surg 2003;73:712-716): for a non-comparative
study, 8 items scored 0, 1 or 2, a total out of 16 (the ideal score). Slim et al. give no cut-offs
from the total to a judgement, so an overall judgement is derived from the total only by a rule the
user states in config (``data.risk_of_bias.overall_from_total``: the lowest total that is ``low``
and the lowest that is ``some concerns``; below both: ``high``), and only where the sheet gives none.
A sheet's overall judgement that contradicts the rule is refused, or kept with a warning in its row.
"""

from __future__ import annotations

import pandas as pd

from sbrtmeta.data.cells import CELL
from sbrtmeta.data.errors import InputError, InputErrors
from sbrtmeta.data.risk_of_bias import NOT_ASSESSED, NOT_REPORTED, TOOLS

MAX_TOTAL = 16  # 8 items × 2, non-comparative studies
SHEET, DERIVED = "sheet", "derived"
FOLLOW_UP_ITEM = "appropriate_follow_up"  # MINORS item 6
FOLLOW_UP_RULE = (
    "a study's median follow-up, as printed for its pooled row, at least the result's time point scores 2, shorter "
    "scores 1 (fewer than half its patients followed to that time point), and not printed is not reported (Slim et "
    "al. 2003: the follow-up should be long enough to assess the main endpoint)"
)
FOLLOW_UP_COLUMNS = (*CELL, "study_id", "label", "weight_pct", "mfu_months", FOLLOW_UP_ITEM, "basis")


def _follow_up(mfu, months: float) -> tuple[str, str]:
    if pd.isna(mfu):
        return NOT_REPORTED, f"median follow-up not printed; rate at {months:g} months"
    sign, score = ("≥", "2") if float(mfu) >= months else ("<", "1")
    return score, f"median follow-up {float(mfu):g} months {sign} {months:g} months"


def follow_up_by_result(studies: pd.DataFrame, included: pd.DataFrame) -> pd.DataFrame:
    """MINORS item 6 per study of each pooled result (:data:`FOLLOW_UP_RULE`), recomputed by the run from
    ``included`` (included.csv: each row's ``mfu_months`` as printed, its cell's ``target_timepoint_months``)
    for the rows of ``studies`` (pooled_studies.csv). Nothing is judged where the median follow-up is not
    printed (``not reported``). Columns: :data:`FOLLOW_UP_COLUMNS`."""
    if studies.empty:
        return pd.DataFrame(columns=list(FOLLOW_UP_COLUMNS))
    key = ["site", "endpoint", "study_id", "arm"]
    rows = included[[*key, "target_timepoint_months", "mfu_months"]].rename(
        columns={"target_timepoint_months": "timepoint_months"}
    )
    rows = rows.astype({"study_id": str, "arm": str, "timepoint_months": float})
    out = studies.astype({"study_id": str, "arm": str, "timepoint_months": float}).merge(
        rows.drop_duplicates([*key, "timepoint_months"]), on=[*key, "timepoint_months"], how="left", validate="m:1"
    )
    judged = [_follow_up(m, t) for m, t in zip(out["mfu_months"], out["timepoint_months"])]
    out[FOLLOW_UP_ITEM] = [j[0] for j in judged]
    out["basis"] = [j[1] for j in judged]
    return out[list(FOLLOW_UP_COLUMNS)]


def follow_up_counts(table: pd.DataFrame) -> dict[str, int]:
    """How many study results of :func:`follow_up_by_result` score 2, 1 and not reported."""
    counts = table[FOLLOW_UP_ITEM].astype(str).value_counts()
    return {level: int(counts.get(level, 0)) for level in ("2", "1", NOT_REPORTED)}


def minors_totals(table: pd.DataFrame) -> pd.DataFrame:
    """``items_scored`` (how many of the 8 items have a score 0-2) and ``total`` (their sum out of 16,
    only when all 8 are scored: a total of fewer items is not the MINORS score; else empty)."""
    items = TOOLS["MINORS"].columns
    scores = table[list(items)].apply(pd.to_numeric, errors="coerce")
    scored = scores.notna().sum(axis=1)
    total = scores.sum(axis=1).where(scored == len(items))
    return pd.DataFrame({"items_scored": scored.astype(int), "total": total.astype("Int64")}, index=table.index)


def judgement_of_total(total: int, rule: dict) -> str:
    """``low`` from ``rule['low']``, ``some concerns`` from ``rule['some_concerns']``, else ``high``."""
    return "low" if total >= rule["low"] else "some concerns" if total >= rule["some_concerns"] else "high"


def rule_text(rule: dict) -> str:
    return (
        f"config data.risk_of_bias.overall_from_total: MINORS total ≥ {rule['low']} of {MAX_TOTAL} low, "
        f"≥ {rule['some_concerns']} some concerns, below high"
    )


def with_totals(table: pd.DataFrame, rule: dict | None, path: str = "the risk-of-bias sheet", log=None) -> pd.DataFrame:
    """A MINORS :func:`sbrtmeta.data.risk_of_bias.risk_of_bias_table`
    with ``items_scored``, ``total`` and ``overall_basis``
    (sheet, derived, or not assessed); with ``rule``, a study whose overall is not assessed and whose 8
    items are all scored gets the judgement of its total, and a sheet judgement that contradicts its total
    is refused (``rule['contradiction']`` refuse, the default: one line per study naming the rule) or
    kept with a warning in ``overall_basis`` (warn)."""
    out = table.copy()
    out[["items_scored", "total"]] = minors_totals(out)
    given = out["overall"].astype(str) != NOT_ASSESSED
    out["overall_basis"] = given.map({True: SHEET, False: NOT_ASSESSED})
    if not rule:
        return out
    known = out["total"].notna()
    derived = out.loc[known, "total"].map(lambda t: judgement_of_total(int(t), rule))
    fill = known & ~given
    out.loc[fill, "overall"] = derived[fill]
    out.loc[fill, "overall_basis"] = [f"{DERIVED}: total {int(t)} of {MAX_TOTAL}" for t in out.loc[fill, "total"]]
    clash = known & given & (out["overall"] != derived.reindex(out.index))
    errors = []
    for i in out.index[clash]:
        r = out.loc[i]
        what = (
            f"overall {r['overall']!r} contradicts its MINORS total {int(r['total'])} of {MAX_TOTAL}, "
            f"which is {derived[i]!r} by the rule ({rule_text(rule)})"
        )
        if rule.get("contradiction", "refuse") == "refuse":
            errors.append(InputError(what, file=path, column="overall", value=r["study_id"]))
        else:
            out.loc[i, "overall_basis"] = f"{SHEET} (warning: {what})"
            if log is not None:
                log.warning("WARNING: %s, study %s: %s", path, r["study_id"], what)
    if errors:
        raise InputErrors(errors)
    return out
