"""Property-based tests (hypothesis) of the parsers and the estimators.

Parsers: on any text they return a value or raise the project's own
:class:`~sbrtmeta.data.errors.CellParseError` (never a bare ValueError, IndexError,
OverflowError, ...); well-formed printed strings give back the numbers they print.

Estimators: each against an independent closed form written out here (not the
engine's code): the common-effect estimate is Σwy/Σw with w = 1/v, Cochran's Q is
Σw(y - ȳ)², DL τ² is the moment formula max(0, (Q - (k - 1)) / (Σw - Σw²/Σw)), and the
PLO back-transform of a one-study cell is events/n. The batched τ² iteration is run with
``strict=True`` (it raises instead of stopping at its step cap) and its τ² is checked
against the estimating equation it solves, written out here. Weaker properties too:
the estimate lies within the studies' range, the order of the studies does not matter,
τ² ≥ 0, the CI contains the estimate (true of any mu ± crit·se, so no check of a number).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from sbrtmeta.analysis.pooling import pool_cells
from sbrtmeta.data.dose_strings import Regimen, bed, parse_dose
from sbrtmeta.data.errors import CellParseError
from sbrtmeta.data.printed_cells import parse_count, parse_follow_up, parse_primary, parse_rates, primary_of_groups
from sbrtmeta.stats.effect_sizes import MEASURES, inverse_transform, proportion_effect_sizes
from sbrtmeta.stats.inference import TAU2_METHODS, WEIGHTED_TAU2, canonical_tau2
from sbrtmeta.stats.random_effects import fit_random_effects, fit_random_effects_batch, tau2_batch
from scipy import stats

# The estimators the properties below hold for without weights, each once: GENQ/GENQM need weights and the
# aliases (EE, CE, CO, VC, MP) are the same estimators (tests/test_tau2_estimators.py covers both against metafor).
UNWEIGHTED_TAU2 = tuple(m for m in TAU2_METHODS if m == canonical_tau2(m) and m not in WEIGHTED_TAU2)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- text strategies ------------------------------------------------------------------------

# Pieces of the printed forms, so random text reaches deep into the grammars, not just
# the first "cannot read".
_TOKENS = [
    "%",
    "(",
    ")",
    "-",
    "/",
    ".",
    " ",
    ";",
    ",",
    "≥",
    ">=",
    "f",
    "Gy",
    "in",
    "fractions",
    "fraction",
    "median",
    "median:",
    "range,",
    "total dose of",
    "or",
    "for all",
    "at",
    "mo",
    "months",
    "y",
    "years",
    "and",
    "of",
    "crude",
    "crude:",
    "crude,",
    "local recurrence",
    "local failure",
    "review text:",
    "lesions",
    "failed",
    "local progression after",
    "courses",
    "(n = ",
    "CRC",
    "others",
    "n =",
    "preferred",
    "per fraction",
    "risk-adapted:",
    "curative",
    "palliative",
    "not reported",
    "NR",
    "–",
    "(Gy/fractions)",
    "(escalated)",
    "for most",
    "do not use",
    "no rate",
    "0",
    "00",
    "1e5",
    "²",
    "٣",
    "\u00a0",
    "\t",
    "\n",
    "inf",
    "nan",
    "-0",
    "9" * 30,
]
_NUMBER = st.one_of(
    st.integers(0, 400).map(str), st.builds(lambda a, b: f"{a}.{b}", st.integers(0, 400), st.integers(0, 99))
)
printed_like = st.lists(st.one_of(st.sampled_from(_TOKENS), _NUMBER, st.text(max_size=3)), max_size=14).map("".join)
any_text = st.one_of(st.text(), printed_like)
# A few cells no generator is likely to hit: huge numbers and digits int() refuses.
_NASTY = [
    "²",
    "①",
    "12²",
    "9" * 5000 + "/3",
    "1/" + "9" * 5000,
    "9" * 400 + " Gy in 3 Gy fractions",
    "3 Gy in " + "9" * 400 + " Gy fractions",
    "9" * 5000 + "% (24)",
    "50% (" + "9" * 5000 + ")",
    "local recurrence " + "9" * 5000 + " of 7",
    "≥ " + "9" * 5000,
    "CRC (n = " + "9" * 5000 + ")",
    "9" * 5000 + " courses",
    "9" * 5000,
    "9" * 5000 + " y",
    "median " + "9" * 400 + " Gy in 3 fractions",
    "median " + "9" * 5000 + " Gy in 3 fractions",
    "27.7-60/6 (median: " + "9" * 5000 + ")",
]


def _only_own_error(parse, text, *args):
    """``parse(text)`` returns, or raises CellParseError; anything else fails the test."""
    try:
        return parse(text, *args)
    except CellParseError:
        return None


# --- parsers: no foreign exceptions -----------------------------------------------------------


@SETTINGS
@given(any_text)
@example("²")
@example("٣")
@example("9" * 5000)
@example("9" * 5000 + " courses")
@example("≥ " + "9" * 5000)
@example("CRC (n = " + "9" * 5000 + ")")
def test_parse_count_returns_or_raises_its_own_error(text):
    c = _only_own_error(parse_count, text)
    if c is not None:
        assert c.total is None or (isinstance(c.total, int) and c.total >= 0)
        assert c.lower_bound is None or c.lower_bound >= 0
        if c.groups:
            assert c.total == sum(c.groups.values())


@SETTINGS
@given(any_text, st.sampled_from(["actuarial", "crude"]))
@example("9" * 5000 + "% (24)", "actuarial")
@example("50% (" + "9" * 5000 + ")", "actuarial")
@example("local recurrence " + "9" * 5000 + " of 7", "actuarial")
@example("50% (" + "9" * 400 + ")", "actuarial")
@example("50% (" + "9" * 99 + ")", "actuarial")
@example("local recurrence 1 of " + "9" * 99, "actuarial")
def test_parse_rates_returns_or_raises_its_own_error(text, basis):
    rates = _only_own_error(parse_rates, text, basis)
    for r in rates or []:
        if r.rate_pct is not None:
            assert 0 <= r.rate_pct <= 100
        if r.timepoint_months is not None:
            assert r.timepoint_months > 0
        if r.n is not None:
            assert r.n >= 1 and 0 <= r.events <= r.n


@SETTINGS
@given(any_text)
@example("9" * 5000 + " y")
def test_parse_follow_up_returns_or_raises_its_own_error(text):
    m = _only_own_error(parse_follow_up, text)
    assert m is None or m >= 0


@SETTINGS
@given(any_text)
def test_parse_primary_returns_or_raises_its_own_error(text):
    p = _only_own_error(parse_primary, text)
    assert p is None or p in {"crc", "mixed", "sarcoma", "unspecified"}


@SETTINGS
@given(st.lists(st.text(), min_size=1, max_size=4))
def test_primary_of_groups_always_answers(labels):
    assert primary_of_groups(labels) in {"crc", "mixed", "other"}


@SETTINGS
@given(any_text)
@example("9" * 400 + " Gy in 3 Gy fractions")
@example("9" * 5000 + "/3")
@example("1/" + "9" * 5000)
@example("median " + "9" * 5000 + " Gy in 3 fractions")
@example("27.7-60/6 (median: " + "9" * 5000 + ")")
@example("9" * 99 + " Gy in 3 Gy fractions")
@example("3 Gy in 0." + "0" * 98 + "1 Gy fractions")
@example("1/" + "9" * 99)
def test_parse_dose_returns_or_raises_its_own_error(text):
    spec = _only_own_error(parse_dose, text)
    if spec is None:
        return
    for r in spec.regimens:
        assert 0 < r.total_lo <= r.total_hi and 1 <= r.fractions_lo <= r.fractions_hi
    # the summary of any parsed cell is a number or NaN under every rule, never an exception
    for rule in ("median_or_midpoint", "minimum", "maximum", "exclude_ranges"):
        s = spec.summary(rule=rule)
        assert math.isnan(s.bed) or s.bed >= 0


@pytest.mark.parametrize("text", _NASTY)
def test_nasty_cells_raise_only_the_projects_error(text):
    for parse in (parse_count, parse_rates, parse_follow_up, parse_primary, parse_dose):
        _only_own_error(parse, text)


# --- parsers: well-formed strings give back their numbers -----------------------------------


def _num(lo, hi, decimals=(None, 5)):
    """A printed number in [lo, hi] and its value: ``48`` or ``37.5``."""
    return st.builds(lambda a, d: f"{a}" if d is None else f"{a}.{d}", st.integers(lo, hi), st.sampled_from(decimals))


_SPACE = st.sampled_from(["", " "])


@SETTINGS
@given(
    st.lists(
        st.tuples(_num(0, 99, (None, 5, 9, 25)) | st.just("100"), _num(1, 120), st.booleans(), st.booleans()),
        min_size=1,
        max_size=4,
    )
)
@example([("57", "20", False, False)])
@example([("0", "24", True, False), ("100", "60", False, True)])
def test_printed_rates_round_trip(parts):
    printed = "; ".join(f"{p}% at {t} mo" if at else f"{p}% ({t}{' for all' if fa else ''})" for p, t, fa, at in parts)
    rates = parse_rates(printed)
    assert [(r.rate_pct, r.timepoint_months, r.for_all) for r in rates] == [
        (float(p), float(t), fa and not at) for p, t, fa, at in parts
    ]
    assert all(r.basis == "actuarial" for r in rates)


@SETTINGS
@given(st.integers(1, 10_000), st.data())
def test_printed_crude_counts_round_trip(n, data):
    e = data.draw(st.integers(0, n))
    form = data.draw(
        st.sampled_from(
            [
                "local recurrence {e} of {n}",
                "review text: local failure in {e} of {n} (crude)",
                "crude: {e} of {n} lesions failed",
                "crude: local progression after {e} of {n} courses",
            ]
        )
    )
    (r,) = parse_rates(form.format(e=e, n=n))
    assert (r.events, r.n, r.basis, r.timepoint_months) == (n - e, n, "crude", None)
    assert r.rate_pct == pytest.approx(100.0 * (n - e) / n)


@SETTINGS
@given(st.integers(0, 10**6), st.sampled_from(["{n}", "≥ {n}", "≥{n}", ">= {n}", "{n} courses"]))
def test_printed_counts_round_trip(n, form):
    c = parse_count(form.format(n=n))
    if "≥" in form or ">=" in form:
        assert (c.total, c.lower_bound) == (None, n)
    else:
        assert c.total == n


@SETTINGS
@given(
    st.dictionaries(
        st.sampled_from(["CRC", "others", "HCC", "lung primaries", "CRC, HCC"]),
        st.integers(0, 5000),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from([" ", ", ", "; "]),
)
def test_printed_group_counts_round_trip(groups, sep):
    c = parse_count(sep.join(f"{label} (n = {n})" for label, n in groups.items()))
    assert c.groups == groups and c.total == sum(groups.values())


@SETTINGS
@given(
    _num(0, 300),
    st.sampled_from(["", " mo", " months", " y", " years"]),
    st.sampled_from(["", " (3-63)", " (range 1-100)"]),
)
def test_printed_follow_up_round_trips(x, unit, rng):
    months = parse_follow_up(f"{x}{unit}{rng}")
    assert months == pytest.approx(float(x) * (12 if unit.startswith(" y") else 1))


_regimen = st.tuples(_num(1, 120, (None, 5, 7)), _num(1, 120, (None, 5)), st.integers(1, 40), st.integers(1, 40)).map(
    lambda t: (min(t[:2], key=float), max(t[:2], key=float), min(t[2:]), max(t[2:]))
)


def _slash(r):
    dlo, dhi, flo, fhi = r
    d = dlo if dlo == dhi else f"{dlo}-{dhi}"
    f = str(flo) if flo == fhi else f"{flo}-{fhi}"
    return f"{d}/{f}"


@SETTINGS
@given(
    st.lists(_regimen, min_size=1, max_size=4),
    st.lists(st.sampled_from([", ", " or "]), min_size=3, max_size=3),
    st.none() | _num(1, 120),
    st.sampled_from(["", "f preferred"]),
)
@example([("48", "48", 4, 4)], [", "] * 3, None, "")
@example([("28", "30", 3, 4)], [", "] * 3, None, "")
@example([("36", "37.5", 3, 3), ("26", "26", 1, 1)], [" or "] * 3, None, "")
def test_printed_doses_round_trip(regimens, seps, median, suffix):
    printed = _slash(regimens[0])
    for sep, r in zip(seps, regimens[1:]):
        printed += sep + _slash(r)
    if suffix and len(regimens) == 1:
        printed += suffix
    elif median is not None:
        printed += f" (median: {median})"
    spec = parse_dose(printed)
    assert spec.regimens == tuple(Regimen(float(a), float(b), c, d) for a, b, c, d in regimens)
    assert spec.median_total == (float(median) if median is not None and not (suffix and len(regimens) == 1) else None)
    if (
        len(regimens) == 1
        and regimens[0][0] == regimens[0][1]
        and regimens[0][2] == regimens[0][3]
        and spec.median_total is None
    ):
        s = spec.summary(alpha_beta=10)
        assert s.rule == "single regimen"
        assert s.bed == pytest.approx(bed(float(regimens[0][0]), regimens[0][2], 10))


@SETTINGS
@given(_regimen, st.booleans())
def test_printed_prose_doses_round_trip(r, median):
    dlo, dhi, flo, fhi = r
    fx = f"{flo}" if flo == fhi else f"{flo}-{fhi}"
    if median:
        printed = f"median {dlo} Gy in {fx} fraction{'s' if fhi > 1 else ''}"
        spec = parse_dose(printed)
        assert spec.regimens == (Regimen(float(dlo), float(dlo), flo, fhi),)
        assert spec.median_total == float(dlo)
    else:
        d = dlo if dlo == dhi else f"{dlo}-{dhi}"
        spec = parse_dose(f"{d} Gy in {fx} fractions")
        assert spec.regimens == (Regimen(float(dlo), float(dhi), flo, fhi),)
        assert spec.median_total is None


# --- effect sizes ---------------------------------------------------------------------------


@st.composite
def counts(draw, min_k=1, max_k=12):
    k = draw(st.integers(min_k, max_k))
    n = draw(st.lists(st.integers(1, 500), min_size=k, max_size=k))
    x = [draw(st.integers(0, ni)) for ni in n]
    return np.array(x, float), np.array(n, float)


@SETTINGS
@given(counts(), st.sampled_from(MEASURES))
def test_effect_sizes_are_finite_and_back_transform(xn, measure):
    x, n = xn
    yi, vi = proportion_effect_sizes(x, n, measure)
    assert np.all(np.isfinite(yi)) and np.all(vi > 0)
    p = inverse_transform(yi, measure, n)
    assert np.all((p >= 0) & (p <= 1))
    exact = (x > 0) & (x < n) if measure in ("PLO", "PR") else np.ones_like(x, bool)
    if measure != "PFT":  # the PFT back-transform uses the harmonic mean n: not exact per study
        np.testing.assert_allclose(p[exact], (x / n)[exact], rtol=1e-9, atol=1e-12)


@FEW
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=5),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=5),
    st.sampled_from(MEASURES),
)
@example([4503599627370496.0], [4503599627370496.0], "PR")  # found: n + 1/2 == n, so vi was 0
def test_effect_sizes_refuse_bad_counts_with_value_error(x, n, measure):
    try:
        yi, vi = proportion_effect_sizes(x, n, measure)
    except ValueError:
        return
    assert np.all(np.isfinite(yi)) and np.all(vi > 0)


# --- estimators -----------------------------------------------------------------------------

_y = st.floats(-8, 8, allow_nan=False, allow_infinity=False)
_v = st.floats(1e-3, 20, allow_nan=False, allow_infinity=False)


@st.composite
def meta_data(draw, min_k=1, max_k=15):
    k = draw(st.integers(min_k, max_k))
    y = np.array(draw(st.lists(_y, min_size=k, max_size=k)))
    v = np.array(draw(st.lists(_v, min_size=k, max_size=k)))
    return y, v


def _close(a, b, scale):
    """Equal to ~1e-9 relative (absolute at the data's scale for values near 0)."""
    if np.isnan(a) or np.isnan(b):
        return np.isnan(a) and np.isnan(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9 * scale)


@SETTINGS
@given(meta_data(), st.sampled_from(["knha", "z"]))
def test_common_effect_lies_within_the_studies(data, ci):
    y, v = data
    assume(ci == "z" or len(y) > 1)
    fit = fit_random_effects(y, v, "FE", ci)
    span = 1e-12 * max(1.0, np.abs(y).max())
    assert y.min() - span <= fit.estimate <= y.max() + span
    assert fit.tau2 == 0


@SETTINGS
@given(meta_data(), st.sampled_from(UNWEIGHTED_TAU2), st.sampled_from(["knha", "z"]))
def test_random_effects_estimate_lies_within_the_studies_too(data, method, ci):
    y, v = data
    assume(ci == "z" or len(y) > 1)
    fit = fit_random_effects(y, v, method, ci)
    span = 1e-9 * max(1.0, np.abs(y).max())
    assert y.min() - span <= fit.estimate <= y.max() + span


@pytest.mark.slow  # seconds of CPU: make test-fast runs it, -m 'not slow' leaves it out
@SETTINGS
@given(meta_data(min_k=2), st.sampled_from(UNWEIGHTED_TAU2), st.sampled_from(["knha", "z"]), st.randoms())
def test_order_of_studies_does_not_matter(data, method, ci, rnd):
    y, v = data
    perm = list(range(len(y)))
    rnd.shuffle(perm)
    a = fit_random_effects(y, v, method, ci, tau2_ci=True)
    b = fit_random_effects(y[perm], v[perm], method, ci, tau2_ci=True)
    scale = max(1.0, float(np.abs(y).max()), float(v.max()))
    for name in (
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "pi_low",
        "pi_high",
        "tau2",
        "q",
        "q_p",
        "i2",
        "h2",
        "tau2_ci_low",
        "tau2_ci_high",
    ):
        tol = scale if name not in ("i2",) else 100.0
        assert _close(getattr(a, name), getattr(b, name), tol), (name, getattr(a, name), getattr(b, name))
    np.testing.assert_allclose(a.weights[perm], b.weights, rtol=1e-9, atol=1e-9)


@SETTINGS
@given(meta_data(), st.sampled_from(UNWEIGHTED_TAU2), st.sampled_from(["knha", "z"]), st.floats(0.5, 0.999))
def test_tau2_nonnegative_and_ci_contains_estimate(data, method, ci, level):
    y, v = data
    assume(ci == "z" or len(y) > 1)
    fit = fit_random_effects(y, v, method, ci, level, tau2_ci=len(y) > 1 and method != "FE")
    assert fit.tau2 >= 0
    assert fit.ci_low <= fit.estimate <= fit.ci_high
    assert np.all(np.isfinite([fit.estimate, fit.se, fit.ci_low, fit.ci_high]))
    assert fit.weights.sum() == pytest.approx(100.0)
    if method != "FE":
        assert fit.pi_low <= fit.ci_low + 1e-12 and fit.ci_high <= fit.pi_high + 1e-12
        if len(y) > 1:
            assert 0 <= fit.tau2_ci_low <= fit.tau2_ci_high
    assert 0 <= fit.i2 <= 100


@FEW
@given(
    st.lists(meta_data(min_k=2, max_k=8), min_size=1, max_size=6),
    st.sampled_from(UNWEIGHTED_TAU2),
    st.sampled_from(["knha", "z"]),
)
def test_batch_equals_single_fits(sets, method, ci):
    # consistency only: fit_random_effects is the batch code on one row, so this checks the
    # padding and masking of rows of different k; the numbers are checked against closed
    # forms and estimating equations below
    width = max(len(y) for y, _ in sets)
    Y = np.full((len(sets), width), np.nan)
    V = np.full((len(sets), width), np.nan)
    for i, (y, v) in enumerate(sets):
        Y[i, : len(y)], V[i, : len(v)] = y, v
    batch = fit_random_effects_batch(Y, V, method, ci)
    taus = tau2_batch(Y, V, method)
    for i, (y, v) in enumerate(sets):
        one = fit_random_effects(y, v, method, ci)
        scale = max(1.0, float(np.abs(y).max()), float(v.max()))
        assert batch.k[i] == one.k
        assert _close(taus[i], one.tau2, scale)
        for name in ("estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "q", "q_p", "i2", "h2"):
            tol = scale if name != "i2" else 100.0
            assert _close(float(getattr(batch, name)[i]), getattr(one, name), tol), name


# Variances within a ratio of 1e12 of each other: beyond ~1e16 Σw - Σw²/Σw (DL, PM, EB)
# cancels to 0 in double precision and τ² comes back infinite (a known limit, far from
# any proportion's variance); everything else, NaN and inf included, may come.
_bad_v = st.one_of(st.floats(1e-6, 1e6), st.sampled_from([0.0, -1.0, float("nan"), float("inf"), 1e-300, 1e300]))


@FEW
@given(
    st.lists(st.floats(), max_size=6),
    st.lists(_bad_v, max_size=6),
    st.sampled_from(UNWEIGHTED_TAU2),
    st.sampled_from(["knha", "z"]),
)
@example([0.0, 1.597541527187863e77], [1.0, 1.0], "REML", "knha")  # found: overflow gave a NaN estimate
@example([0.0, 1e200], [1.0, 1.0], "DL", "z")
def test_bad_effect_sizes_are_refused_with_value_error(y, v, method, ci):
    try:
        fit = fit_random_effects(y, v, method, ci)
    except ValueError:
        return
    assert np.isfinite(fit.estimate) and fit.tau2 >= 0


# --- closed forms ---------------------------------------------------------------------------
# Written from the textbook formulas with plain sums, independent of the engine's _Moments.


def _fixed_effect(y, v):
    """(Σwy/Σw, Q = Σw(y - ȳ)², Σw, Σw²) with w = 1/v."""
    w = [1.0 / vi for vi in v]
    sw = math.fsum(w)
    ybar = math.fsum(wi * yi for wi, yi in zip(w, y)) / sw
    q = math.fsum(wi * (yi - ybar) ** 2 for wi, yi in zip(w, y))
    return ybar, q, sw, math.fsum(wi * wi for wi in w)


def _rel_close(a, b, scale, rel=1e-9):
    return math.isclose(a, b, rel_tol=rel, abs_tol=rel * scale)


@SETTINGS
@given(meta_data(), st.sampled_from(["knha", "z"]))
def test_common_effect_estimate_is_the_inverse_variance_mean(data, ci):
    y, v = data
    assume(ci == "z" or len(y) > 1)
    fit = fit_random_effects(y, v, "FE", ci)
    ybar, q, sw, _ = _fixed_effect(y, v)
    scale = max(1.0, float(np.abs(y).max()))
    assert _rel_close(fit.estimate, ybar, scale)
    if ci == "z":
        assert _rel_close(fit.se, math.sqrt(1.0 / sw), math.sqrt(1.0 / sw))


@SETTINGS
@given(meta_data(min_k=2), st.sampled_from(UNWEIGHTED_TAU2))
def test_q_is_the_weighted_sum_of_squares_about_the_common_effect(data, method):
    y, v = data
    fit = fit_random_effects(y, v, method, "z")
    _, q, _, _ = _fixed_effect(y, v)
    scale = max(1.0, q)
    assert _rel_close(fit.q, q, scale, 1e-8)
    assert fit.q_df == len(y) - 1
    assert _rel_close(fit.q_p, stats.chi2.sf(q, len(y) - 1), 1.0, 1e-7)


@SETTINGS
@given(meta_data(min_k=2))
def test_dl_tau2_is_the_moment_formula(data):
    y, v = data
    _, q, sw, sw2 = _fixed_effect(y, v)
    expected = max(0.0, (q - (len(y) - 1)) / (sw - sw2 / sw))
    fit = fit_random_effects(y, v, "DL", "z")
    scale = max(1.0, float(v.max()), float(np.ptp(y)) ** 2)
    assert _rel_close(fit.tau2, expected, scale, 1e-8)
    # and the pooled estimate is the mean weighted by 1/(v + τ²)
    w = [1.0 / (vi + expected) for vi in v]
    mu = math.fsum(wi * yi for wi, yi in zip(w, y)) / math.fsum(w)
    assert _rel_close(fit.estimate, mu, max(1.0, float(np.abs(y).max())), 1e-8)


@pytest.mark.slow  # seconds of CPU: make test-fast runs it, -m 'not slow' leaves it out
@FEW  # a whole pool_cells per example (pandas): 100 draws and the edges below
@given(st.integers(1, 5000), st.data(), st.sampled_from(["REML", "DL", "FE"]))
def test_one_study_cell_back_transforms_to_events_over_n(n, data, method):
    x = data.draw(st.integers(1, n - 1)) if n > 1 else None
    assume(x is not None)
    included = pd.DataFrame(
        [
            dict(
                study_id="s1",
                ref="1",
                first_author="A",
                year=2000,
                review="crc2014",
                site="liver",
                primary="crc",
                histology="colorectal",
                review_histology="colorectal",
                arm="all",
                endpoint="LC",
                timepoint_months=24.0,
                target_timepoint_months=24.0,
                rate=x / n,
                n=n,
                events=x,
            )
        ]
    )
    pooled, studies = pool_cells(included, "PLO", method)
    assert pooled.estimate.iloc[0] == pytest.approx(x / n, rel=1e-12)
    assert studies.estimate.iloc[0] == pytest.approx(x / n, rel=1e-12)
    # the Wald interval of the logit, logit(x/n) ± z sqrt(1/x + 1/(n - x)), back-transformed
    logit, half = math.log(x / (n - x)), stats.norm.ppf(0.975) * math.sqrt(1 / x + 1 / (n - x))
    expit = lambda t: 1 / (1 + math.exp(-t))  # noqa: E731
    assert pooled.ci_low.iloc[0] == pytest.approx(expit(logit - half), rel=1e-9)
    assert pooled.ci_high.iloc[0] == pytest.approx(expit(logit + half), rel=1e-9)


def _estimating_equation(method, y, v, tau2):
    """f(τ²) the iterative estimators set to 0, with plain sums:
    REML Σw²r² - (Σw - Σw²/Σw); ML Σw²r² - Σw; PM/EB Σwr² - (k - 1); w = 1/(v + τ²), r = y - μ̂(τ²)."""
    w = [1.0 / (vi + tau2) for vi in v]
    sw = math.fsum(w)
    mu = math.fsum(wi * yi for wi, yi in zip(w, y)) / sw
    w2r2 = math.fsum((wi * (yi - mu)) ** 2 for wi, yi in zip(w, y))
    if method in ("PM", "EB"):
        return math.fsum(wi * (yi - mu) ** 2 for wi, yi in zip(w, y)) - (len(y) - 1), sw
    sw2 = math.fsum(wi * wi for wi in w)
    return w2r2 - (sw - sw2 / sw if method == "REML" else sw), sw2


@pytest.mark.slow  # seconds of CPU: make test-fast runs it, -m 'not slow' leaves it out
@FEW
@given(
    st.lists(meta_data(min_k=3, max_k=12), min_size=1, max_size=8),
    st.sampled_from(["REML", "ML", "PM", "EB"]),
)
def test_batched_tau2_converges_to_its_estimating_equation(sets, method):
    """The batch, forced to converge (strict: no silent stop at the step cap), solves the
    estimating equation of every row: f(τ̂²) = 0 where τ̂² > 0, f(0) <= 0 where τ̂² = 0
    (PM/EB: Q(0) <= k - 1; for ML/REML a zero may also be the better of two maxima)."""
    width = max(len(y) for y, _ in sets)
    Y = np.full((len(sets), width), np.nan)
    V = np.full((len(sets), width), np.nan)
    for i, (y, v) in enumerate(sets):
        Y[i, : len(y)], V[i, : len(v)] = y, v
    batch = fit_random_effects_batch(Y, V, method, "z", strict=True)
    np.testing.assert_array_equal(tau2_batch(Y, V, method, strict=True), batch.tau2)
    for i, (y, v) in enumerate(sets):
        t = float(batch.tau2[i])
        assert t >= 0
        f, size = _estimating_equation(method, y, v, t)
        if t > 0:
            assert abs(f) <= 1e-7 * max(1.0, size), (t, f)
        elif method in ("PM", "EB"):
            assert f <= 1e-9 * max(1.0, size)
        # the pooled estimate is the mean weighted by 1/(v + τ̂²)
        w = [1.0 / (vi + t) for vi in v]
        mu = math.fsum(wi * yi for wi, yi in zip(w, y)) / math.fsum(w)
        assert _rel_close(float(batch.estimate[i]), mu, max(1.0, float(np.abs(y).max())), 1e-8)


@FEW
@given(st.lists(meta_data(min_k=2, max_k=10), min_size=1, max_size=8))
def test_batched_dl_and_q_are_the_closed_forms(sets):
    width = max(len(y) for y, _ in sets)
    Y = np.full((len(sets), width), np.nan)
    V = np.full((len(sets), width), np.nan)
    for i, (y, v) in enumerate(sets):
        Y[i, : len(y)], V[i, : len(v)] = y, v
    batch = fit_random_effects_batch(Y, V, "DL", "z", strict=True)
    for i, (y, v) in enumerate(sets):
        _, q, sw, sw2 = _fixed_effect(y, v)
        assert _rel_close(float(batch.q[i]), q, max(1.0, q), 1e-8)
        expected = max(0.0, (q - (len(y) - 1)) / (sw - sw2 / sw))
        assert _rel_close(float(batch.tau2[i]), expected, max(1.0, float(v.max()), float(np.ptp(y)) ** 2), 1e-8)
