"""Inclusion criteria: structured rules from config, applied row by row.

Every criterion is data (lists, numbers, study ids), never an expression to
evaluate. Criteria are tried in a fixed order and the first one a row fails is
recorded as the reason it was excluded, so ``excluded.csv`` names exactly one
criterion per row.
"""

from __future__ import annotations

import pandas as pd

TEXT_COLUMNS = ("first_author", "note", "corrected_columns", "dose_text", "dose_rule", "n_basis")
COUNT_COLUMNS = ("n", "events", "n_patients", "n_lesions", "fractions", "year")


def read_outcomes(path) -> pd.DataFrame:
    """``results/clean/outcomes.csv`` as the criteria expect it: the text columns as
    strings ("" when empty; ``ref`` stays text too) and the counts as nullable integers."""
    tidy = pd.read_csv(path, dtype={"ref": str, **{c: str for c in TEXT_COLUMNS}})
    for c in TEXT_COLUMNS:
        tidy[c] = tidy[c].fillna("")
    for c in COUNT_COLUMNS:
        tidy[c] = tidy[c].astype("Int64")
    return tidy


CRITERIA = (
    "review",
    "excluded_study",
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


def apply_inclusion(tidy: pd.DataFrame, criteria: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split the tidy table into included and excluded rows.

    Returns ``(included, excluded)``. ``included`` gains ``target_timepoint_months``
    (the pooling cell's time point); ``excluded`` gains ``criterion`` and ``detail``.
    """
    explicit = {e["study_id"]: e["reason"] for e in criteria.get("exclude_studies", [])}
    tp = criteria["timepoints"]
    targets, tol = [float(t) for t in tp["targets"]], float(tp["tolerance_months"])
    primaries = list(criteria["primaries"])
    crude = criteria.get("crude", {"pool": False, "timepoint": "none"})
    basis = list(criteria["basis"]) + (["crude"] if crude["pool"] and "crude" not in criteria["basis"] else [])
    tidy = tidy.copy()
    tidy["crude_timepoint"] = False
    if crude["pool"] and crude["timepoint"] == "median_follow_up" and "mfu_months" in tidy:
        use = (tidy["basis"] == "crude") & tidy["timepoint_months"].isna() & tidy["mfu_months"].notna()
        tidy.loc[use, "timepoint_months"] = tidy.loc[use, "mfu_months"]
        tidy.loc[use, "crude_timepoint"] = True
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
            (
                "basis",
                r.basis in basis,
                f"{r.basis} rate; only {basis} rates are pooled"
                + ("" if r.basis != "crude" else " (set inclusion.crude.pool to pool crude proportions)"),
            ),
            (
                "timepoint",
                target is not None,
                f"time point {r.timepoint_months if not pd.isna(r.timepoint_months) else 'none'} months "
                f"is not within {tol:g} months of {[f'{t:g}' for t in targets]}"
                + (
                    " (a crude proportion has no time point unless inclusion.crude.timepoint is median_follow_up)"
                    if r.basis == "crude" and pd.isna(r.timepoint_months)
                    else ""
                ),
            ),
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
    prefer_primary = criteria.get("prefer_primary_sources", True)
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

    # Overlapping cohorts: reports of one patient group count once per cell. By default
    # the later report is kept, then the larger one.
    for group in criteria.get("overlaps", []):
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
    included = frame[frame["criterion"] == ""].drop(columns=["criterion", "detail"])
    excluded = frame[frame["criterion"] != ""].drop(columns=["target_timepoint_months"])
    return included.reset_index(drop=True), excluded.reset_index(drop=True)
