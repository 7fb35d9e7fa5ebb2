"""hettest() and clustered leave-one-out (issue 25, item 5) against metafor 5.1-12
(tests/fixtures/metafor_hettest.csv and metafor_leave1out_cluster.csv from
tests/metafor/make_hettest_fixtures.R)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sbrtmeta.stats.hettest import hettest
from sbrtmeta.stats.influence import leave1out

FIX = Path(__file__).parent / "fixtures"
INPUTS = pd.read_csv(FIX / "sensitivity_tests_inputs.csv").query("role == 'sites'")
HET = pd.read_csv(FIX / "metafor_hettest.csv")
LOO = pd.read_csv(FIX / "metafor_leave1out_cluster.csv")


def _rows(dataset, site="all"):
    d = INPUTS[INPUTS.dataset == dataset]
    return d if site == "all" else d[d.site == site]


@pytest.mark.metafor
@pytest.mark.parametrize("key, rows", list(HET.groupby(["dataset", "site", "tau2_method"])), ids=str)
def test_hettest_equals_metafor(key, rows):
    dataset, site, method = key
    d = _rows(dataset, site)
    res = hettest(d.yi.to_numpy(), d.vi.to_numpy(), method, tuple(rows.test))
    np.testing.assert_allclose(res.statistic, rows.statistic.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(res.pval, rows.pval.to_numpy(), rtol=1e-6)
    assert res.df == rows.df.iloc[0] == len(d) - 1


def test_hettest_fixtures_cover_both_estimators_and_every_test():
    assert set(HET.tau2_method) == {"REML", "ML"} and set(HET.test) == {"score", "lrt", "wald"}
    assert (HET.site != "all").any() and HET.k.min() == 3


def test_hettest_refuses_what_metafor_refuses():
    with pytest.raises(ValueError, match="tau2_method"):
        hettest([0.1, 0.2, 0.4], [0.01, 0.02, 0.03], "DL")
    with pytest.raises(ValueError, match="k >= 2"):
        hettest([0.1], [0.01])
    with pytest.raises(ValueError, match="test"):
        hettest([0.1, 0.2], [0.01, 0.02], tests=("ksn",))


@pytest.mark.metafor
@pytest.mark.parametrize("test, rows", list(LOO.groupby("ci_method")), ids=str)
def test_clustered_leave1out_equals_metafor(test, rows):
    d = _rows("synthetic:many_arms")
    assert d.study.duplicated().any()  # a study with several arms: it leaves as a whole
    res = leave1out(d.yi.to_numpy(), d.vi.to_numpy(), "REML", test, cluster=d.study.to_numpy())
    assert list(res.omitted) == [s.lstrip("-") for s in rows.omitted]
    for name, col in (("estimate", "estimate"), ("se", "se"), ("ci_low", "ci_low"), ("ci_high", "ci_high")):
        np.testing.assert_allclose(getattr(res, name), rows[col].to_numpy(), rtol=1e-6)
    for name, col in (("tau2", "tau2"), ("i2", "i2"), ("q", "q")):
        np.testing.assert_allclose(getattr(res, name), rows[col].to_numpy(), rtol=1e-6, atol=1e-10)


def test_clusters_of_one_row_are_plain_leave_one_out():
    d = _rows("shipped:colorectal_LC_24")
    y, v = d.yi.to_numpy(), d.vi.to_numpy()
    ids = np.array([f"s{i:02d}" for i in range(len(y))])
    plain, clustered = leave1out(y, v), leave1out(y, v, cluster=ids)
    np.testing.assert_array_equal(plain.estimate, clustered.estimate)
    np.testing.assert_array_equal(plain.ci_low, clustered.ci_low)
    with pytest.raises(ValueError, match="cluster"):
        leave1out(y, v, cluster=ids[:-1])


@pytest.mark.metafor
def test_heterogeneity_by_site_carries_each_sites_hettest():
    from sbrtmeta.analysis.site_tests import heterogeneity_by_site

    d = _rows("shipped:colorectal_LC_24")
    studies = d.rename(columns={"study": "study_id"}).assign(
        histology="colorectal", endpoint="LC", timepoint_months=24.0
    )
    opts = dict(location_scale=dict(enabled=True, tau2_method="REML", min_studies=3))
    het = heterogeneity_by_site(studies, opts).set_index("site")
    want = HET[(HET.dataset == "shipped:colorectal_LC_24") & (HET.tau2_method == "REML") & (HET.test == "score")]
    want = want[want.site != "all"].set_index("site")
    assert set(want.index) == set(het.index[het.k >= 3])
    for site, row in want.iterrows():
        assert het.loc[site, "hettest_score"] == pytest.approx(row.statistic, rel=1e-6)
        assert het.loc[site, "hettest_p"] == pytest.approx(row.pval, rel=1e-6)
        assert het.loc[site, "hettest_df"] == row.df
    assert het.loc[het.k < 3, "hettest_p"].isna().all()
