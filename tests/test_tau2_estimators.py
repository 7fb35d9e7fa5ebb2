"""Every τ² estimator metafor 5.1-12's rma.uni accepts, and its aliases, against metafor
(tests/fixtures/metafor_tau2.csv from tests/metafor/make_tau2_fixtures.R: the shipped cells
and synthetic data with k = 2, 3, 10 and 100, PLO and PAS, Knapp-Hartung and z)."""

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sbrtmeta.stats.effect_sizes import proportion_effect_sizes
from sbrtmeta.stats.generalized_q import tau2_genq, weighted_chi2_cdf
from sbrtmeta.stats.inference import TAU2_ALIASES, TAU2_METHODS, WEIGHTED_TAU2, canonical_tau2, refit_tau2
from sbrtmeta.stats.random_effects import fit_random_effects, fit_random_effects_batch, tau2_batch
from scipy import stats

pytestmark = pytest.mark.metafor

FIX = Path(__file__).parent / "fixtures"
INPUTS = pd.concat([pd.read_csv(FIX / "metafor_inputs.csv"), pd.read_csv(FIX / "tau2_synthetic_inputs.csv")])
EXPECTED = pd.read_csv(FIX / "metafor_tau2.csv")
RTOL = 1e-6
FIELDS = ("tau2", "estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high")


@cache
def _data(dataset, measure):
    d = INPUTS[INPUTS.dataset == dataset]
    y, v = proportion_effect_sizes(d.xi.to_numpy(), d.ni.to_numpy(), measure)
    return y, v, d.ni.to_numpy(dtype=float)


def _params(slow_methods):
    out = []
    for row in EXPECTED.itertuples():
        marks = [pytest.mark.slow] if row.tau2_method in slow_methods else []
        out.append(pytest.param(row, marks=marks, id=f"{row.dataset}-{row.measure}-{row.tau2_method}-{row.ci_method}"))
    return out


def _check(fit, row):
    for name in FIELDS:
        theirs = getattr(row, name)
        # metafor's SJIT stops where its step is below threshold (1e-12), so a τ² of 0 comes back as ~1e-12
        assert getattr(fit, name) == pytest.approx(theirs, rel=RTOL, abs=1e-9, nan_ok=True), name


@pytest.mark.parametrize("row", _params(("GENQM",)))
def test_every_estimator_matches_rma(row):
    """``rma(yi, vi, method, test)``; GENQ/GENQM: ``weights = ni`` for τ², then ``rma(yi, vi, tau2 =)``."""
    y, v, n = _data(row.dataset, row.measure)
    fit = fit_random_effects(y, v, row.tau2_method, row.ci_method, weights=n)
    assert fit.k == row.k
    _check(fit, row)


@pytest.mark.parametrize("method", [m for m in TAU2_METHODS if m != "GENQM"])
def test_batch_path_equals_rma_for_every_estimator(method):
    """The batch engine (leave-one-out, GOSH, multiverse) gives metafor's fits, NaN-padded cells of mixed k."""
    rows = EXPECTED[(EXPECTED.tau2_method == method) & (EXPECTED.ci_method == "z") & (EXPECTED.measure == "PLO")]
    width = int(rows.k.max())
    Y, V, N = np.full((len(rows), width), np.nan), np.ones((len(rows), width)), np.ones((len(rows), width))
    for i, row in enumerate(rows.itertuples()):
        y, v, n = _data(row.dataset, row.measure)
        Y[i, : len(y)], V[i, : len(y)], N[i, : len(y)] = y, v, n
    fit = fit_random_effects_batch(Y, V, method, "z", weights=N, strict=True)
    for name in ("tau2", "estimate", "ci_low", "pi_high"):
        np.testing.assert_allclose(getattr(fit, name), rows[name], rtol=RTOL, atol=1e-9, err_msg=name)


def test_registry_has_every_rma_uni_estimator_and_alias():
    for name in ("HSk", "DLIT", "SJIT", "PMM", "GENQ", "GENQM", "EE", "CE", "CO", "VC", "MP"):
        assert name in TAU2_METHODS
    assert {canonical_tau2(a) for a in TAU2_ALIASES} == {"FE", "HE", "PM"}
    assert set(EXPECTED.tau2_method) == set(TAU2_METHODS)


def test_weighted_estimators_need_weights():
    y, v = np.array([0.1, 0.5, 0.9]), np.array([0.04, 0.05, 0.06])
    for method in WEIGHTED_TAU2:
        with pytest.raises(ValueError, match="needs weights"):
            fit_random_effects(y, v, method)
    with pytest.raises(ValueError, match="weights must be finite and > 0"):
        tau2_batch(y, v, "GENQ", weights=[1.0, 0.0, 2.0])


def test_genq_with_inverse_variance_weights_is_dl():
    """DerSimonian & Kacker 2007: the generalized Q estimator with a = 1/v is DerSimonian-Laird."""
    rng = np.random.default_rng(3)
    y, v = rng.normal(0, 0.5, 12), rng.uniform(0.01, 0.2, 12)
    assert tau2_genq(y, v, 1 / v) == pytest.approx(float(tau2_batch(y, v, "DL")[0]), rel=1e-12)


@pytest.mark.parametrize("n_weights", [2, 3, 5, 20, 99])
@pytest.mark.parametrize("scale", [0.05, 1.0, 30.0])
def test_weighted_chi2_cdf_equals_chi2_for_equal_weights(n_weights, scale):
    for p in (0.05, 0.5, 0.95):
        x = stats.chi2.ppf(p, n_weights) * scale
        assert weighted_chi2_cdf(x, np.full(n_weights, scale)) == pytest.approx(p, abs=1e-12)


def test_refits_use_reml_for_weighted_estimators():
    assert refit_tau2("GENQ") == refit_tau2("GENQM") == refit_tau2("GLMM") == "REML"
    assert refit_tau2("PMM") == "PMM" and refit_tau2("EE") == "EE"
