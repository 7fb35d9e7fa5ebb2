"""sbrtmeta.stats.permutation against metafor's permutest (tests/metafor/make_permutation_fixtures.R)."""

import math

import numpy as np
import pandas as pd
import pytest
from sbrtmeta.stats.meta_regression import design_matrix, fit_meta_regression
from sbrtmeta.stats.permutation import (
    count_distinct_permutations,
    distinct_arrangements,
    fit_statistics,
    permutation_test,
)
from sensitivity_fixtures import REF, cases, data, ref

CASES = cases("perm_")


def _test(ds, an, **kw):
    d = data(ds)
    if an == "perm_dose":
        X = np.column_stack([np.ones(len(d)), np.log(d.bed10.to_numpy())])
        names = ["intrcpt", "log(bed10)"]
        return permutation_test(d.yi, d.vi, X, "REML", "z", coef_names=names, **kw), names
    X, names = design_matrix(pd.DataFrame({"site": d.site}))
    method, ci = ("ML", "z") if an == "perm_sites_ml_z" else ("REML", "knha")
    return permutation_test(d.yi, d.vi, X, method, ci, coef_names=names, **kw), names


@pytest.mark.parametrize("ds, an", CASES)
def test_permutest_matches_metafor(ds, an):
    r = ref(ds, an)
    res, names = _test(ds, an, exact_max=100_000)
    assert res.n_distinct == pytest.approx(r[("", "n_distinct")], rel=1e-9)
    assert res.QM == pytest.approx(r[("", "QM")], rel=1e-6)
    assert res.QM_p == pytest.approx(r[("", "QMp_parametric")], rel=1e-6)
    for j, name in enumerate(names):
        assert res.zval[j] == pytest.approx(r[(name, "zval")], rel=1e-6)
    if ("", "QMp") in r:  # exact test: the p-values are counts over one set, equal exactly
        assert res.exact
        assert res.n_perm == r[("", "n_distinct")]
        n = res.n_perm  # equal counts of permutations at or above the observed statistic
        assert round(res.QMp * n) == round(r[("", "QMp")] * n)
        assert res.QMp == pytest.approx(r[("", "QMp")], rel=1e-14)
        for j, name in enumerate(names):
            assert round(res.pval[j] * n) == round(r[(name, "pval")] * n)
    else:
        assert not res.exact and res.n_perm == 1000


def test_exact_cases_cover_the_synthetic_sets():
    exact = set(REF[(REF.quantity == "QMp")].dataset)
    assert {"synthetic:zero_study", "synthetic:k3", "synthetic:zero_study_dose", "synthetic:k3_dose"} <= exact
    assert {"shipped:colorectal_LC_24", "shipped:colorectal_OS_24", "shipped:dose_liver"} <= exact


def test_arrangements_are_every_distinct_permutation_once():
    kinds = np.array([0, 1, 1, 2, 2, 2])
    A = distinct_arrangements(kinds)
    assert A.shape == (60, 6)  # 6! / (1! 2! 3!)
    assert len({tuple(a) for a in A}) == 60
    assert all(sorted(a) == sorted(kinds) for a in A)
    X = np.column_stack([np.ones(6), kinds == 1, kinds == 2])
    assert count_distinct_permutations(X) == 60


def test_batch_fit_equals_the_single_fit():
    d = data("shipped:colorectal_OS_24")
    X, _ = design_matrix(pd.DataFrame({"site": d.site}))
    rng = np.random.default_rng(1)
    perms = np.array([rng.permutation(len(d)) for _ in range(5)])
    Y, V = d.yi.to_numpy()[perms], d.vi.to_numpy()[perms]
    for method in ("REML", "ML", "DL", "FE"):
        for ci in ("z", "knha"):
            tau2, b, z, qm = fit_statistics(X, Y, V, method, ci, (1, 2))
            for i in range(5):
                f = fit_meta_regression(Y[i], V[i], X, method, ci)
                assert tau2[i] == pytest.approx(f.tau2, rel=1e-10, abs=1e-14)
                np.testing.assert_allclose(b[i], f.coef, rtol=1e-9)
                assert qm[i] == pytest.approx(f.QM, rel=1e-9)


def test_random_permutations_are_seeded_and_include_the_observed():
    d = data("shipped:dose_lung")
    X = np.column_stack([np.ones(len(d)), np.log(d.bed10)])
    a = permutation_test(d.yi, d.vi, X, exact_max=10, iterations=200, seed=7)
    b = permutation_test(d.yi, d.vi, X, exact_max=10, iterations=200, seed=7)
    assert not a.exact and a.n_perm == 200 and a.seed == 7
    assert a.QMp == b.QMp and a.QMp >= 1 / 200
    assert a.n_distinct == count_distinct_permutations(X) == math.factorial(11) // 2  # two arms share a BED10


def test_bad_input_is_refused():
    X = np.column_stack([np.ones(4), [1.0, 2, 3, 4]])
    with pytest.raises(ValueError, match="X must be"):
        permutation_test([0.1, 0.2, 0.3, 0.4], [0.1] * 4, X[:3])
    with pytest.raises(ValueError, match="nothing to permute"):
        permutation_test([0.1, 0.2, 0.3, 0.4], [0.1] * 4, np.ones((4, 1)))
    with pytest.raises(ValueError, match="iterations"):
        permutation_test([0.1, 0.2, 0.3, 0.4], [0.1] * 4, X, iterations=1)


def test_more_distinct_permutations_than_a_float_holds():
    """1,100 studies of two equal kinds: C(1100, 550) ~ 1e330 distinct permutations, beyond a float (it raised
    OverflowError in a user sheet of 10^5 rows, bench/workflow_bench.py (d)). The count is inf, the test uses
    its random permutations, and the note says how many."""
    from sbrtmeta.analysis.sensitivity_tests import permutation_note

    rng = np.random.default_rng(1)
    k = 1100
    X = np.column_stack([np.ones(k), np.repeat([0.0, 1.0], k // 2)])
    res = permutation_test(rng.normal(0.5, 0.3, k), np.full(k, 0.05), X, "DL", "z", iterations=20, seed=3)
    assert res.n_distinct == np.inf and not res.exact and res.n_perm == 20
    assert "20 random permutations (seed 3) of more than 1.8e+308 distinct ones" in permutation_note(res)
