"""Inclusion criteria as structured rules: each exclusion names its criterion."""

from pathlib import Path

import pandas as pd
import pytest
import yaml
from sbrtmeta.data.extraction import clean_extraction
from sbrtmeta.data.inclusion import CRITERIA, apply_inclusion

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


@pytest.fixture(scope="module")
def tidy():
    return clean_extraction([ROOT / "data/raw/crc2014_extraction.csv"], ROOT / "data/raw/corrections.csv")


def _split(tidy, **change):
    criteria = {**CONFIG["inclusion"], **change}
    return apply_inclusion(tidy, criteria)


def test_every_row_is_included_or_excluded_once(tidy):
    inc, exc = _split(tidy)
    assert len(inc) + len(exc) == len(tidy)
    assert set(exc.criterion) <= set(CRITERIA)
    assert (exc.detail != "").all()


def test_default_exclusions_name_their_reason(tidy):
    _, exc = _split(tidy)
    by = exc.set_index(["study_id", "arm", "endpoint"])
    assert by.loc[("crc2014-94", "all", "LC"), "criterion"] == "no_single_rate"
    assert by.loc[("crc2014-98", "all", "LC"), "criterion"] == "n_not_reported"
    assert by.loc[("crc2014-86", "all", "LC"), "criterion"] == "basis"
    assert by.loc[("crc2014-52", "all", "LC"), "criterion"] == "timepoint"
    assert by.loc[("crc2014-44", "others", "LC"), "criterion"] == "primary"
    assert by.loc[("crc2014-75", "all", "LC"), "criterion"] == "one_row_per_study"


def test_one_row_per_study_per_cell(tidy):
    inc, _ = _split(tidy)
    assert not inc.duplicated(["study_id", "site", "endpoint", "target_timepoint_months"]).any()


def test_tolerance_window_moves_rows_into_a_cell(tidy):
    inc, _ = _split(tidy, timepoints={"targets": [24], "tolerance_months": 4})
    katz = inc[inc.study_id == "crc2014-52"]
    assert set(katz.timepoint_months) == {20} and set(katz.target_timepoint_months) == {24}


def test_explicit_exclusion_carries_its_reason(tidy):
    _, exc = _split(tidy, exclude_studies=[{"study_id": "crc2014-53", "reason": "patient counts copied"}])
    rows = exc[exc.study_id == "crc2014-53"]
    assert set(rows.criterion) == {"excluded_study"} and set(rows.detail) == {"patient counts copied"}


def test_min_n_and_sites(tidy):
    inc, exc = _split(tidy, min_n=30, sites=["lung"])
    assert (inc.n >= 30).all() and set(inc.site) == {"lung"}
    assert "min_n" in set(exc.criterion) and "site" in set(exc.criterion)


def test_primary_order_picks_the_arm(tidy):
    inc, _ = _split(tidy, primaries=["unspecified", "mixed", "crc"])
    oh = inc[(inc.study_id == "crc2014-75") & (inc.endpoint == "LC")]
    assert list(oh.arm) == ["all"]


@pytest.fixture(scope="module")
def both():
    return clean_extraction(
        [ROOT / "data/raw/crc2014_extraction.csv", ROOT / "data/raw/primary_studies.csv"],
        ROOT / "data/raw/corrections.csv",
    )


def test_overlapping_cohorts_keep_the_later_larger_report(both):
    inc, exc = _split(both)
    baumann = exc[exc.study_id == "sarcoma2023-20"]
    assert set(baumann.criterion) == {"overlapping_cohort"}
    assert baumann.detail.str.contains("kept sarcoma2023-21").all()
    assert "sarcoma2023-21" in set(inc.study_id)
    # reports of one group are never pooled together
    for _, cell in inc.groupby(["site", "endpoint", "target_timepoint_months"]):
        assert not {"sarcoma2023-20", "sarcoma2023-21"} <= set(cell.study_id)


def test_primary_source_preferred_over_the_review_text(both):
    inc, exc = _split(both)
    kim = inc[(inc.study_id == "crc2014-92") & (inc.endpoint == "LC")]
    assert list(kim.source_type) == ["primary study"] and list(kim.rate) == [0.743]
    dropped = exc[(exc.study_id == "crc2014-92") & (exc.endpoint == "LC")]
    assert set(dropped.criterion) == {"one_row_per_study"}


