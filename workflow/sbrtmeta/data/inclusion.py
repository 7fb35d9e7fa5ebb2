"""Inclusion criteria: structured rules from config, applied row by row.

Every criterion is data (lists, numbers, study ids), never an expression to
evaluate. Criteria are tried in a fixed order and the first one a row fails is
recorded as the reason it was excluded, so ``excluded.csv`` names exactly one
criterion per row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

from sbrtmeta.data.errors import InputError
from sbrtmeta.data.read_back import read_written_table
from sbrtmeta.data.tidy_schema import FLOAT_COLUMNS, INT_COLUMNS, TIDY_COLUMNS

_LOG = logging.getLogger(__name__)


def read_outcomes(path) -> pd.DataFrame:
    """``results/clean/outcomes.csv`` as the criteria expect it: ids and text as written
    (:func:`~sbrtmeta.data.read_back.read_written_table`; ``007``, ``NA`` and ``1e3`` stay
    text, "" when empty), the counts as nullable integers, the other numbers as floats."""
    text = [c for c in TIDY_COLUMNS if c not in INT_COLUMNS + FLOAT_COLUMNS]
    tidy = read_written_table(path, text=text, never_empty=text)
    for c in INT_COLUMNS:
        tidy[c] = tidy[c].astype("Int64")
    return tidy


CRITERIA = (
    "review",
    "excluded_study",
    "risk_of_bias",
    "site",
    "endpoint",
    "design",
    "primary",
    "no_single_rate",
    "basis",
    "timepoint",
    "n_not_reported",
    "min_n",
    "one_row_per_study",
    "overlapping_cohort",
)


def _target(t, targets, tolerance):
    """The configured time point a row's time point falls on, or None."""
    if t is None or pd.isna(t):
        return None
    best = None
    for target in sorted(targets):
        d = abs(float(t) - target)
        if d <= tolerance and (best is None or d < abs(float(t) - best)):
            best = target
    return best


@dataclass(frozen=True)
class _Settings:
    """The inclusion config, read once: what the row checks compare against."""

    criteria: dict
    explicit: dict
    targets: list
    tol: float
    primaries: list
    basis: list
    crude: dict
    max_rob: dict | None = None
    rob: dict | None = None

    @classmethod
    def of(cls, criteria: dict, risk_of_bias: dict | None = None) -> _Settings:
        tp = criteria["timepoints"]
        crude = criteria.get("crude", {"pool": False, "timepoint": "none"})
        add_crude = crude["pool"] and "crude" not in criteria["basis"]
        return cls(
            criteria=criteria,
            explicit={e["study_id"]: e["reason"] for e in criteria.get("exclude_studies", [])},
            targets=[float(t) for t in tp["targets"]],
            tol=float(tp["tolerance_months"]),
            primaries=list(criteria["primaries"]),
            basis=list(criteria["basis"]) + (["crude"] if add_crude else []),
            crude=crude,
            max_rob=criteria.get("max_risk_of_bias"),
            rob=risk_of_bias,
        )


def _crude_timepoints(tidy: pd.DataFrame, crude: dict) -> pd.DataFrame:
    """A copy of ``tidy`` with ``crude_timepoint``: crude proportions without a time point take their
    median follow-up as one when ``inclusion.crude.timepoint`` is ``median_follow_up``."""
    tidy = tidy.copy()
    tidy["crude_timepoint"] = False
    if crude["pool"] and crude["timepoint"] == "median_follow_up" and "mfu_months" in tidy:
        use = (tidy["basis"] == "crude") & tidy["timepoint_months"].isna() & tidy["mfu_months"].notna()
        tidy.loc[use, "timepoint_months"] = tidy.loc[use, "mfu_months"]
        tidy.loc[use, "crude_timepoint"] = True
    return tidy


def _timepoint_detail(r, s: _Settings) -> str:
    when = r.timepoint_months if not pd.isna(r.timepoint_months) else "none"
    crude = r.basis == "crude" and pd.isna(r.timepoint_months)
    return f"time point {when} months is not within {s.tol:g} months of {[f'{t:g}' for t in s.targets]}" + (
        " (a crude proportion has no time point unless inclusion.crude.timepoint is median_follow_up)" if crude else ""
    )


ROB_ORDER = ("low", "some concerns", "high")


