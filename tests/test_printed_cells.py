"""Counts, primaries and rates as the sources print them."""

import pytest

from sbrtmeta.errors import CellParseError
from sbrtmeta.printed_cells import parse_count, parse_primary, parse_rates, primary_of_groups


@pytest.mark.parametrize("printed, total, lower, groups", [
    ("60", 60, None, {}),
    ("-", None, None, {}),
    ("", None, None, {}),
    ("≥ 65", None, 65, {}),
    ("≥ 150", None, 150, {}),
    ("CRC (n = 18) others (n = 14)", 32, None, {"CRC": 18, "others": 14}),
    ("CRC (n = 20)", 20, None, {"CRC": 20}),
    ("CRC, HCC (n = 16)", 16, None, {"CRC, HCC": 16}),
    ("others (n = 51)", 51, None, {"others": 51}),
])
def test_counts(printed, total, lower, groups):
    c = parse_count(printed)
    assert (c.total, c.lower_bound, c.groups) == (total, lower, groups)


@pytest.mark.parametrize("printed", ["60-", "sixty", "CRC (n = x)", "12 patients"])
def test_bad_counts_raise(printed):
    with pytest.raises(CellParseError):
        parse_count(printed)


@pytest.mark.parametrize("labels, primary", [
    (["CRC"], "crc"), (["CRC", "others"], "mixed"), (["others"], "other"), (["CRC, HCC"], "mixed"),
])
def test_primary_of_groups(labels, primary):
    assert primary_of_groups(labels) == primary


@pytest.mark.parametrize("printed, primary", [
    ("CRC", "crc"), ("recurrent rectal cancer", "crc"), ("various origins", "mixed"), ("", "unspecified"),
])
def test_primary_text(printed, primary):
    assert parse_primary(printed) == primary


def test_primary_text_unknown_raises():
    with pytest.raises(CellParseError):
        parse_primary("melanoma")


@pytest.mark.parametrize("printed, pct, t, for_all, basis", [
    ("0% (24)", 0.0, 24, False, "actuarial"),
    ("58% (24)", 58.0, 24, False, "actuarial"),
    ("81% (24 for all)", 81.0, 24, True, "actuarial"),
    ("48% (24 for all)", 48.0, 24, True, "actuarial"),
    ("90.6% (24)", 90.6, 24, False, "actuarial"),
    ("84.3% (24)", 84.3, 24, False, "actuarial"),
    ("71% (12)", 71.0, 12, False, "actuarial"),
    ("47% (18)", 47.0, 18, False, "actuarial"),
    ("57% (20)", 57.0, 20, False, "actuarial"),
    ("100% (24)", 100.0, 24, False, "actuarial"),
    ("74% (48)", 74.0, 48, False, "actuarial"),
])
def test_rates(printed, pct, t, for_all, basis):
    (r,) = parse_rates(printed)
    assert (r.rate_pct, r.timepoint_months, r.for_all, r.basis) == (pct, t, for_all, basis)


def test_not_reported_rates_are_empty():
    assert parse_rates("-") == [] and parse_rates("") == []


def test_crude_count_and_range():
    (r,) = parse_rates("local recurrence 1 of 7")
    assert (r.events, r.n, r.basis, r.timepoint_months) == (6, 7, "crude", None)
    assert r.rate_pct == pytest.approx(600 / 7)
    (r,) = parse_rates("crude 81%-94%")
    assert r.rate_pct is None and r.basis == "crude" and "81-94%" in r.note


def test_several_values_in_one_cell():
    a, b = parse_rates("94% (12); 86% (24)")
    assert (a.rate_pct, a.timepoint_months, b.rate_pct, b.timepoint_months) == (94, 12, 86, 24)


@pytest.mark.parametrize("printed, match", [
    ("120% (24)", "outside 0-100"),
    ("58 (24)", "cannot read"),
    ("58%", "cannot read"),
    ("58% (0)", "positive"),
    ("local recurrence 8 of 7", "impossible"),
    ("0,58 (24)", "cannot read"),
])
def test_bad_rates_raise(printed, match):
    with pytest.raises(CellParseError, match=match):
        parse_rates(printed)
