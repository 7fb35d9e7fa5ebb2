"""The inference core: one registry, one critical value, CIs at any level from the result."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

from sbrtmeta.stats import dose_response, meta_regression, multilevel, random_effects  # noqa: E402
from sbrtmeta.stats.inference import (  # noqa: E402
    CI_METHODS,
    KNHA_CI,
    LIKELIHOOD_TAU2,
    REGRESSION_TAU2,
    T_CI,
    TAU2_METHODS,
    check_ci_method,
    check_level,
    check_tau2_method,
    critical_value,
)
from sbrtmeta.stats.meta_regression import fit_meta_regression  # noqa: E402
from sbrtmeta.stats.random_effects import fit_random_effects  # noqa: E402

Y = np.array([0.1, 0.5, -0.2, 0.9, 0.4, 0.3])
V = np.array([0.05, 0.1, 0.08, 0.2, 0.04, 0.07])


def test_every_subset_is_taken_from_the_registry():
    for subset in (LIKELIHOOD_TAU2, REGRESSION_TAU2):
        assert set(subset) <= set(TAU2_METHODS)
    for subset in (KNHA_CI, T_CI):
        assert set(subset) <= set(CI_METHODS)


def test_no_model_keeps_its_own_copy_of_a_registry_name():
    names = ("TAU2_METHODS", "CI_METHODS", "MetaRegressionPrediction", "MultilevelPrediction")
    for mod in (random_effects, meta_regression, multilevel, dose_response):
        assert not [name for name in names if hasattr(mod, name)], mod.__name__


@pytest.mark.parametrize("bad", [0.0, 1.0, 95, -0.1])
def test_one_level_check(bad):
    with pytest.raises(ValueError, match="level"):
        check_level(bad)


def test_option_checks_name_the_option():
    with pytest.raises(ValueError, match="tau2_method"):
        check_tau2_method("XX")
    with pytest.raises(ValueError, match="ci_method"):
        check_ci_method("knha", ("z", "t"))


def test_critical_value_is_normal_or_t():
    assert critical_value(0.95) == pytest.approx(1.959963984540054, rel=1e-15)
    assert critical_value(0.95, 10) > critical_value(0.95)
    assert np.shape(critical_value(0.9, np.array([2, 5]))) == (2,)


@pytest.mark.parametrize("ci_method", ["knha", "z"])
def test_random_effects_conf_int_at_any_level(ci_method):
    fit = fit_random_effects(Y, V, "REML", ci_method, level=0.95)
    assert fit.conf_int(0.95) == pytest.approx((fit.ci_low, fit.ci_high), rel=1e-14)
    at90 = fit_random_effects(Y, V, "REML", ci_method, level=0.9)
    assert fit.conf_int(0.9) == pytest.approx((at90.ci_low, at90.ci_high), rel=1e-14)


@pytest.mark.parametrize("ci_method", ["knha", "z"])
def test_meta_regression_conf_int_at_any_level(ci_method):
    X = np.column_stack([np.ones(6), [1.0, 2, 3, 4, 5, 7]])
    fit = fit_meta_regression(Y, V, X, "REML", ci_method, level=0.95)
    at80 = fit_meta_regression(Y, V, X, "REML", ci_method, level=0.8)
    assert fit.conf_int(0.8) == pytest.approx(np.column_stack([at80.ci_low, at80.ci_high]), rel=1e-12)
    assert list(fit.to_frame().columns)[:2] == ["coef", "se"]


def test_fixed_effects_derives_the_coefficient_table():
    """FixedEffects(names, coef, vcov, df, level): se, tests, CIs and QM follow from them."""
    from dataclasses import fields

    from sbrtmeta.stats import block_model, location_scale, robust  # noqa: F401 (their result classes)
    from sbrtmeta.stats.inference import Coefficients, FixedEffects, omnibus_test, wald_tests

    X = np.column_stack([np.ones(Y.size), np.arange(Y.size, dtype=float)])
    for ci_method, df in (("z", None), ("knha", Y.size - 2)):
        fit = fit_meta_regression(Y, V, X, "REML", ci_method, coef_names=["intrcpt", "x"])
        fe = FixedEffects(fit.coef_names, fit.coef, fit.vcov, df, 0.95)
        assert fit.fixed.df == df and fe.btt == fit.btt == (1,)
        zval, pval = wald_tests(fit.coef, np.sqrt(np.diag(fit.vcov)), df)
        assert np.array_equal(fe.zval, zval) and np.array_equal(fe.pval, pval)
        assert (fe.QM, fe.QM_df, fe.QM_p) == omnibus_test(fit.coef, fit.vcov, (1,), df)
        frame = fit.to_frame()
        stat = "zval" if df is None else "tval"
        assert list(frame.columns) == ["coef", "se", stat, "pval", "ci_low", "ci_high"]
        assert list(frame.index) == ["intrcpt", "x"] and np.array_equal(frame["ci_low"], fe.ci_low)
    given = FixedEffects(("a", "b"), [1.0, 2.0], np.eye(2), None, 0.9, omnibus=(3.0, (2, 7.5), 0.1))
    assert (given.QM, given.QM_df, given.QM_p) == (3.0, (2, 7.5), 0.1)  # e.g. the HTZ test of robust
    assert given.btt == (0, 1)  # no intercept: every coefficient
    # the coefficient fields are declared once: in FixedEffects, not in the models that hold one
    forwarded = {"coef", "se", "zval", "pval", "ci_low", "ci_high", "vcov", "df", "level", "QM", "QM_df", "QM_p"}
    models = Coefficients.__subclasses__()
    assert len(models) >= 6  # meta-regression, multilevel, block, robust, dose-response, location-scale
    for cls in models:
        assert not forwarded & {f.name for f in fields(cls)}, cls.__name__
