"""Leave-one-out and influence diagnostics against metafor.

Expected values come from tests/metafor/make_sensitivity_fixtures.R (metafor's
leave1out(), influence(), rstandard() and rstudent()); inputs are the escalc()
effect sizes that script wrote into the same files at 17 significant digits.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sbrtmeta.stats.influence import (
    InfluenceResult,
    LeaveOneOutResult,
    ResidualResult,
    influence_diagnostics,
    leave1out,
    rstandard,
    rstudent,
)

FIX = Path(__file__).parent / "fixtures"
L1O = pd.read_csv(FIX / "metafor_leave1out.csv")
INF = pd.read_csv(FIX / "metafor_influence.csv")
REFUSED = pd.read_csv(FIX / "metafor_influence_refused.csv")
RTOL, ATOL = 1e-6, 1e-12
KEYS = ["dataset", "tau2_method", "ci_method"]


def _groups(df):
    return [(key, g) for key, g in df.groupby(KEYS, sort=False)]


def _close(ours, theirs):
    np.testing.assert_allclose(np.asarray(ours, float), np.asarray(theirs, float), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("key, g", _groups(L1O), ids=lambda x: "-".join(x) if isinstance(x, tuple) else "")
def test_leave1out_matches_metafor(key, g):
    _, tau2_method, ci_method = key
    res = leave1out(g.yi.to_numpy(), g.vi.to_numpy(), tau2_method, ci_method)
    assert isinstance(res, LeaveOneOutResult) and res.k == len(g)
    for field in ("estimate", "se", "zval", "pval", "ci_low", "ci_high", "q", "q_p", "i2", "h2"):
        _close(getattr(res, field), g[field])
    if tau2_method == "FE":
        assert g.tau2.isna().all() and (res.tau2 == 0).all()  # metafor drops the column for FE
    else:
        _close(res.tau2, g.tau2)
    if ci_method == "knha" and len(g) > 2:
        np.testing.assert_array_equal(res.df, len(g) - 2)
    else:
        assert np.isnan(res.df).all()  # z, or a single remaining study (metafor sets test = "z")


@pytest.mark.parametrize("key, g", _groups(INF), ids=lambda x: "-".join(x) if isinstance(x, tuple) else "")
def test_influence_matches_metafor(key, g):
    _, tau2_method, ci_method = key
    y, v = g.yi.to_numpy(), g.vi.to_numpy()
    res = influence_diagnostics(y, v, tau2_method, ci_method)
    assert isinstance(res, InfluenceResult) and res.k == len(g)
    for ours, col in [
        ("rstudent", "rstudent"),
        ("dffits", "dffits"),
        ("cook_d", "cook_d"),
        ("cov_r", "cov_r"),
        ("tau2_del", "tau2_del"),
        ("qe_del", "qe_del"),
        ("hat", "hat"),
        ("weight", "weight"),
        ("dfbetas", "dfbetas"),
        ("rstandard", "rstandard_z"),
    ]:
        _close(getattr(res, ours), g[col])
    np.testing.assert_array_equal(res.inf, g.is_infl.to_numpy(dtype=bool))

    rs = rstandard(y, v, tau2_method)
    assert isinstance(rs, ResidualResult)
    _close(rs.resid, g.rstandard_resid)
    _close(rs.se, g.rstandard_se)
    _close(rs.z, g.rstandard_z)
    rt = rstudent(y, v, tau2_method, ci_method)
    _close(rt.resid, g.rstudent_resid)
    _close(rt.se, g.rstudent_se)
    _close(rt.z, g.rstudent)


def test_fixtures_cover_flagged_studies_k2_and_all_models():
    assert INF.is_infl.any() and not INF.is_infl.all()
    for df in (L1O, INF):
        assert {"synthetic:k2", "synthetic:large_k", "synthetic:zero_heterogeneity"} <= set(df.dataset)
        assert set(map(tuple, df[["tau2_method", "ci_method"]].drop_duplicates().to_numpy())) == {
            ("REML", "z"),
            ("REML", "knha"),
            ("DL", "z"),
            ("DL", "knha"),
            ("FE", "z"),
        }
        assert any(d.startswith("project:") for d in df.dataset)


@pytest.mark.parametrize("row", list(REFUSED.itertuples()), ids=lambda r: f"{r.dataset}-{r.tau2_method}-{r.ci_method}")
def test_influence_raises_where_metafor_refuses(row):
    g = L1O[(L1O.dataset == row.dataset) & (L1O.tau2_method == row.tau2_method) & (L1O.ci_method == row.ci_method)]
    assert row.call == "influence" and len(g) > 0
    y, v = g.yi.to_numpy(), g.vi.to_numpy()
    with pytest.raises(ValueError, match="variance of the pooled estimate is 0"):
        influence_diagnostics(y, v, row.tau2_method, row.ci_method)
    with pytest.raises(ValueError, match="variance of the pooled estimate is 0"):
        rstudent(y, v, row.tau2_method, row.ci_method)


@pytest.mark.parametrize("func", [leave1out, influence_diagnostics, rstudent, rstandard])
@pytest.mark.parametrize(
    "y, v, match",
    [
        ([0.3], [0.1], "k >= 2"),
        ([], [], "k = 0"),
        ([0.1, 0.2], [0.1], "one length"),
        ([0.1, np.nan], [0.1, 0.2], "finite"),
        ([0.1, 0.2], [0.1, 0.0], "> 0"),
    ],
)
def test_degenerate_input_raises(func, y, v, match):
    with pytest.raises(ValueError, match=match):
        func(y, v)


@pytest.mark.parametrize("func", [leave1out, influence_diagnostics])
def test_unknown_methods_raise(func):
    y, v = [0.1, 0.4, 0.9], [0.1, 0.2, 0.3]
    with pytest.raises(ValueError, match="tau2_method"):
        func(y, v, "nope", "z")
    with pytest.raises(ValueError, match="ci_method"):
        func(y, v, "REML", "nope")
