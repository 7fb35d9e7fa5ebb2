"""The random-effects engine against metafor's rma() (fixtures from tests/metafor/)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sbrtmeta.effect_sizes import inverse_transform, proportion_effect_sizes
from sbrtmeta.random_effects import fit_random_effects, tau2_dl, tau2_reml

FIX = Path(__file__).parent / "fixtures"
INPUTS = pd.read_csv(FIX / "metafor_inputs.csv")
EXPECTED = pd.read_csv(FIX / "metafor_rma.csv")
RTOL = 1e-6


def _case_id(row):
    return f"{row.dataset}-{row.tau2_method}-{row.ci_method}"


@pytest.mark.parametrize("row", list(EXPECTED.itertuples()), ids=_case_id)
def test_matches_metafor(row):
    d = INPUTS[INPUTS.dataset == row.dataset]
    yi, vi = proportion_effect_sizes(d.xi.to_numpy(), d.ni.to_numpy())
    fit = fit_random_effects(yi, vi, row.tau2_method, row.ci_method)
    assert fit.k == row.k
    for ours, theirs in [
        (fit.estimate, row.estimate), (fit.se, row.se), (fit.ci_low, row.ci_low),
        (fit.ci_high, row.ci_high), (fit.pi_low, row.pi_low), (fit.pi_high, row.pi_high),
        (fit.q, row.q), (fit.q_p, row.q_p), (fit.i2, row.i2), (fit.h2, row.h2),
        (inverse_transform(fit.estimate), row.prop_estimate),
        (inverse_transform(fit.ci_low), row.prop_ci_low), (inverse_transform(fit.ci_high), row.prop_ci_high),
        (inverse_transform(fit.pi_low), row.prop_pi_low), (inverse_transform(fit.pi_high), row.prop_pi_high),
    ]:
        assert ours == pytest.approx(theirs, rel=RTOL, abs=1e-12, nan_ok=True)
    assert fit.tau2 == pytest.approx(row.tau2, rel=RTOL, abs=1e-10)


def test_fixtures_cover_the_required_datasets():
    names = set(EXPECTED.dataset)
    for needed in ("synthetic:zero_heterogeneity", "synthetic:extreme_heterogeneity", "synthetic:k2",
                   "synthetic:zero_and_full", "synthetic:large_k"):
        assert needed in names
    assert any(n.startswith("project:") for n in names)


def test_continuity_correction_only_for_zero_cells():
    yi, vi = proportion_effect_sizes([0, 5, 10], [10, 10, 10])
    assert yi[0] == pytest.approx(np.log(0.5 / 10.5))
    assert yi[1] == 0.0 and vi[1] == pytest.approx(0.4)
    assert yi[2] == pytest.approx(np.log(10.5 / 0.5))


def test_weights_sum_to_100():
    yi, vi = proportion_effect_sizes([5, 9, 20], [10, 12, 25])
    assert fit_random_effects(yi, vi).weights.sum() == pytest.approx(100.0)


@pytest.mark.parametrize("y, v, match", [
    ([], [], "k = 0"),
    ([0.1, np.nan], [0.1, 0.2], "finite"),
    ([0.1, 0.2], [0.1, 0.0], "> 0"),
    ([0.1, 0.2], [0.1, -1.0], "> 0"),
])
def test_degenerate_input_raises(y, v, match):
    with pytest.raises(ValueError, match=match):
        fit_random_effects(y, v)


def test_knha_needs_two_studies():
    with pytest.raises(ValueError, match="k >= 2"):
        fit_random_effects([0.3], [0.1], ci_method="knha")


def test_bad_counts_raise():
    with pytest.raises(ValueError, match="n >= 1"):
        proportion_effect_sizes([1], [0])
    with pytest.raises(ValueError, match="events <= n"):
        proportion_effect_sizes([11], [10])


def test_tau2_estimators_truncate_at_zero():
    y, v = np.zeros(5), np.full(5, 0.1)
    assert tau2_reml(y, v) == 0.0 and tau2_dl(y, v) == 0.0
