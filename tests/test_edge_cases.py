"""Edge cases of the data, through pool_cells and not_pooled.

Numbers are compared with metafor: tests/fixtures/metafor_rma.csv (k = 2, studies at
0 % and 100 %, zero heterogeneity) and tests/fixtures/metafor_edge.csv, written by
``Rscript tests/metafor/make_edge_fixtures.R tests/fixtures`` (one study, one study
with n = 1, all studies at 100 %, identical studies, a study with n = 1 among
others). Where no number is at stake the tests check structure: k, how a single
study is reported, the reason for not pooling, no NaN in an interval.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sbrtmeta.analysis.pooling import POOLED_COLUMNS, not_pooled, pool_cells

FIX = Path(__file__).parent / "fixtures"
RMA = pd.read_csv(FIX / "metafor_rma.csv")
RMA_INPUTS = pd.read_csv(FIX / "metafor_inputs.csv")
EDGE = pd.read_csv(FIX / "metafor_edge.csv")
EDGE_INPUTS = pd.read_csv(FIX / "metafor_edge_inputs.csv")
RTOL = 1e-6


def _rows(counts, site="liver", endpoint="LC", t=24.0, hist="colorectal", prefix=None):
    """Included rows as apply_inclusion writes them (the columns pool_cells reads)."""
    prefix = prefix or site.replace(" ", "")
    return [
        dict(
            study_id=f"{prefix}-{i}",
            ref=str(i + 1),
            first_author=f"Author{i}",
            year=2000 + i,
            review="crc2014",
            site=site,
            primary="crc",
            histology=hist,
            review_histology=hist,
            arm="all",
            endpoint=endpoint,
            timepoint_months=t,
            target_timepoint_months=t,
            rate=x / n,
            n=int(n),
            events=int(x),
        )
        for i, (x, n) in enumerate(counts)
    ]


def _included(*row_lists):
    return pd.DataFrame([r for rows in row_lists for r in rows])


def _excluded(rows, criterion, detail):
    out = pd.DataFrame(rows)
    out["criterion"], out["detail"] = criterion, detail
    return out


def _counts(inputs, dataset):
    d = inputs[inputs.dataset == dataset]
    return list(zip(d.xi.astype(int), d.ni.astype(int)))


def _reference(table, dataset, tau2_method, ci_method):
    ref = table[
        (table.dataset == dataset)
        & (table.measure == "PLO")
        & (table.tau2_method == tau2_method)
        & (table.ci_method == ci_method)
    ]
    assert len(ref) == 1, (dataset, tau2_method, ci_method)
    return ref.iloc[0]


def _assert_matches(row, ref, fitted=True):
    pairs = [
        ("k", row.k, ref.k),
        ("estimate", row.estimate, ref.prop_estimate),
        ("ci_low", row.ci_low, ref.prop_ci_low),
        ("ci_high", row.ci_high, ref.prop_ci_high),
        ("model_estimate", row.model_estimate, ref.estimate),
    ]
    if fitted:
        pairs += [("tau2", row.tau2, ref.tau2), ("q", row.q, ref.q)]
        if not np.isnan(ref.prop_pi_low):
            pairs += [("pi_low", row.pi_low, ref.prop_pi_low), ("pi_high", row.pi_high, ref.prop_pi_high)]
    for name, ours, theirs in pairs:
        assert ours == pytest.approx(theirs, rel=RTOL, abs=1e-10), name


def _no_nan_interval(row):
    assert np.isfinite([row.estimate, row.ci_low, row.ci_high]).all()
    assert 0 <= row.ci_low <= row.estimate <= row.ci_high <= 1


# --- k = 0 ----------------------------------------------------------------------------------


def test_no_included_rows_pools_nothing_and_says_why():
    inc = _included(_rows([(8, 10)]))[:0]
    pooled, studies = pool_cells(inc)
    assert list(pooled.columns) == list(POOLED_COLUMNS) and len(pooled) == 0 and len(studies) == 0
    exc = _excluded(_rows([(3, 4), (5, 9)], site="spine"), "min_n", "n below inclusion.min_n")
    missing = not_pooled(inc, exc, sites=["liver", "spine"], endpoints=["LC", "OS"])
    spine = missing[missing.site == "spine"].iloc[0]
    assert (spine.endpoint, spine.rows, spine.reason) == ("LC", 2, "min_n: 2 rows")
    liver = missing[missing.site == "liver"].iloc[0]
    assert (liver.rows, liver.reason) == (0, "no rows in the data")


def test_cell_with_every_row_excluded_is_not_pooled_but_others_are():
    inc = _included(_rows([(17, 20), (30, 45)], site="lung"))
    exc = _excluded(
        _rows([(8, 10)], site="liver") + _rows([(4, 6)], site="liver", endpoint="OS"), "basis", "crude rate"
    )
    pooled, _ = pool_cells(inc)
    assert set(pooled.site) == {"lung"}
    missing = not_pooled(inc, exc, sites=["liver", "lung"], endpoints=["LC", "OS"])
    liver = missing[missing.site == "liver"].sort_values("endpoint")
    assert liver.endpoint.tolist() == ["LC", "OS"] and (liver.reason == "basis: 1 row").all()
    assert "lung" not in set(missing.site)


# --- k = 1 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", ["single_study", "single_study_n1"])
def test_single_study_is_reported_as_such_with_its_wald_interval(dataset):
    counts = _counts(EDGE_INPUTS, dataset)
    pooled, studies = pool_cells(_included(_rows(counts)))
    (row,) = pooled.itertuples()
    assert row.k == 1 and row.model == "single study" and row.ci_method == "wald"  # pool_cells' study_ci
    assert np.isnan([row.tau2, row.i2, row.q, row.pi_low, row.pi_high]).all()
    _no_nan_interval(row)
    _assert_matches(row, _reference(EDGE, dataset, "REML", "z"), fitted=False)
    (s,) = studies.itertuples()
    assert s.weight_pct == 100.0 and (s.estimate, s.ci_low, s.ci_high) == (row.estimate, row.ci_low, row.ci_high)


def test_single_study_of_n1_is_shown_with_the_continuity_correction():
    """1 of 1 patients: the logit needs the 1/2 correction, so the cell reports 75 %
    (as metafor), while the study's printed rate stays 100 %."""
    pooled, studies = pool_cells(_included(_rows(_counts(EDGE_INPUTS, "single_study_n1"))))
    ref = _reference(EDGE, "single_study_n1", "REML", "z")
    assert pooled.estimate.iloc[0] == pytest.approx(ref.prop_estimate, rel=RTOL)
    assert studies.rate.iloc[0] == 1.0 and studies.n.iloc[0] == 1


