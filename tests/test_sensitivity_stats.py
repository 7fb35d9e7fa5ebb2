"""Study intervals, escalc's add/to, regtest's predictors, cumul() and baujat() against R.

Fixtures: tests/metafor/make_sensitivity_study_fixtures.R on
tests/fixtures/sensitivity_study_inputs.csv (the shipped cells and synthetic cells with a 0 %
study, k = 3 and many arms per study).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sbrtmeta.stats.cumulative import accrual_order, cumulative
from sbrtmeta.stats.effect_sizes import boundary_studies, proportion_effect_sizes, study_intervals
from sbrtmeta.stats.influence import baujat
from sbrtmeta.stats.small_study import regtest

FIX = Path(__file__).parent / "fixtures"
RTOL = 1e-6
INPUTS = pd.read_csv(FIX / "sensitivity_study_inputs.csv")


def _read(name):
    return pd.read_csv(FIX / name, keep_default_na=False, na_values=["NA"])


def _data(dataset):
    d = INPUTS[INPUTS["dataset"] == dataset].reset_index(drop=True)
    yi, vi = proportion_effect_sizes(d["xi"].to_numpy(float), d["ni"].to_numpy(float), "PLO")
    return d, yi, vi


def _close(actual, expected, rtol=RTOL, atol=1e-10):
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(expected, float), rtol=rtol, atol=atol)


@pytest.mark.parametrize("method", ["clopper-pearson", "wilson", "wilson-cc", "agresti-coull", "jeffreys"])
@pytest.mark.parametrize("level", [0.95, 0.90])
def test_study_intervals_match_r(method, level):
    ref = _read("metafor_study_ci.csv")
    ref = ref[(ref["method"] == method) & np.isclose(ref["level"], level)]
    lo, hi = study_intervals(ref["xi"].to_numpy(), ref["ni"].to_numpy(), method, level)
    _close(lo, ref["ci_low"], atol=1e-12)
    _close(hi, ref["ci_high"], atol=1e-12)


def test_study_intervals_reject_unknown_method():
    with pytest.raises(ValueError, match="not one of"):
        study_intervals([1], [2], "wald")


@pytest.mark.parametrize("to", ["all", "only0", "if0all", "none"])
@pytest.mark.parametrize("measure", ["PLO", "PR"])
def test_continuity_correction_matches_escalc(to, measure):
    ref = _read("metafor_escalc_continuity.csv")
    ref = ref[(ref["to"] == to) & (ref["measure"] == measure)]
    for (dataset, add), rows in ref.groupby(["dataset", "add"]):
        d = INPUTS[INPUTS["dataset"] == dataset]
        x, n = d["xi"].to_numpy(float), d["ni"].to_numpy(float)
        undefined = boundary_studies(x, n, measure, add, to)
        if rows["vi"].isna().any() or (rows["vi"] == 0).any():
            assert undefined.size, dataset
            with pytest.raises(ValueError, match=r"study \d+ .* no continuity correction"):
                proportion_effect_sizes(x, n, measure, add, to)
            continue
        assert undefined.size == 0
        yi, vi = proportion_effect_sizes(x, n, measure, add, to)
        _close(yi, rows["yi"])
        _close(vi, rows["vi"])


def test_regtest_predictors_match_metafor():
    ref = _read("metafor_regtest_predictors.csv")
    for r in ref.itertuples():
        d, yi, vi = _data(r.dataset)
        res = regtest(yi, vi, "rma", r.predictor, r.tau2_method, r.ci_method, ni=d["ni"].to_numpy(float))
        _close([res.zval, res.pval], [r.zval, r.pval])
        if pd.notna(r.est):
            _close([res.est, res.ci_low, res.ci_high], [r.est, r.ci_low, r.ci_high])
        else:
            assert res.est is None


CUMUL = _read("metafor_cumul.csv")


@pytest.mark.parametrize(
    "key", sorted(set(zip(CUMUL["dataset"], CUMUL["tau2_method"], CUMUL["ci_method"], CUMUL["tie_break"])))
)
def test_cumulative_matches_metafor(key):
    dataset, method, test, tie_break = key
    ref = CUMUL[(CUMUL["dataset"] == dataset) & (CUMUL["tau2_method"] == method)]
    ref = ref[(ref["ci_method"] == test) & (ref["tie_break"] == tie_break)].sort_values("step")
    d, yi, vi = _data(dataset)
    order = accrual_order(d["year"].to_numpy(float), d["ni"].to_numpy(float), vi, tie_break)
    np.testing.assert_array_equal(order + 1, ref["study_row"].to_numpy())
    res = cumulative(yi, vi, order, method, test)
    for field in ("estimate", "se", "zval", "pval", "ci_low", "ci_high", "q", "q_p", "tau2", "i2", "h2"):
        _close(getattr(res, field), ref[field], atol=1e-9)


def test_cumulative_rejects_a_bad_order():
    with pytest.raises(ValueError, match="permutation"):
        cumulative([0.1, 0.2], [0.1, 0.1], [0, 0])
    with pytest.raises(ValueError, match="tie_break"):
        accrual_order([2000], [10], [0.1], "weight")


BAUJAT = _read("metafor_baujat.csv")


@pytest.mark.parametrize("key", sorted(set(zip(BAUJAT["dataset"], BAUJAT["tau2_method"], BAUJAT["ci_method"]))))
def test_baujat_matches_metafor(key):
    dataset, method, test = key
    ref = BAUJAT[(BAUJAT["dataset"] == dataset) & (BAUJAT["tau2_method"] == method) & (BAUJAT["ci_method"] == test)]
    d, yi, vi = _data(dataset)
    res = baujat(yi, vi, method, test)
    _close(res.contribution, ref["x"], atol=1e-9)
    _close(res.influence, ref["y"], atol=1e-9)


def test_wilson_cc_equals_scipys_scalar_wilsoncc():
    # scipy's binomtest(...).proportion_ci("wilsoncc") is the same interval one study at a time
    from scipy.stats import binomtest

    ref = _read("metafor_study_ci.csv").drop_duplicates(["xi", "ni"])
    lo, hi = study_intervals(ref["xi"].to_numpy(), ref["ni"].to_numpy(), "wilson-cc", 0.9)
    for x, n, a, b in zip(ref["xi"], ref["ni"], lo, hi):
        ci = binomtest(int(x), int(n)).proportion_ci(0.9, "wilsoncc")
        assert (a, b) == pytest.approx((ci.low, ci.high), abs=1e-12)