def _risk_of_bias_check(study_id: str, s: _Settings) -> tuple:
    """``inclusion.max_risk_of_bias``: the study's overall risk of bias is at most its ``level``; a study
    with no overall judgement ("not assessed", never read as high) is kept or left out as its
    ``not_assessed`` says (default keep)."""
    if s.max_rob is None:
        return True, ""
    level, unassessed = s.max_rob["level"], s.max_rob.get("not_assessed", "keep")
    overall = (s.rob or {}).get(str(study_id), "not assessed")
    if overall not in ROB_ORDER:
        return unassessed == "keep", (
            f"risk of bias not assessed (max_risk_of_bias {level!r} with not_assessed: exclude leaves it out)"
        )
    ok = ROB_ORDER.index(overall) <= ROB_ORDER.index(level)
    return ok, f"overall risk of bias {overall!r} is above max_risk_of_bias {level!r}"


def _row_checks(r, target, s: _Settings) -> tuple:
    """``(criterion, passes, detail)`` of one row, in the order of :data:`CRITERIA`."""
    c = s.criteria
    basis_hint = "" if r.basis != "crude" else " (set inclusion.crude.pool to pool crude proportions)"
    return (
        ("review", r.review in c["reviews"], f"review {r.review!r} not in {c['reviews']}"),
        ("excluded_study", r.study_id not in s.explicit, s.explicit.get(r.study_id, "")),
        ("risk_of_bias", *_risk_of_bias_check(r.study_id, s)),
        ("site", r.site in c["sites"], f"site {r.site!r} not in {c['sites']}"),
        ("endpoint", r.endpoint in c["endpoints"], f"endpoint {r.endpoint} not selected"),
        ("design", r.design in c["designs"], f"design {r.design!r} not in {c['designs']}"),
        ("primary", r.primary in s.primaries, f"primary {r.primary!r} not in {s.primaries}"),
        ("no_single_rate", not pd.isna(r.rate), f"no single rate to pool ({r.note or 'not reported'})"),
        ("basis", r.basis in s.basis, f"{r.basis} rate; only {s.basis} rates are pooled" + basis_hint),
        ("timepoint", target is not None, _timepoint_detail(r, s)),
        ("n_not_reported", not pd.isna(r.n), r.note or "sample size not reported"),
        ("min_n", pd.isna(r.n) or r.n >= c["min_n"], f"n = {r.n} < min_n = {c['min_n']}"),
    )


def _first_failures(tidy: pd.DataFrame, s: _Settings) -> pd.DataFrame:
    """A copy of ``tidy`` with each row's cell time point and the first row criterion it fails."""
    reasons, details, cells = [], [], []
    for r in tidy.itertuples(index=False):
        target = _target(r.timepoint_months, s.targets, s.tol)
        failed = next(((name, why) for name, ok, why in _row_checks(r, target, s) if not ok), None)
        reasons.append(failed[0] if failed else "")
        details.append(failed[1] if failed else "")
        cells.append(target)
    frame = tidy.copy()
    frame["target_timepoint_months"] = pd.array(cells, dtype="Float64")
    frame["criterion"] = reasons
    frame["detail"] = details
    return frame


def _one_row_per_study(frame: pd.DataFrame, s: _Settings) -> None:
    """One row per study in a pooling cell: arms or subgroups of one study that all
    survive the criteria are not independent studies. Keep the row whose primary
    comes first in the configured list, then the largest n, then the first printed.
    Marks the others in ``frame`` (in place)."""
    cand = frame[frame["criterion"] == ""].copy()
    cand["_prim"] = cand["primary"].map({p: i for i, p in enumerate(s.primaries)})
    prefer_primary = s.criteria.get("prefer_primary_sources", True)
    cand["_src"] = (cand.get("source_type", "review") == "review").astype(int) if prefer_primary else 0
    cand["_order"] = range(len(cand))
    cand = cand.sort_values(["_src", "_prim", "n", "_order"], ascending=[True, True, False, True], kind="mergesort")
    key = ["study_id", "site", "endpoint", "target_timepoint_months"]
    dup = cand.duplicated(key, keep="first")
    kept = cand[~dup].set_index(key)
    for idx in cand.index[dup]:
        r = frame.loc[idx]
        k = kept.loc[tuple(r[key])]
        frame.at[idx, "criterion"] = "one_row_per_study"
        from_other_source = "source_type" in frame and k["source_type"] != r["source_type"]
        frame.at[idx, "detail"] = (
            f"the same study is in this cell from {k['source_type']} ({k['raw_file']} {k['raw_row']}); "
            f"that row is kept (prefer_primary_sources)"
            if from_other_source
            else f"arm {r['arm']!r} of a study already in this cell; "
            f"kept arm {k['arm']!r} (primary {k['primary']}, n = {k['n']})"
        )


