"""The dose x time model (issue 13) against metafor (tests/metafor/make_curve_fixtures.R, third argument)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sbrtmeta.stats.dose_response import (
    MODEL_TIME,
    dose_curve,
    fit_dose_response,
    fit_dose_time,
)
from sbrtmeta.stats.tcp import tcp_parameters
from sbrtmeta.stats.tcp_bootstrap import bootstrap_dose_time

FIX = Path(__file__).parent / "fixtures"
INPUTS = pd.read_csv(FIX / "dose_time_inputs.csv")
FITS = pd.read_csv(FIX / "metafor_dose_time_fits.csv")
COEFS = pd.read_csv(FIX / "metafor_dose_time_coefs.csv")
VCOV = pd.read_csv(FIX / "metafor_dose_time_vcov.csv")


def _close(a, b, rel=1e-6, abs_=1e-8):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rel, atol=abs_)


def _fit(name):
    d = INPUTS[INPUTS["dataset"] == name]
    return fit_dose_time(d["x"], d["n"], d["bed"], d["study"], d["arm"], d["t"], timepoint=24.0)


@pytest.mark.parametrize("name", FITS["dataset"].tolist())
def test_dose_time_matches_rma_mv(name):
    row = FITS[FITS["dataset"] == name].iloc[0]
    res = _fit(name)
    c = COEFS[COEFS["dataset"] == name]
    _close(res.coef, c["coef"])
    _close(res.se, c["se"])
    _close(res.ci_low, c["ci_low"])
    _close(res.ci_high, c["ci_high"])
    _close(res.pval, c["pval"])
    v = VCOV[VCOV["dataset"] == name]
    _close(res.vcov[v["i"] - 1, v["j"] - 1], v["v"])
    assert res.struct == row["struct"]
    if res.sigma2 is not None:
        _close(res.sigma2, [row["sigma2"], row["tau2"]])
    else:
        _close(res.tau2, row["tau2"])
    if row["struct"] == "CAR":
        assert res.model == MODEL_TIME
        _close(res.rho, row["rho"])
        _close(res.fit.loglik, row["loglik"], rel=1e-9)


def test_time_term_centred_at_the_time_point():
    """b0 is the logit LC at T: refitting at another T moves only the intercept, by b2 (f(T') - f(T))."""
    d = INPUTS[INPUTS["dataset"] == "synthetic"]
    a = fit_dose_time(d["x"], d["n"], d["bed"], d["study"], d["arm"], d["t"], timepoint=24.0)
    b = fit_dose_time(d["x"], d["n"], d["bed"], d["study"], d["arm"], d["t"], timepoint=12.0)
    _close(b.coef[1:], a.coef[1:], rel=1e-6)
    _close(b.coef[0], a.coef[0] + a.coef[2] * (np.log(12.0) - np.log(24.0)), rel=1e-6)
    t24, t12 = tcp_parameters(a), tcp_parameters(b)
    assert t12.bed_target < t24.bed_target  # LC falls with time (b2 < 0): less dose for 90% at 12 months
    curve = dose_curve(a, [60.0, 100.0, 150.0])
    _close(curve["logit"], a.coef[0] + a.coef[1] * np.log([60.0, 100.0, 150.0]), rel=1e-9)


def test_one_time_point_is_the_single_time_point_model():
    """All rates at one month: no time term, the same fit as fit_dose_response."""
    d = INPUTS[INPUTS["dataset"] == "shipped:lung|colorectal"]
    a = fit_dose_time(d["x"], d["n"], d["bed"], d["study"], d["arm"], d["t"], timepoint=24.0)
    b = fit_dose_response(d["x"], d["n"], d["bed"], d["study"], d["arm"])
    _close(a.coef, b.coef, rel=1e-12)
    _close(a.vcov, b.vcov, rel=1e-12)


@pytest.mark.slow  # seconds of CPU: make test-fast runs it, -m 'not slow' leaves it out
def test_bootstrap_of_the_block_model_runs():
    d = INPUTS[INPUTS["dataset"] == "synthetic"]
    res = fit_dose_time(d["x"], d["n"], d["bed"], d["study"], d["arm"], d["t"], timepoint=24.0)
    boot = bootstrap_dose_time(res, n_boot=12, seed=1)
    assert boot.n_ok >= 10
    iv = boot.intervals.set_index("parameter")
    assert iv.loc["bed_target", "ci_low"] < boot.estimates["all"].bed_target < iv.loc["bed_target", "ci_high"]


def test_a_fit_run_off_to_a_singular_v_is_refused():
    """Equal rates of one arm make V singular (no events between them). With every multi-time arm of
    the synthetic set flat, the likelihood runs off to infinity as the arms' variance goes to 0 (the
    time term then fits those arms exactly): an error naming a study, not an estimate."""
    d = INPUTS[INPUTS["dataset"] == "synthetic"].reset_index(drop=True)
    first = d.groupby(["study", "arm"])["x"].transform("first")
    d = d.assign(x=first)
    with pytest.raises(ValueError, match="singular"):
        fit_dose_time(d["x"], d["n"], d["bed"], d["study"], d["arm"], d["t"], timepoint=24.0)


@pytest.mark.slow  # seconds of CPU: make test-fast runs it, -m 'not slow' leaves it out
def test_analysis_with_the_time_model():
    """analyse_dose_response(time_model=...) fits a row per arm and month and adds TIME_COLUMNS; the
    single-time-point table has only TABLE_COLUMNS."""
    from sbrtmeta.analysis.dose_response import TABLE_COLUMNS, TIME_COLUMNS, analyse_dose_response

    d = INPUTS[INPUTS["dataset"] == "synthetic"]
    arms = pd.DataFrame(
        dict(
            study_id=d["study"],
            arm=d["arm"],
            label=d["study"],
            site="liver",
            histology="colorectal",
            bed=d["bed"],
            endpoint="LC",
            timepoint_months=24.0,
            printed_timepoint_months=d["t"],
            converted=False,
            rate=d["x"] / d["n"],
            events=d["x"],
            n=d["n"],
        )
    )
    tm = dict(timepoint=24.0, time_function="log", spline_df=3, struct="CAR")
    a = analyse_dose_response(arms, n_boot=5, time_model=tm)
    assert list(a.table.columns) == list(TABLE_COLUMNS) + list(TIME_COLUMNS)
    row = a.table.iloc[0]
    assert row["k_rates"] == len(arms) and row["k_arms"] == len(arms.drop_duplicates(["study_id", "arm"]))
    ref = COEFS[COEFS["dataset"] == "synthetic"]
    _close(row["slope"], ref["coef"].iloc[1])
    _close(row["time_coef"], ref["coef"].iloc[2])
    first = arms.drop_duplicates(["study_id", "arm"])
    b = analyse_dose_response(first.assign(printed_timepoint_months=24.0), n_boot=5)
    assert list(b.table.columns) == list(TABLE_COLUMNS)
