"""Every printed dose form parses to its regimens; BED follows the LQ model."""

import numpy as np
import pandas as pd
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


# --- BED10 of every shipped dose string, worked out by hand --------------------------------------
# BED = D (1 + d / (α/β)) with D the total dose, n the fractions, d = D / n and α/β = 10 Gy
# (config cleanup.alpha_beta and dose_response.alpha_beta). The rule (config dose_rule
# median_or_midpoint, README "printed median, else midpoint of the range"): a printed median with
# one number of fractions gives the BED of the median; else a single regimen gives its BED; else
# the midpoint of the BED range, whose low end is the lowest total in the most fractions and high
# end the highest total in the fewest, over every regimen printed. A median with a range of
# fractions has no single BED, so the midpoint is used. No fractions printed: no BED.
# The strings are those of data/raw/ after the corrections ledger (a date-mangled cell appears
# as its repair) and of config/examples/example_studies.csv.
NAN = float("nan")
SHIPPED_BED10 = [
    # single regimens
    ("26/1", 93.6, "single regimen"),  # 26 (1 + 26/10) = 26 * 3.6
    ("30/1", 120.0, "single regimen"),  # 30 (1 + 3) = 30 * 4
    ("30/3", 60.0, "single regimen"),  # repair of '3/30'; d = 10: 30 * 2
    ("40/3", 93.333333, "single regimen"),  # d = 13.333: 40 * 2.333333
    ("45/3", 112.5, "single regimen"),  # d = 15: 45 * 2.5
    ("48/4", 105.6, "single regimen"),  # repair of 'Apr-48'; d = 12: 48 * 2.2
    ("50/10", 75.0, "single regimen"),  # repair of 'Oct-50'; d = 5: 50 * 1.5
    ("50/5", 100.0, "single regimen"),  # also the repair of 'May-50'; d = 10: 50 * 2
    ("50/5f preferred", 100.0, "single regimen"),  # as 50/5
    ("54/3", 151.2, "single regimen"),  # d = 18: 54 * 2.8
    ("60/3", 180.0, "single regimen"),  # d = 20: 60 * 3
    ("60/5", 132.0, "single regimen"),  # d = 12: 60 * 2.2
    ("50 Gy in 5 Gy fractions preferred", 75.0, "single regimen"),  # 10 fractions of 5 Gy: 50 * 1.5
    ("36 Gy in 3 fractions for most; 8 single fraction", 79.2, "single regimen"),  # 36 * 2.2
    # printed medians with one number of fractions
    ("27.7-60/6 (median: 41.8)", 70.920667, "printed median"),  # 41.8 (1 + 6.96667/10) = 41.8 + 29.120667
    ("median total dose of 32 Gy in 4 fractions", 57.6, "printed median"),  # d = 8: 32 * 1.8
    ("median total dose of 36 Gy in 3 fractions", 79.2, "printed median"),  # d = 12: 36 * 2.2
    ("median total dose of 39 (range, 30-51) Gy in 3 fractions", 89.7, "printed median"),  # d = 13: 39 * 2.3
    ("30-51 Gy (median 39) in 3 fractions", 89.7, "printed median"),  # as above
    ("curative median 40 Gy in 5 fractions (30-60 Gy, 3-10 fractions)", 72.0, "printed median"),  # 40 * 1.8
    # midpoints of the BED range: (low + high) / 2
    ("14-26/1", 63.6, "midpoint of BED range"),  # 14 * 2.4 = 33.6; 26 * 3.6 = 93.6
    ("28-30/3-4", 53.8, "midpoint of BED range"),  # 28 in 4: 28 * 1.7 = 47.6; 30 in 3: 60
    ("36-60/3", 129.6, "midpoint of BED range"),  # 36 * 2.2 = 79.2; 180
    ("37.5-45/3f preferred", 98.4375, "midpoint of BED range"),  # 37.5 * 2.25 = 84.375; 112.5
    ("39-51/3", 113.7, "midpoint of BED range"),  # 39 * 2.3 = 89.7; 51 * 2.7 = 137.7
    ("48-60/3", 152.4, "midpoint of BED range"),  # 48 * 2.6 = 124.8; 180
    ("48-60/4", 127.8, "midpoint of BED range"),  # 48 * 2.2 = 105.6; 60 * 2.5 = 150
    ("50-60/4-5", 125.0, "midpoint of BED range"),  # 50 in 5: 100; 60 in 4: 150
    ("52.5-75/3", 203.4375, "midpoint of BED range"),  # 52.5 * 2.75 = 144.375; 75 * 3.5 = 262.5
    ("60/3-8", 142.5, "midpoint of BED range"),  # repair of '3/8/1960'; 60 in 8: 60 * 1.75 = 105; in 3: 180
    ("30-37.5/3 or 26/1", 76.8, "midpoint of BED range"),  # lows 60, 93.6; highs 84.375, 93.6: (60 + 93.6) / 2
    ("36-37.5/3 or 26/1", 86.4, "midpoint of BED range"),  # lows 79.2, 93.6; highs 84.375, 93.6
    ("26/1 or 36-45/3", 95.85, "midpoint of BED range"),  # lows 93.6, 79.2; highs 93.6, 112.5
    # 48/4: 105.6; 52-60/4: 52 * 2.3 = 119.6 to 150; 50/5: 100 -> (100 + 150) / 2
    ("48/4, 52-60/4 or 50/5", 125.0, "midpoint of BED range"),
    # 30/1: 120; 60/3: 180; 60/8: 105; 48/4: 105.6 -> (105 + 180) / 2
    ("risk-adapted: 30/1, 60/3, 60/8, 48/4 (Gy/fractions)", 142.5, "midpoint of BED range"),
    ("36-51 Gy in 3 fractions", 108.45, "midpoint of BED range"),  # 79.2; 137.7
    ("36-51 Gy in 3 fractions (escalated)", 108.45, "midpoint of BED range"),  # as above
    ("30-60 Gy in 3-8 fractions", 110.625, "midpoint of BED range"),  # 30 in 8: 30 * 1.375 = 41.25; 180
    # 10 in 5 fractions: 10 * 1.2 = 12; 48 in 1: 48 * 5.8 = 278.4
    ("10-48 Gy in 1-5 fractions (4-20 Gy per fraction)", 145.2, "midpoint of BED range"),
    # medians with a range of fractions: the midpoint
    ("median 50 Gy in 4-5 fractions", 106.25, "midpoint of BED range"),  # 50 in 5: 100; 50 in 4: 112.5
    ("median 54 Gy (36-54) in 3-4 fractions", 109.8, "midpoint of BED range"),  # 36 in 4: 68.4; 54 in 3: 151.2
    # no fractions printed: no BED
    ("median 50 Gy; fractions not reported", NAN, "fractions not reported"),
    ("50 Gy total per nodule in 84% of patients; fractions not reported", NAN, "fractions not reported"),
    ("not reported", NAN, ""),  # no dose at all (parse_dose gives None)
]


