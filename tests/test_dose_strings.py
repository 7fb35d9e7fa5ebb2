"""Every printed dose form parses to its regimens; BED follows the LQ model."""

import numpy as np
import pytest
from sbrtmeta.data.dose_strings import Regimen, bed, eqd2, parse_dose
from sbrtmeta.data.errors import CellParseError


@pytest.mark.parametrize(
    "printed, regimens, median",
    [
        ("14-26/1", [(14, 26, 1, 1)], None),
        ("26/1", [(26, 26, 1, 1)], None),
        ("28-30/3-4", [(28, 30, 3, 4)], None),
        ("36-37.5/3 or 26/1", [(36, 37.5, 3, 3), (26, 26, 1, 1)], None),
        ("50/5f preferred", [(50, 50, 5, 5)], None),
        ("36-60/3", [(36, 60, 3, 3)], None),
        ("27.7-60/6 (median: 41.8)", [(27.7, 60, 6, 6)], 41.8),
        ("37.5-45/3f preferred", [(37.5, 45, 3, 3)], None),
        ("30/3", [(30, 30, 3, 3)], None),
        ("3/30", [(3, 3, 30, 30)], None),  # as printed; the ledger repairs it to 30/3
        ("52.5-75/3", [(52.5, 75, 3, 3)], None),
        ("30-37.5/3 or 26/1", [(30, 37.5, 3, 3), (26, 26, 1, 1)], None),
        ("50/10", [(50, 50, 10, 10)], None),
        ("50-60/4-5", [(50, 60, 4, 5)], None),
        ("26/1 or 36-45/3", [(26, 26, 1, 1), (36, 45, 3, 3)], None),
        ("60/3-8", [(60, 60, 3, 8)], None),
        ("48/4, 52-60/4 or 50/5", [(48, 48, 4, 4), (52, 60, 4, 4), (50, 50, 5, 5)], None),
        ("36-51 Gy in 3 fractions", [(36, 51, 3, 3)], None),
        ("median total dose of 39 (range, 30-51) Gy in 3 fractions", [(30, 51, 3, 3)], 39),
        ("median total dose of 32 Gy in 4 fractions", [(32, 32, 4, 4)], 32),
        ("median 50 Gy in 4-5 fractions", [(50, 50, 4, 5)], 50),
        ("50 Gy in 5 Gy fractions preferred", [(50, 50, 10, 10)], None),
        ("median 54 Gy (36-54) in 3-4 fractions", [(36, 54, 3, 4)], 54),
        (
            "risk-adapted: 30/1, 60/3, 60/8, 48/4 (Gy/fractions)",
            [(30, 30, 1, 1), (60, 60, 3, 3), (60, 60, 8, 8), (48, 48, 4, 4)],
            None,
        ),
        ("10-48 Gy in 1-5 fractions (4-20 Gy per fraction)", [(10, 48, 1, 5)], None),
        ("curative median 40 Gy in 5 fractions (30-60 Gy, 3-10 fractions)", [(30, 60, 3, 10)], 40),
        ("36-51 Gy in 3 fractions (escalated)", [(36, 51, 3, 3)], None),
        ("30-51 Gy (median 39) in 3 fractions", [(30, 51, 3, 3)], 39),
        ("36 Gy in 3 fractions for most; 8 single fraction", [(36, 36, 3, 3)], None),
    ],
)
def test_printed_forms(printed, regimens, median):
    spec = parse_dose(printed)
    assert spec.regimens == tuple(Regimen(*r) for r in regimens)
    assert spec.median_total == median


def test_not_reported_doses():
    assert parse_dose("not reported") is None
    spec = parse_dose("median 50 Gy; fractions not reported")
    assert (spec.regimens, spec.median_total, spec.summary().rule) == ((), 50, "fractions not reported")
    spec = parse_dose("50 Gy total per nodule in 84% of patients; fractions not reported")
    assert spec.regimens == () and spec.median_total is None and "84% of patients" in spec.notes[0]