def test_crude_rates_are_kept_apart_by_default_and_pooled_on_request(both):
    _, exc = _split(both)
    lindsay = exc[(exc.study_id == "sarcoma2023-26") & (exc.endpoint == "LC")].iloc[0]
    assert lindsay.criterion == "basis" and "crude" in lindsay.detail
    inc, _ = _split(
        both,
        crude={"pool": True, "timepoint": "median_follow_up"},
        timepoints={"targets": [12, 24], "tolerance_months": 3},
    )
    lindsay = inc[(inc.study_id == "sarcoma2023-26") & (inc.endpoint == "LC")].iloc[0]
    assert (lindsay.timepoint_months, lindsay.target_timepoint_months, lindsay.crude_timepoint) == (14.2, 12, True)


def test_unusable_and_unreported_outcomes_are_listed_not_dropped(both):
    _, exc = _split(both)
    soyfer = exc[(exc.study_id == "sarcoma2023-25") & (exc.endpoint == "LC")].iloc[0]
    assert soyfer.criterion == "no_single_rate" and "unusable" in soyfer.detail
    assert "sarcoma2023-27" in set(exc.study_id)  # Navarria 2022: not found


def test_reviews_can_be_chosen(both):
    inc, exc = _split(both, reviews=["sarcoma2023"])
    assert set(inc.review) == {"sarcoma2023"}
    assert set(exc[exc.review == "crc2014"].criterion) == {"review"}


# --- inclusion checked by reasoning --------------------------------------------------------------
# tests/fixtures/inclusion/: a tidy sheet of invented rows, criteria under which each criterion
# leaves out exactly the rows built for it, and the expected outcome of every row written by hand
# from the rules (config/README.md, README.md, the comments of config/config.yaml). The replay
# checks in test_workflow.py compare with the pipeline's own earlier output; this one does not.

INCL = ROOT / "tests" / "fixtures" / "inclusion"


def _reasoned_split(**change):
    tidy = clean_extraction([], tidy_sheets=[INCL / "sheet.csv"], review_histology={"own": "colorectal"})
    criteria = {**yaml.safe_load((INCL / "criteria.yaml").read_text()), **change}
    return tidy, *apply_inclusion(tidy, criteria)


def _outcomes(inc, exc):
    key = ["study_id", "arm", "endpoint", "source_type"]
    got = {tuple(r[key]): ("included", float(r.target_timepoint_months)) for _, r in inc.iterrows()}
    got.update({tuple(r[key]): (r.criterion, None) for _, r in exc.iterrows()})
    return got


def test_each_criterion_excludes_exactly_the_rows_it_names():
    tidy, inc, exc = _reasoned_split()
    expected = pd.read_csv(INCL / "expected.csv", keep_default_na=False)
    assert len(inc) + len(exc) == len(tidy) == len(expected)
    want = {
        (r.study_id, r.arm, r.endpoint, r.source_type): (
            r.outcome,
            float(r.target_timepoint_months) if r.outcome == "included" else None,
        )
        for r in expected.itertuples()
    }
    got = _outcomes(inc, exc)
    wrong = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
    assert not wrong, f"(got, expected) by row: {wrong}"
    # every criterion the fixture is built for is exercised
    assert set(exc.criterion) == {
        "review",
        "excluded_study",
        "site",
        "design",
        "primary",
        "basis",
        "timepoint",
        "n_not_reported",
        "min_n",
        "one_row_per_study",
        "overlapping_cohort",
    }
    explicit = exc[exc.criterion == "excluded_study"]
    assert list(explicit.detail) == ["left out on purpose for the test"]


def test_without_preferring_primary_sources_the_larger_row_is_kept():
    # prefer_primary_sources false: the two readings of source-1 are two rows of one study in one
    # cell, and the rule for those is the larger n (both primary crc): the review's n = 50 row.
    _, inc, exc = _reasoned_split(prefer_primary_sources=False)
    got = _outcomes(inc, exc)
    assert got[("source-1", "all", "LC", "review")] == ("included", 24.0)
    assert got[("source-1", "all", "LC", "primary study")] == ("one_row_per_study", None)


def test_a_wider_tolerance_moves_the_rows_it_reaches():
    # tolerance 3: 27 is 3 months from 24 (tol-out joins the 24-month cell); 18 is 6 from 12 and 24 (still out)
    timepoints = {"targets": [12, 24], "tolerance_months": 3}
    _, inc, exc = _reasoned_split(timepoints=timepoints)
    got = _outcomes(inc, exc)
    assert got[("tol-out", "all", "LC", "primary study")] == ("included", 24.0)
    assert got[("time-1", "all", "LC", "primary study")] == ("timepoint", None)
