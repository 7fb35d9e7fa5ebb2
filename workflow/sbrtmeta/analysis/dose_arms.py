"""The arms that enter the dose-response analysis, with one BED each.

Rows come from the inclusion step: the included rows plus the arms of multi-arm
studies that pooling set aside (``one_row_per_study``), because the dose-response
model keeps every arm and gives a study's arms a shared random effect. The BED is
recomputed here from the printed dose with the analysis' α/β and range rule, so
changing either reruns only the dose-response step.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sbrtmeta.data.dose_strings import parse_dose
from sbrtmeta.stats.dose_response import convert_to_timepoint

ARM_COLUMNS = (
    "study_id",
    "arm",
    "label",
    "site",
    "histology",
    "dose_text",
    "bed",
    "dose_rule",
    "endpoint",
    "timepoint_months",
    "printed_timepoint_months",
    "converted",
    "rate",
    "events",
    "n",
)


def dose_response_rows(
    included: pd.DataFrame,
    excluded: pd.DataFrame,
    endpoint: str = "LC",
    timepoint_months: float = 24.0,
    tolerance_months: float = 0.0,
    convert: bool = False,
    alpha_beta: float = 10.0,
    rule: str = "median_or_midpoint",
    histology: str = "review",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Arms for the dose-response fit and the arms left out, each with the reason.

    Rows within ``tolerance_months`` of ``timepoint_months`` are used as printed. With
    ``convert``, rows at other time points are moved to ``timepoint_months`` under a
    constant hazard and marked ``converted``. Returns ``(arms, left_out)``.
    """
    set_aside = excluded["criterion"] == "one_row_per_study"
    pool = pd.concat([included.assign(_src="included"), excluded[set_aside].assign(_src="excluded")], ignore_index=True)
    pool = pool[pool["endpoint"] == endpoint]
    rows, out = [], []
    # rows of the endpoint that the inclusion criteria left out, with the criterion
    for r in excluded[~set_aside & (excluded["endpoint"] == endpoint)].itertuples(index=False):
        hist = r.review_histology if histology == "review" else r.histology
        detail = f" ({r.detail})" if isinstance(getattr(r, "detail", None), str) and r.detail else ""
        out.append(
            dict(
                study_id=r.study_id,
                arm=r.arm,
                site=r.site,
                histology=hist,
                reason=f"not included: {r.criterion}{detail}",
            )
        )
    for r in pool.itertuples(index=False):
        why = ""
        t = r.timepoint_months
        spec = parse_dose(r.dose_text) if isinstance(r.dose_text, str) and r.dose_text.strip() else None
        summary = spec.summary(alpha_beta, rule) if spec is not None else None
        if summary is None:
            why = "no dose printed for this arm"
        elif not np.isfinite(summary.bed):
            why = f"no BED: {summary.rule}"
        elif pd.isna(t):
            why = "no time point"
        near = not pd.isna(t) and abs(float(t) - timepoint_months) <= tolerance_months
        if not why and not near and not convert:
            why = f"time point {t:g} months is not within {tolerance_months:g} of {timepoint_months:g}"
        hist = r.review_histology if histology == "review" else r.histology
        label = (r.first_author if isinstance(r.first_author, str) and r.first_author else "Ref.") + f" [{r.ref}]"
        if why:
            out.append(dict(study_id=r.study_id, arm=r.arm, site=r.site, histology=hist, reason=why))
            continue
        rate, events, converted = float(r.rate), int(r.events), False
        if not near:
            rate = float(convert_to_timepoint(rate, float(t), timepoint_months))
            events, converted = int(np.floor(rate * int(r.n) + 0.5)), True
        rows.append(
            dict(
                study_id=r.study_id,
                arm=r.arm,
                grouping=r.grouping,
                label=label,
                site=r.site,
                histology=hist,
                dose_text=r.dose_text,
                bed=summary.bed,
                dose_rule=summary.rule,
                endpoint=endpoint,
                timepoint_months=timepoint_months,
                printed_timepoint_months=float(t),
                converted=converted,
                rate=rate,
                events=events,
                n=int(r.n),
            )
        )
    arms = pd.DataFrame(rows).reindex(columns=list(ARM_COLUMNS) + ["grouping"])
    # Arms must not overlap: a study's whole-cohort row and its subgroups count the same
    # patients twice, and so do its dose arms and its histology subgroups. Keep one
    # partition per study: dose arms, else histology subgroups, else the whole cohort.
    rank = {"dose arm": 0, "histology subgroup": 1, "all": 2}
    arms["_g"] = arms["grouping"].map(rank).fillna(3)
    best = arms.groupby("study_id")["_g"].transform("min")
    for r in arms[arms["_g"] != best].itertuples():
        out.append(
            dict(
                study_id=r.study_id,
                arm=r.arm,
                site=r.site,
                histology=r.histology,
                reason="overlaps the study's other arms (one partition of a study's patients is kept)",
            )
        )
    arms = arms[arms["_g"] == best].drop(columns=["_g", "grouping"])
    # one row per study x arm (a study may print the same arm at 12 and 24 months)
    arms = (
        arms.assign(_d=(arms["printed_timepoint_months"] - timepoint_months).abs())
        .sort_values(["study_id", "arm", "_d"], kind="mergesort")
        .drop_duplicates(["study_id", "arm"])
        .drop(columns="_d")
    )
    return arms.reset_index(drop=True), pd.DataFrame(out, columns=["study_id", "arm", "site", "histology", "reason"])