def test_median_with_its_own_fractions_gives_the_dose():
    s = parse_dose("curative median 40 Gy in 5 fractions (30-60 Gy, 3-10 fractions)").summary()
    assert (s.rule, s.total_dose_gy, s.fractions) == ("printed median", 40, 5)
    assert parse_dose("36 Gy in 3 fractions for most; 8 single fraction").notes == ("8 single fraction",)


@pytest.mark.parametrize(
    "printed",
    ["Oct-50", "May-50", "Apr-48", "3/8/1960", "fifty Gy", "", "50/0", "60-50/3", "50 Gy", "45 Gy in 7 Gy fractions"],
)
def test_unreadable_or_mangled_strings_raise(printed):
    with pytest.raises(CellParseError):
        parse_dose(printed)


def test_bed_and_eqd2_follow_the_linear_quadratic_model():
    # BED = n d (1 + d / (alpha/beta)), d = total / n
    assert bed(50, 5, 10) == pytest.approx(5 * 10 * (1 + 10 / 10))
    assert bed(60, 3, 3) == pytest.approx(3 * 20 * (1 + 20 / 3))
    assert eqd2(50, 5, 10) == pytest.approx(bed(50, 5, 10) / (1 + 2 / 10))


def test_summary_rules():
    assert parse_dose("50/5").summary().rule == "single regimen"
    s = parse_dose("27.7-60/6 (median: 41.8)").summary()
    assert (s.rule, s.total_dose_gy, s.fractions) == ("printed median", 41.8, 6)
    assert s.bed == pytest.approx(bed(41.8, 6))
    s = parse_dose("36-60/3").summary()
    assert s.rule == "midpoint of BED range"
    assert s.bed == pytest.approx((bed(36, 3) + bed(60, 3)) / 2)
    s = parse_dose("60/3-8").summary()
    assert s.bed == pytest.approx((bed(60, 8) + bed(60, 3)) / 2)
    assert s.total_dose_gy is None


@pytest.mark.parametrize(
    "rule, expected",
    [
        ("median_or_midpoint", (bed(36, 3) + bed(60, 3)) / 2),
        ("minimum", bed(36, 3)),
        ("maximum", bed(60, 3)),
    ],
)
def test_range_rules(rule, expected):
    s = parse_dose("36-60/3").summary(rule=rule)
    assert s.bed == pytest.approx(expected)


def test_exclude_ranges_and_exact_doses():
    assert np.isnan(parse_dose("36-60/3").summary(rule="exclude_ranges").bed)
    for rule in ("minimum", "maximum", "exclude_ranges"):
        assert parse_dose("50/5").summary(rule=rule).bed == pytest.approx(bed(50, 5))
    with pytest.raises(ValueError, match="dose rule"):
        parse_dose("50/5").summary(rule="mean")


def test_alpha_beta_changes_bed():
    assert parse_dose("50/5").summary(alpha_beta=3).bed == pytest.approx(bed(50, 5, 3))


def test_every_dose_string_in_data_raw_parses():
    """Every printed dose in the shipped sheets (after the corrections ledger) parses to
    regimens, or says the dose is not reported; none is dropped on the way."""
    import csv
    from pathlib import Path

    from sbrtmeta.data.extraction import clean_extraction

    root = Path(__file__).resolve().parents[1]
    sheets = [root / "data/raw/crc2014_extraction.csv", root / "data/raw/primary_studies.csv"]
    tidy = clean_extraction(sheets, root / "data/raw/corrections.csv")
    seen = 0
    for sheet in sheets:
        with open(sheet, newline="", encoding="utf-8") as fh:
            printed = {r["row_id"]: r["dose_printed"] for r in csv.DictReader(fh) if r["dose_printed"].strip()}
        rows = tidy[tidy["raw_file"].astype(str).str.endswith(sheet.name)]
        for row_id, text in printed.items():
            got = rows.loc[rows["raw_row"].astype(str) == row_id, "dose_text"].dropna().unique()
            got = [g for g in got if g.strip()]  # a row printing two arms' doses gives two arms
            assert got, f"{sheet.name} {row_id}: dose {text!r} was dropped"
            for g in got:
                spec = parse_dose(g)
                assert spec is None or spec.regimens or spec.median_total is not None or spec.notes, (row_id, g)
            seen += 1
    assert seen > 0
