"""Counts, primaries and rates as the sources print them."""

import pytest
from sbrtmeta.data.errors import CellParseError
from sbrtmeta.data.printed_cells import parse_count, parse_primary, parse_rates, primary_of_groups


@pytest.mark.parametrize(
    "printed, total, lower, groups",
    [
        ("60", 60, None, {}),
        ("-", None, None, {}),
        ("", None, None, {}),
        ("≥ 65", None, 65, {}),
        ("≥ 150", None, 150, {}),
        ("CRC (n = 18) others (n = 14)", 32, None, {"CRC": 18, "others": 14}),
        ("CRC (n = 20)", 20, None, {"CRC": 20}),
        ("CRC, HCC (n = 16)", 16, None, {"CRC, HCC": 16}),
        ("others (n = 51)", 51, None, {"others": 51}),
    ],
)
def test_counts(printed, total, lower, groups):
    c = parse_count(printed)
    assert (c.total, c.lower_bound, c.groups) == (total, lower, groups)


@pytest.mark.parametrize(
    "printed, total, qualifier",
    [
        ("15 treated with SBRT (52 reviewed)", 15, "treated with SBRT (52 reviewed)"),
        ("136 (135 evaluable)", 136, "(135 evaluable)"),
        ("233 courses", 233, "courses"),
    ],
)
def test_qualified_counts(printed, total, qualifier):
    c = parse_count(printed)
    assert (c.total, c.qualifier) == (total, qualifier)


@pytest.mark.parametrize("printed", ["60-", "sixty", "CRC (n = x)", "about 12"])
def test_bad_counts_raise(printed):
    with pytest.raises(CellParseError):
        parse_count(printed)


@pytest.mark.parametrize(
    "labels, primary",
    [
        (["CRC"], "crc"),
        (["CRC", "others"], "mixed"),
        (["others"], "other"),
        (["CRC, HCC"], "mixed"),
    ],
)
def test_primary_of_groups(labels, primary):
    assert primary_of_groups(labels) == primary


@pytest.mark.parametrize(
    "printed, primary",
    [
        ("CRC", "crc"),
        ("recurrent rectal cancer", "crc"),
        ("various origins", "mixed"),
        ("", "unspecified"),
    ],
)
def test_primary_text(printed, primary):
    assert parse_primary(printed) == primary


def test_primary_text_unknown_raises():
    with pytest.raises(CellParseError):
        parse_primary("melanoma")


@pytest.mark.parametrize(
    "printed, pct, t, for_all, basis",
    [
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
    ],
)
def test_rates(printed, pct, t, for_all, basis):
    (r,) = parse_rates(printed)
    assert (r.rate_pct, r.timepoint_months, r.for_all, r.basis) == (pct, t, for_all, basis)


@pytest.mark.parametrize(
    "printed",
    ["-", "", "not reported", "not reported as a rate", "hazard ratios only", "median 2.1 y; no rate", "not found"],
)
def test_not_reported_rates_are_empty(printed):
    assert parse_rates(printed) == []


@pytest.mark.parametrize(
    "printed, rates",
    [
        ("82% at 36 mo", [(82, 36)]),
        ("94% at 12 mo; 86% at 24 mo", [(94, 12), (86, 24)]),
        ("85.9% at 24 mo (per lesion)", [(85.9, 24)]),
        ("50% at 60 mo from start of SBRT", [(50, 60)]),
        ("90% at 12 and 24 mo (2 local failures)", [(90, 12), (90, 24)]),
        ("96.2% at 24 mo; 60.5% at 60 mo", [(96.2, 24), (60.5, 60)]),
    ],
)
def test_rates_at_months(printed, rates):
    assert [(r.rate_pct, r.timepoint_months) for r in parse_rates(printed)] == rates


@pytest.mark.parametrize(
    "printed, events, n",
    [
        ("crude: 6 of 117 lesions failed", 111, 117),
        ("crude: local progression after 19 of 233 courses", 214, 233),
        ("crude, response-based (CR+PR+SD): 119 of 135", 119, 135),
        ("review text: local recurrence in 1 of 7 (crude)", 6, 7),
    ],
)
def test_crude_forms(printed, events, n):
    (r,) = parse_rates(printed)
    assert (r.events, r.n, r.basis, r.timepoint_months) == (events, n, "crude", None)


def test_unusable_statement_is_kept_as_unusable():
    (r,) = parse_rates("abstract contradicts itself: do not use")
    assert r.rate_pct is None and "unusable" in r.note


def test_crude_count_and_range():
    (r,) = parse_rates("local recurrence 1 of 7")
    assert (r.events, r.n, r.basis, r.timepoint_months) == (6, 7, "crude", None)
    assert r.rate_pct == pytest.approx(600 / 7)
    (r,) = parse_rates("crude 81%-94%")
    assert r.rate_pct is None and r.basis == "crude" and "81-94%" in r.note


def test_several_values_in_one_cell():
    a, b = parse_rates("94% (12); 86% (24)")
    assert (a.rate_pct, a.timepoint_months, b.rate_pct, b.timepoint_months) == (94, 12, 86, 24)


@pytest.mark.parametrize(
    "printed, match",
    [
        ("120% (24)", "outside 0-100"),
        ("58 (24)", "cannot read"),
        ("58%", "cannot read"),
        ("58% (0)", "positive"),
        ("local recurrence 8 of 7", "impossible"),
        ("0,58 (24)", "cannot read"),
    ],
)
def test_bad_rates_raise(printed, match):
    with pytest.raises(CellParseError, match=match):
        parse_rates(printed)
