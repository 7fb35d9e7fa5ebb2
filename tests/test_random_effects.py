"""Effect sizes and the random-effects engine against metafor (fixtures from tests/metafor/)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sbrtmeta.stats.effect_sizes import inverse_transform, proportion_effect_sizes
from sbrtmeta.stats.inference import TAU2_METHODS
from sbrtmeta.stats.random_effects import fit_random_effects, fit_random_effects_batch, tau2_dl, tau2_reml

FIX = Path(__file__).parent / "fixtures"
INPUTS = pd.read_csv(FIX / "metafor_inputs.csv")
ESCALC = pd.read_csv(FIX / "metafor_escalc.csv")
EXPECTED = pd.read_csv(FIX / "metafor_rma.csv")
RTOL = 1e-6


def _data(dataset):
    d = INPUTS[INPUTS.dataset == dataset]
    return d.xi.to_numpy(), d.ni.to_numpy()


@pytest.mark.parametrize("key, rows", list(ESCALC.groupby(["dataset", "measure"])), ids=str)
def test_effect_sizes_match_escalc(key, rows):
    dataset, measure = key
    yi, vi = proportion_effect_sizes(*_data(dataset), measure)
    np.testing.assert_allclose(yi, rows.yi, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(vi, rows.vi, rtol=1e-12)


def _case_id(row):
    return f"{row.dataset}-{row.measure}-{row.tau2_method}-{row.ci_method}"


def _approx(ours, theirs, abs_=1e-12):
    return ours == pytest.approx(theirs, rel=RTOL, abs=abs_, nan_ok=True)


@pytest.mark.parametrize("row", list(EXPECTED.itertuples()), ids=_case_id)
def test_model_matches_rma(row):
    x, n = _data(row.dataset)
    yi, vi = proportion_effect_sizes(x, n, row.measure)
    fit = fit_random_effects(yi, vi, row.tau2_method, row.ci_method, tau2_ci=True)
    assert fit.k == row.k
    back = lambda v: inverse_transform(v, row.measure, n)  # noqa: E731
    for name, ours, theirs in [
        ("estimate", fit.estimate, row.estimate),
        ("se", fit.se, row.se),
        ("ci_low", fit.ci_low, row.ci_low),
        ("ci_high", fit.ci_high, row.ci_high),
        ("pi_low", fit.pi_low, row.pi_low),
        ("pi_high", fit.pi_high, row.pi_high),
        ("q", fit.q, row.q),
        ("q_p", fit.q_p, row.q_p),
        ("i2", fit.i2, row.i2),
        ("h2", fit.h2, row.h2),
        ("prop_estimate", back(fit.estimate), row.prop_estimate),
        ("prop_ci_low", back(fit.ci_low), row.prop_ci_low),
        ("prop_ci_high", back(fit.ci_high), row.prop_ci_high),
        ("prop_pi_low", back(fit.pi_low), row.prop_pi_low),
        ("prop_pi_high", back(fit.pi_high), row.prop_pi_high),
    ]:
        # I² and H² at a τ² on the zero boundary: metafor's Fisher scoring stops a hair above 0
        assert _approx(ours, theirs, abs_=1e-7 if name in ("i2", "h2") else 1e-12), name
    for name, ours, theirs in [
        ("tau2", fit.tau2, row.tau2),
        ("tau2_ci_low", fit.tau2_ci_low, row.tau2_ci_low),
        ("tau2_ci_high", fit.tau2_ci_high, row.tau2_ci_high),
    ]:
        assert _approx(ours, theirs, abs_=1e-10), name


@pytest.mark.parametrize(
    "method, ci_method",
    [
        pytest.param(m, c, marks=[pytest.mark.slow] if m == "GENQM" else [])  # GENQM: a quadrature per step
        for m in TAU2_METHODS
        for c in ("knha", "z")
        if not (m in ("FE", "EE", "CE") and c == "knha")
    ],
)
def test_batch_equals_one_at_a_time(method, ci_method):
    sets = [name for name in INPUTS.dataset.unique() if name != "synthetic:large_k"]
    if method == "GENQM":  # its batch path fits row by row (a quadrature per step): two shipped cells and the
        sets = sets[:2] + [s for s in sets if s.startswith("synthetic:")]  # edge cases say as much
    k = max((INPUTS.dataset == s).sum() for s in sets)
    Y, V, N = np.full((len(sets), k), np.nan), np.full((len(sets), k), np.nan), np.ones((len(sets), k))
    for i, s in enumerate(sets):
        yi, vi = proportion_effect_sizes(*_data(s))
        Y[i, : len(yi)], V[i, : len(vi)], N[i, : len(yi)] = yi, vi, _data(s)[1]
    batch = fit_random_effects_batch(Y, V, method, ci_method, weights=N)  # GENQ/GENQM: patients as weights
    for i, s in enumerate(sets):
        one = fit_random_effects(*proportion_effect_sizes(*_data(s)), method, ci_method, weights=_data(s)[1])
        for field in ("estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "q", "i2", "h2"):
            assert getattr(batch, field)[i] == pytest.approx(getattr(one, field), rel=1e-9, abs=1e-12, nan_ok=True), (
                s,
                field,
            )


def test_fixtures_cover_the_required_datasets():
    names = set(EXPECTED.dataset)
    for needed in (
        "synthetic:zero_heterogeneity",
        "synthetic:extreme_heterogeneity",
        "synthetic:k2",
        "synthetic:zero_and_full",
        "synthetic:large_k",
    ):
        assert needed in names
    assert any(n.startswith("project:") for n in names)
    # the nine estimators of metafor_rma.csv; test_tau2_estimators.py has every one of TAU2_METHODS
    assert set(EXPECTED.tau2_method) == {"REML", "ML", "DL", "PM", "EB", "HE", "HS", "SJ", "FE"}
    assert set(EXPECTED.measure) == {"PLO", "PR", "PAS", "PFT"}


def test_continuity_correction_only_for_zero_cells():
    yi, vi = proportion_effect_sizes([0, 5, 10], [10, 10, 10])
    assert yi[0] == pytest.approx(np.log(0.5 / 10.5))
    assert yi[1] == 0.0 and vi[1] == pytest.approx(0.4)
    assert yi[2] == pytest.approx(np.log(10.5 / 0.5))


def test_weights_sum_to_100():
    yi, vi = proportion_effect_sizes([5, 9, 20], [10, 12, 25])
    assert fit_random_effects(yi, vi).weights.sum() == pytest.approx(100.0)


@pytest.mark.parametrize(
    "y, v, match",
    [
        ([], [], "k = 0"),
        ([0.1, np.nan], [0.1, 0.2], "finite"),
        ([0.1, 0.2], [0.1, 0.0], "> 0"),
        ([0.1, 0.2], [0.1, -1.0], "> 0"),
        ([0.1, 0.2], [0.1, np.inf], "finite"),
    ],
)
def test_degenerate_input_raises(y, v, match):
    with pytest.raises(ValueError, match=match):
        fit_random_effects(y, v)


def test_bad_method_names_raise():
    with pytest.raises(ValueError, match="tau2_method"):
        fit_random_effects([0.1, 0.2], [0.1, 0.1], tau2_method="XX")
    with pytest.raises(ValueError, match="ci_method"):
        fit_random_effects([0.1, 0.2], [0.1, 0.1], ci_method="XX")
    with pytest.raises(ValueError, match="measure"):
        proportion_effect_sizes([1], [2], "OR")


def test_knha_needs_two_studies():
    with pytest.raises(ValueError, match="k >= 2"):
        fit_random_effects([0.3], [0.1], ci_method="knha")


def test_bad_counts_raise():
    with pytest.raises(ValueError, match="n >= 1"):
        proportion_effect_sizes([1], [0])
    with pytest.raises(ValueError, match="events <= n"):
        proportion_effect_sizes([11], [10])
    with pytest.raises(ValueError, match="sample sizes"):
        inverse_transform([0.5], "PFT")


def test_tau2_estimators_truncate_at_zero():
    y, v = np.zeros(5), np.full(5, 0.1)
    assert tau2_reml(y, v) == 0.0 and tau2_dl(y, v) == 0.0


def test_genq_batch_equals_the_single_fits_row_by_row():
    """GENQ's batch path (closed form, absent studies weighted 0) gives every row's tau2_genq exactly, rows
    with one study included (0)."""
    from sbrtmeta.stats.generalized_q import tau2_genq
    from sbrtmeta.stats.random_effects import tau2_batch

    rng = np.random.default_rng(3)
    Y, V = rng.normal(0, 1, (300, 12)), rng.uniform(0.05, 0.5, (300, 12))
    W = rng.integers(10, 100, (300, 12)).astype(float)
    Y[::7, 3:], Y[5, 1:] = np.nan, np.nan
    got = tau2_batch(Y, V, "GENQ", weights=W)
    keep = ~np.isnan(Y)
    want = [tau2_genq(y[s], v[s], w[s]) for y, v, w, s in zip(Y, V, W, keep)]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    assert got[5] == 0.0 and np.all(got >= 0)
