"""Which arms enter the dose-response analysis, with which BED, and why others do not."""

import numpy as np
import pandas as pd
import pytest
from sbrtmeta.analysis.dose_arms import dose_response_rows
from sbrtmeta.data.dose_strings import parse_dose
from sbrtmeta.stats.effect_sizes import convert_to_timepoint


def _row(
    study,
    arm="all",
    dose="48/4",
    t=24.0,
    rate=0.8,
    n=50,
    grouping="all",
    site="liver",
    endpoint="LC",
    histology="colorectal",
):
    return dict(
        study_id=study,
        ref=study[-2:],
        first_author="Author",
        arm=arm,
        grouping=grouping,
        site=site,
        histology=histology,
        review_histology=histology,
        dose_text=dose,
        endpoint=endpoint,
        timepoint_months=t,
        rate=rate,
        n=n,
        events=int(np.floor(rate * n + 0.5)),
    )


def _tables(rows, excluded_rows=()):
    inc = pd.DataFrame(rows)
    exc = pd.DataFrame(list(excluded_rows), columns=list(inc.columns) + ["criterion", "detail"])
    return inc, exc


def test_bed_comes_from_the_printed_dose_with_the_analysis_alpha_beta_and_rule():
    inc, exc = _tables([_row("s-01", dose="48/4"), _row("s-02", dose="28-30/3-4")])
    for ab, rule in ((10, "median_or_midpoint"), (3, "minimum"), (3, "maximum")):
        arms, out = dose_response_rows(inc, exc, alpha_beta=ab, rule=rule)
        for r in arms.itertuples():
            s = parse_dose(r.dose_text).summary(ab, rule)
            assert r.bed == s.bed and r.dose_rule == s.rule
    arms, out = dose_response_rows(inc, exc, rule="exclude_ranges")
    assert list(arms.study_id) == ["s-01"]
    assert out.loc[out.study_id == "s-02", "reason"].str.startswith("no BED").all()


def test_time_points_outside_the_tolerance_are_left_out_or_converted():
    inc, exc = _tables([_row("s-01", t=24), _row("s-02", t=20, rate=0.9), _row("s-03", t=12, rate=0.9)])
    arms, out = dose_response_rows(inc, exc, timepoint_months=24, tolerance_months=0)
    assert list(arms.study_id) == ["s-01"]
    assert set(out.study_id) == {"s-02", "s-03"} and out.reason.str.contains("not within").all()
    arms, _ = dose_response_rows(inc, exc, timepoint_months=24, tolerance_months=4)
    assert list(arms.study_id) == ["s-01", "s-02"] and not arms.converted.any()
    assert arms.loc[arms.study_id == "s-02", "rate"].item() == 0.9  # as printed, not converted
    arms, _ = dose_response_rows(inc, exc, timepoint_months=24, tolerance_months=0, convert=True)
    assert list(arms.converted) == [False, True, True]
    s3 = arms[arms.study_id == "s-03"].iloc[0]
    assert s3.rate == pytest.approx(convert_to_timepoint(0.9, 12, 24)) and s3.printed_timepoint_months == 12
    assert s3.events == int(np.floor(s3.rate * 50 + 0.5)) and s3.timepoint_months == 24


def test_one_partition_of_a_study_is_kept_and_the_rest_said():
    rows = [
        _row("s-01", arm="all", dose="30/3"),
        _row("s-01", arm="40 Gy", dose="40/3", grouping="dose arm"),
        _row("s-01", arm="60 Gy", dose="60/3", grouping="dose arm"),
        _row("s-02", arm="CRC", grouping="histology subgroup"),
        _row("s-02", arm="all"),
    ]
    inc, exc = _tables(
        rows[:1] + rows[3:4], [dict(r, criterion="one_row_per_study", detail="") for r in rows[1:3] + rows[4:]]
    )
    arms, out = dose_response_rows(inc, exc)
    assert sorted(zip(arms.study_id, arms.arm)) == [("s-01", "40 Gy"), ("s-01", "60 Gy"), ("s-02", "CRC")]
    said = out[out.reason.str.startswith("overlaps")]
    assert sorted(zip(said.study_id, said.arm)) == [("s-01", "all"), ("s-02", "all")]


def test_rows_the_criteria_excluded_are_listed_with_the_criterion():
    inc, exc = _tables(
        [_row("s-01")],
        [
            dict(_row("s-02"), criterion="n_not_reported", detail="arm n not printed"),
            dict(_row("s-03", endpoint="OS"), criterion="min_n", detail=""),
        ],
    )
    arms, out = dose_response_rows(inc, exc)
    assert list(arms.study_id) == ["s-01"]
    assert list(out.study_id) == ["s-02"]  # only the analysed endpoint
    assert out.reason.item() == "not included: n_not_reported (arm n not printed)"


def test_an_arm_without_a_dose_is_said_not_dropped():
    inc, exc = _tables([_row("s-01"), _row("s-02", dose=""), _row("s-03", dose="not reported")])
    arms, out = dose_response_rows(inc, exc)
    assert list(arms.study_id) == ["s-01"]
    assert sorted(out.study_id) == ["s-02", "s-03"] and (out.reason == "no dose printed for this arm").all()


def test_histology_review_or_row():
    rows = [_row("s-01", histology="mixed")]
    rows[0]["review_histology"] = "colorectal"
    inc, exc = _tables(rows)
    assert dose_response_rows(inc, exc, histology="review")[0].histology.item() == "colorectal"
    assert dose_response_rows(inc, exc, histology="row")[0].histology.item() == "mixed"
