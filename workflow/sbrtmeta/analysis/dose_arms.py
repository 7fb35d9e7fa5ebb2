"""The arms that enter the dose-response analysis, with one BED each.

Rows come from the inclusion step: the included rows plus the arms of multi-arm
studies that pooling set aside (``one_row_per_study``), because the dose-response
model keeps every arm and gives a study's arms a shared random effect. The BED is
recomputed here from the printed dose with the analysis' α/β and range rule, so
changing either reruns the dose-response fits (and what reads their tables), not the pooling.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sbrtmeta.analysis.curves import one_report_per_cohort
from sbrtmeta.data.dose_strings import parse_dose
from sbrtmeta.data.inclusion import apply_inclusion
from sbrtmeta.data.study_labels import study_label
from sbrtmeta.stats.effect_sizes import convert_to_timepoint

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


def _not_included(excluded: pd.DataFrame, endpoint: str, histology: str) -> list[dict]:
    """Rows of the endpoint that the inclusion criteria left out, with the criterion."""
    set_aside = excluded["criterion"] == "one_row_per_study"
    out = []
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
    return out


def _arm(r, endpoint, timepoint_months, tolerance_months, convert, alpha_beta, rule, histology) -> tuple[dict, str]:
    """One row of the pool as an arm with its BED, or why it is left out (``(row, why)``)."""
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
    if why:
        return dict(study_id=r.study_id, arm=r.arm, site=r.site, histology=hist, reason=why), why
    label = study_label(r.first_author, getattr(r, "year", None), r.ref)
    rate, events, converted = float(r.rate), int(r.events), False
    if not near:
        rate = float(convert_to_timepoint(rate, float(t), timepoint_months))
        events, converted = int(np.floor(rate * int(r.n) + 0.5)), True
    row = dict(
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
    return row, ""


def _one_partition(arms: pd.DataFrame, out: list[dict]) -> pd.DataFrame:
    """Arms must not overlap: a study's whole-cohort row and its subgroups count the same
    patients twice, and so do its dose arms and its histology subgroups. Keep one
    partition per study: dose arms, else histology subgroups, else the whole cohort.
    The others are appended to ``out`` with the reason."""
    rank = {"dose arm": 0, "histology subgroup": 1, "all": 2}
    arms = arms.assign(_g=arms["grouping"].map(rank).fillna(3))
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
    return arms[arms["_g"] == best].drop(columns=["_g", "grouping"])


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
    every_time: bool = False,
    overlaps: tuple = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Arms for the dose-response fit and the arms left out, each with the reason.

    Rows within ``tolerance_months`` of ``timepoint_months`` are used as printed. With
    ``convert``, rows at other time points are moved to ``timepoint_months`` under a
    constant hazard and marked ``converted``. With ``every_time`` (the dose x time model)
    every rate of an arm is kept at its printed month (``printed_timepoint_months``), one row
    per arm and month, and of reports of one cohort (``overlaps``, ``inclusion.overlaps``) only the
    latest report's rows (:func:`sbrtmeta.analysis.curves.one_report_per_cohort`). Returns
    ``(arms, left_out)``.
    """
    set_aside = excluded["criterion"] == "one_row_per_study"
    pool = pd.concat([included.assign(_src="included"), excluded[set_aside].assign(_src="excluded")], ignore_index=True)
    pool = pool[pool["endpoint"] == endpoint]
    if every_time:  # reports of one cohort at different months (kept one per month) count once
        pool = one_report_per_cohort(pool, overlaps)
    out = _not_included(excluded, endpoint, histology)
    rows = []
    for r in pool.itertuples(index=False):
        if every_time and not pd.isna(r.timepoint_months):  # every month counts as printed
            row, why = _arm(r, endpoint, float(r.timepoint_months), 0.0, False, alpha_beta, rule, histology)
            if not why:
                row["timepoint_months"] = timepoint_months
        else:
            row, why = _arm(r, endpoint, timepoint_months, tolerance_months, convert, alpha_beta, rule, histology)
        (out if why else rows).append(row)
    arms = _one_partition(pd.DataFrame(rows).reindex(columns=list(ARM_COLUMNS) + ["grouping"]), out)
    if every_time:  # the dose x time model: every rate of an arm, one per printed month
        arms = arms.sort_values(["study_id", "arm", "printed_timepoint_months"], kind="mergesort")
        arms = arms.drop_duplicates(["study_id", "arm", "printed_timepoint_months"])
        return arms.reset_index(drop=True), pd.DataFrame(
            out, columns=["study_id", "arm", "site", "histology", "reason"]
        )
    # one row per study x arm (a study may print the same arm at 12 and 24 months)
    arms = (
        arms.assign(_d=(arms["printed_timepoint_months"] - timepoint_months).abs())
        .sort_values(["study_id", "arm", "_d"], kind="mergesort")
        .drop_duplicates(["study_id", "arm"])
        .drop(columns="_d")
    )
    return arms.reset_index(drop=True), pd.DataFrame(out, columns=["study_id", "arm", "site", "histology", "reason"])


def select_dose_arms(
    outcomes: pd.DataFrame, inclusion: dict, dose: dict, histology: str = "review", risk_of_bias: dict | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The arms of the dose-response analysis from the tidy ``outcomes``: ``(arms, left_out)``.

    The inclusion criteria of config (``inclusion``) are applied again with the
    dose-response endpoint and time window (``dose``: the ``dose_response`` config;
    any time point when ``convert_timepoint`` is true; every time point, each its own, when
    ``time`` is ``model``), so that the analysis uses the
    same studies as pooling; then :func:`dose_response_rows` recomputes each arm's BED
    with ``dose["alpha_beta"]`` and ``dose["dose_rule"]``. ``risk_of_bias``
    (``{study_id: overall}``) serves ``inclusion.max_risk_of_bias``, as in pooling.
    """
    t, tol, convert = float(dose["timepoint_months"]), float(dose["tolerance_months"]), bool(dose["convert_timepoint"])
    every_time = dose.get("time", "timepoint") == "model"
    criteria = dict(inclusion)
    criteria["endpoints"] = [dose["endpoint"]]
    criteria["timepoints"] = {"targets": [t], "tolerance_months": float("inf") if convert else tol}
    if every_time:  # each printed month its own target, so one arm per study and month is chosen as in pooling
        times = sorted(float(x) for x in pd.unique(outcomes["timepoint_months"].dropna()))
        criteria["timepoints"] = {"targets": times or [t], "tolerance_months": 0.0}
    included, excluded = apply_inclusion(outcomes, criteria, risk_of_bias)
    return dose_response_rows(
        included,
        excluded,
        dose["endpoint"],
        t,
        tol,
        convert and not every_time,
        float(dose["alpha_beta"]),
        dose["dose_rule"],
        histology,
        every_time=every_time,
        overlaps=tuple(inclusion.get("overlaps", [])),
    )