# --- k = 2 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("tau2_method, ci_method", [("REML", "knha"), ("REML", "z"), ("DL", "knha"), ("FE", "z")])
def test_two_studies_match_metafor(tau2_method, ci_method):
    counts = _counts(RMA_INPUTS, "synthetic:k2")
    pooled, studies = pool_cells(_included(_rows(counts)), tau2_method=tau2_method, ci_method=ci_method)
    (row,) = pooled.itertuples()
    assert row.model == ("common effect" if tau2_method == "FE" else "random effects")
    _no_nan_interval(row)
    _assert_matches(row, _reference(RMA, "synthetic:k2", tau2_method, ci_method))
    assert studies.weight_pct.sum() == pytest.approx(100.0)


# --- 0 % and 100 % --------------------------------------------------------------------------


@pytest.mark.parametrize("ci_method", ["knha", "z"])
def test_studies_at_zero_and_full_match_metafor(ci_method):
    counts = _counts(RMA_INPUTS, "synthetic:zero_and_full")
    pooled, studies = pool_cells(_included(_rows(counts)), ci_method=ci_method)
    (row,) = pooled.itertuples()
    _no_nan_interval(row)
    _assert_matches(row, _reference(RMA, "synthetic:zero_and_full", "REML", ci_method))
    assert np.isfinite(studies[["estimate", "ci_low", "ci_high", "yi", "vi"]].to_numpy()).all()


@pytest.mark.parametrize("dataset", ["all_full", "all_full_k2"])
@pytest.mark.parametrize("tau2_method, ci_method", [("REML", "knha"), ("REML", "z"), ("FE", "z")])
def test_all_studies_at_full_match_metafor(dataset, tau2_method, ci_method):
    counts = _counts(EDGE_INPUTS, dataset)
    assert all(x == n for x, n in counts)
    pooled, studies = pool_cells(_included(_rows(counts)), tau2_method=tau2_method, ci_method=ci_method)
    (row,) = pooled.itertuples()
    _no_nan_interval(row)
    assert row.estimate < 1  # the continuity correction keeps the pooled rate below 100 %
    _assert_matches(row, _reference(EDGE, dataset, tau2_method, ci_method))
    assert (studies.rate == 1.0).all()


# --- identical studies: τ² = 0 --------------------------------------------------------------


@pytest.mark.parametrize("tau2_method, ci_method", [("REML", "knha"), ("REML", "z"), ("FE", "z")])
def test_identical_studies_have_no_heterogeneity(tau2_method, ci_method):
    counts = _counts(EDGE_INPUTS, "identical")
    assert len(set(counts)) == 1
    pooled, _ = pool_cells(_included(_rows(counts)), tau2_method=tau2_method, ci_method=ci_method)
    (row,) = pooled.itertuples()
    assert row.tau2 == 0 and row.q == pytest.approx(0, abs=1e-12)
    assert row.estimate == pytest.approx(counts[0][0] / counts[0][1], rel=1e-12)
    _no_nan_interval(row)
    _assert_matches(row, _reference(EDGE, "identical", tau2_method, ci_method))
    if tau2_method != "FE":
        assert (row.tau2_ci_low, row.tau2_ci_high) == (0, 0)
        assert row.i2 == pytest.approx(0, abs=1e-9)