def _overlapping_cohorts(frame: pd.DataFrame, overlaps: list) -> None:
    """Overlapping cohorts: reports of one patient group count once per cell. By default
    the later report is kept, then the larger one. Marks the others in ``frame`` (in place)."""
    for group in overlaps:
        ids = set(group["studies"])
        live = frame[(frame["criterion"] == "") & frame["study_id"].isin(ids)]
        for _, cell in live.groupby(["site", "endpoint", "target_timepoint_months"], sort=False):
            if cell["study_id"].nunique() < 2:
                continue
            year = cell["year"] if "year" in cell else pd.Series(0, index=cell.index)
            order = cell.assign(_y=year.fillna(0), _n=cell["n"].fillna(0)).sort_values(
                ["_y", "_n"], ascending=[False, False], kind="mergesort"
            )
            keep = order.iloc[0]
            for idx in order.index[order["study_id"] != keep["study_id"]]:
                frame.at[idx, "criterion"] = "overlapping_cohort"
                frame.at[idx, "detail"] = (
                    f"{group['reason']}; kept {keep['study_id']} "
                    f"({keep['first_author']} {keep.get('year', '')}, n = {keep['n']}), "
                    "the later, larger report"
                )


def apply_inclusion(
    tidy: pd.DataFrame, criteria: dict, risk_of_bias: dict | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split the tidy table into included and excluded rows.

    Returns ``(included, excluded)``. ``included`` gains ``target_timepoint_months``
    (the pooling cell's time point); ``excluded`` gains ``criterion`` and ``detail``.
    ``risk_of_bias`` (``{study_id: overall}``) is read when ``criteria`` has ``max_risk_of_bias``.
    """
    settings = _Settings.of(criteria, risk_of_bias)
    frame = _first_failures(_crude_timepoints(tidy, settings.crude), settings)
    _one_row_per_study(frame, settings)
    _overlapping_cohorts(frame, criteria.get("overlaps", []))
    included = frame[frame["criterion"] == ""].drop(columns=["criterion", "detail"])
    excluded = frame[frame["criterion"] != ""].drop(columns=["target_timepoint_months"])
    return included.reset_index(drop=True), excluded.reset_index(drop=True)


def check_named_studies(tidy: pd.DataFrame, criteria: dict) -> None:
    """InputError for a study of ``inclusion.exclude_studies`` or ``inclusion.overlaps`` not in the data."""
    known = set(tidy["study_id"])
    for i, e in enumerate(criteria["exclude_studies"]):
        if e["study_id"] not in known:
            raise InputError(
                "names a study that is not in the data (study ids look like crc2014-50)",
                file="config/config.yaml",
                row=f"inclusion.exclude_studies[{i}]",
                column="study_id",
                value=e["study_id"],
            )
    for i, group in enumerate(criteria["overlaps"]):
        for sid in group["studies"]:
            if sid not in known:
                raise InputError(
                    "names a study that is not in the data (study ids look like sarcoma2023-20)",
                    file="config/config.yaml",
                    row=f"inclusion.overlaps[{i}]",
                    column="studies",
                    value=sid,
                )


def check_risk_of_bias_leaves_rows(included: pd.DataFrame, excluded: pd.DataFrame, criteria: dict) -> None:
    """One-line InputError when ``inclusion.max_risk_of_bias`` leaves out rows and no row is left: nothing
    could be pooled, and the message says why (how many studies were not assessed, how many above the level)."""
    rob = criteria.get("max_risk_of_bias")
    dropped = excluded[excluded["criterion"] == "risk_of_bias"] if len(excluded) else excluded
    if rob is None or len(included) or not len(dropped):
        return
    unassessed = dropped["detail"].astype(str).str.startswith("risk of bias not assessed")
    studies = dropped.groupby(unassessed)["study_id"].nunique()
    raise InputError(
        f"leaves out {len(dropped)} rows and no row is left to pool: {int(studies.get(True, 0))} studies not "
        f"assessed (not_assessed: {rob.get('not_assessed', 'keep')}), {int(studies.get(False, 0))} above level "
        f"{rob['level']!r}; keep the studies not assessed (not_assessed: keep) or raise the level",
        file="config",
        column="inclusion.max_risk_of_bias",
        value=rob,
    )