@pytest.mark.parametrize("printed, expected, rule", SHIPPED_BED10, ids=[s for s, _, _ in SHIPPED_BED10])
def test_bed10_of_every_shipped_dose_string(printed, expected, rule):
    spec = parse_dose(printed)
    if spec is None:
        assert (rule, np.isnan(expected)) == ("", True)
        return
    s = spec.summary(alpha_beta=10, rule="median_or_midpoint")
    assert s.rule == rule
    assert s.bed == pytest.approx(expected, rel=1e-7, nan_ok=True)


def test_the_hand_table_covers_every_shipped_dose_and_the_cleanup_writes_it():
    """Every dose string the shipped sheets and the example sheet give is in SHIPPED_BED10, and
    the cleanup's bed10 column holds the hand value (rounded to 6 decimals, as written)."""
    from pathlib import Path

    from sbrtmeta.data.extraction import clean_extraction

    root = Path(__file__).resolve().parents[1]
    sheets = [root / "data/raw/crc2014_extraction.csv", root / "data/raw/primary_studies.csv"]
    shipped = clean_extraction(sheets, root / "data/raw/corrections.csv")
    example = clean_extraction(
        [], tidy_sheets=[root / "config/examples/example_studies.csv"], review_histology={"own": "colorectal"}
    )
    table = {s: (b, r) for s, b, r in SHIPPED_BED10}
    for tidy in (shipped, example):
        doses = tidy[tidy["dose_text"].fillna("").astype(str).str.strip() != ""]
        assert len(doses)
        for r in doses.itertuples():
            assert r.dose_text in table, f"dose {r.dose_text!r} has no hand-derived BED10 here"
            expected, rule = table[r.dose_text]
            assert r.dose_rule == rule, r.dose_text
            if np.isnan(expected):
                assert pd.isna(r.bed10), r.dose_text
            else:
                assert r.bed10 == pytest.approx(expected, abs=1.5e-6), r.dose_text
    printed = set(shipped.dose_text.dropna()) | set(example.dose_text.dropna())
    assert {s for s in table} <= printed | {""}, "a hand value for a string no sheet ships"