@pytest.mark.parametrize("ci_method", ["knha", "z"])
def test_equal_proportions_with_different_n_match_metafor(ci_method):
    counts = _counts(RMA_INPUTS, "synthetic:zero_heterogeneity")
    pooled, _ = pool_cells(_included(_rows(counts)), ci_method=ci_method)
    (row,) = pooled.itertuples()
    assert row.tau2 == pytest.approx(0, abs=1e-12)
    _assert_matches(row, _reference(RMA, "synthetic:zero_heterogeneity", "REML", ci_method))


def test_identical_studies_knha_interval_collapses_like_metafor():
    """Knapp-Hartung scales the SE by Q/(k-1) = 0: the interval is the point itself
    (metafor gives the same); it is a number, not NaN."""
    pooled, _ = pool_cells(_included(_rows(_counts(EDGE_INPUTS, "identical"))))
    row = pooled.iloc[0]
    assert row.ci_low == pytest.approx(row.estimate) == pytest.approx(row.ci_high)


# --- one study with n = 1 -------------------------------------------------------------------


@pytest.mark.parametrize("dataset", ["one_study_n1", "one_study_n1_none"])
@pytest.mark.parametrize("tau2_method, ci_method", [("REML", "knha"), ("REML", "z"), ("FE", "z")])
def test_one_study_of_one_patient_among_others_matches_metafor(dataset, tau2_method, ci_method):
    counts = _counts(EDGE_INPUTS, dataset)
    assert min(n for _, n in counts) == 1
    pooled, studies = pool_cells(_included(_rows(counts)), tau2_method=tau2_method, ci_method=ci_method)
    (row,) = pooled.itertuples()
    assert row.k == len(counts) and row.n_total == sum(n for _, n in counts)
    _no_nan_interval(row)
    _assert_matches(row, _reference(EDGE, dataset, tau2_method, ci_method))
    tiny = studies[studies.n == 1].iloc[0]
    assert tiny.weight_pct == studies.weight_pct.min() and np.isfinite([tiny.ci_low, tiny.ci_high]).all()


# --- a site present only in OS --------------------------------------------------------------


def test_site_present_only_in_os():
    inc = _included(
        _rows([(17, 20), (30, 45)], site="liver"),
        _rows([(17, 20), (30, 45)], site="liver", endpoint="OS"),
        _rows([(8, 10), (12, 20), (20, 30)], site="adrenal", endpoint="OS"),
    )
    exc = _excluded(
        _rows([(5, 7)], site="adrenal", endpoint="LC", prefix="adrenal-x"),
        "n_not_reported",
        "arm sample size not printed",
    )
    pooled, studies = pool_cells(inc)
    adrenal = pooled[pooled.site == "adrenal"]
    assert adrenal.endpoint.tolist() == ["OS"] and adrenal.k.tolist() == [3]
    assert set(studies[studies.site == "adrenal"].endpoint) == {"OS"}
    missing = not_pooled(inc, exc, sites=["liver", "adrenal"], endpoints=["LC", "OS"])
    assert len(missing) == 1
    row = missing.iloc[0]
    assert (row.site, row.endpoint, row.rows, row.reason) == ("adrenal", "LC", 1, "n_not_reported: 1 row")
    # the OS-only site does not disturb the other site's cells
    assert sorted(pooled[pooled.site == "liver"].endpoint) == ["LC", "OS"]


def test_site_only_in_os_without_any_lc_row_is_simply_absent_from_lc():
    inc = _included(
        _rows([(17, 20), (30, 45)], site="liver"), _rows([(8, 10), (12, 20)], site="adrenal", endpoint="OS")
    )
    pooled, _ = pool_cells(inc)
    assert set(zip(pooled.site, pooled.endpoint)) == {("liver", "LC"), ("adrenal", "OS")}
    missing = not_pooled(
        inc, inc[:0].assign(criterion=[], detail=[]), sites=["liver", "adrenal"], endpoints=["LC", "OS"]
    )
    assert len(missing) == 0  # nothing excluded: the site simply has no LC data


def test_endpoint_not_selected_is_not_reported_missing():
    inc = _included(_rows([(17, 20), (30, 45)], site="liver"))
    exc = _excluded(_rows([(5, 7)], site="adrenal", endpoint="OS"), "endpoint", "OS not selected")
    missing = not_pooled(inc, exc, sites=["liver", "adrenal"], endpoints=["LC"])
    assert len(missing) == 0  # adrenal OS rows exist but OS is not a selected endpoint
