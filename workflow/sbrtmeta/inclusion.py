"""Inclusion criteria: structured rules from config, applied row by row.

Every criterion is data (lists, numbers, study ids), never an expression to
evaluate. Criteria are tried in a fixed order and the first one a row fails is
recorded as the reason it was excluded, so ``excluded.csv`` names exactly one
criterion per row.
"""

from __future__ import annotations

import pandas as pd

CRITERIA = (
    "review", "excluded_study", "site", "endpoint", "design", "primary", "no_single_rate",
    "basis", "timepoint", "n_not_reported", "min_n", "one_row_per_study",
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


def apply_inclusion(tidy: pd.DataFrame, criteria: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split the tidy table into included and excluded rows.

    Returns ``(included, excluded)``. ``included`` gains ``target_timepoint_months``
    (the pooling cell's time point); ``excluded`` gains ``criterion`` and ``detail``.
    """
    explicit = {e["study_id"]: e["reason"] for e in criteria.get("exclude_studies", [])}
    tp = criteria["timepoints"]
    targets, tol = [float(t) for t in tp["targets"]], float(tp["tolerance_months"])
    primaries = list(criteria["primaries"])
    reasons, details, cells = [], [], []
    for r in tidy.itertuples(index=False):
        target = _target(r.timepoint_months, targets, tol)
        checks = (
            ("review", r.review in criteria["reviews"], f"review {r.review!r} not in {criteria['reviews']}"),
            ("excluded_study", r.study_id not in explicit, explicit.get(r.study_id, "")),
            ("site", r.site in criteria["sites"], f"site {r.site!r} not in {criteria['sites']}"),
            ("endpoint", r.endpoint in criteria["endpoints"], f"endpoint {r.endpoint} not selected"),
            ("design", r.design in criteria["designs"], f"design {r.design!r} not in {criteria['designs']}"),
            ("primary", r.primary in primaries, f"primary {r.primary!r} not in {primaries}"),
            ("no_single_rate", not pd.isna(r.rate), f"no single rate to pool ({r.note or 'not reported'})"),
            ("basis", r.basis in criteria["basis"], f"{r.basis} rate; only {criteria['basis']} rates are pooled"),
            ("timepoint", target is not None,
             f"time point {r.timepoint_months if not pd.isna(r.timepoint_months) else 'none'} months "
             f"is not within {tol:g} months of {[f'{t:g}' for t in targets]}"),
            ("n_not_reported", not pd.isna(r.n), r.note or "sample size not reported"),
            ("min_n", pd.isna(r.n) or r.n >= criteria["min_n"], f"n = {r.n} < min_n = {criteria['min_n']}"),
        )
        failed = next(((name, why) for name, ok, why in checks if not ok), None)
        reasons.append(failed[0] if failed else "")
        details.append(failed[1] if failed else "")
        cells.append(target)
    frame = tidy.copy()
    frame["target_timepoint_months"] = pd.array(cells, dtype="Float64")
    frame["criterion"] = reasons
    frame["detail"] = details

    # One row per study in a pooling cell: arms or subgroups of one study that all
    # survive the criteria are not independent studies. Keep the row whose primary
    # comes first in the configured list, then the largest n, then the first printed.
    ok = frame["criterion"] == ""
    cand = frame[ok].copy()
    cand["_prim"] = cand["primary"].map({p: i for i, p in enumerate(primaries)})
    cand["_order"] = range(len(cand))
    cand = cand.sort_values(["_prim", "n", "_order"], ascending=[True, False, True], kind="mergesort")
    key = ["study_id", "site", "endpoint", "target_timepoint_months"]
    dup = cand.duplicated(key, keep="first")
    kept = cand[~dup].set_index(key)
    for idx in cand.index[dup]:
        r = frame.loc[idx]
        k = kept.loc[tuple(r[key])]
        frame.at[idx, "criterion"] = "one_row_per_study"
        frame.at[idx, "detail"] = (f"arm {r['arm']!r} of a study already in this cell; "
                                   f"kept arm {k['arm']!r} (primary {k['primary']}, n = {k['n']})")
    included = frame[frame["criterion"] == ""].drop(columns=["criterion", "detail"])
    excluded = frame[frame["criterion"] != ""].drop(columns=["target_timepoint_months"])
    return included.reset_index(drop=True), excluded.reset_index(drop=True)
