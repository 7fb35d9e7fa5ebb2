"""sbrtmeta.stats.location_scale against metafor's rma(yi, vi, mods = ~ site, scale = ~ site)
(tests/metafor/make_sensitivity_tests_fixtures.R)."""

import numpy as np
import pytest
from sbrtmeta.stats.location_scale import location_scale_by_group
from sensitivity_fixtures import INPUTS, cases, ref

CASES = cases("ls_")


@pytest.mark.parametrize("ds, an", CASES)
def test_location_scale_matches_metafor(ds, an):
    r = ref(ds, an)
    d = INPUTS[INPUTS.dataset == ds]
    sizes = d.site.value_counts()
    d = d[d.site.isin(sizes[sizes >= 3].index)]
    res = location_scale_by_group(d.yi, d.vi, d.site, an.split("_")[1])
    for i, s in enumerate(res.groups):
        assert res.tau2[i] == pytest.approx(r[(s, "tau2")], rel=1e-6, abs=1e-8)
    assert res.ll == pytest.approx(r[("", "ll")], rel=1e-9)
    assert res.ll_equal == pytest.approx(r[("", "ll_equal")], rel=1e-9)
    assert res.tau2_equal == pytest.approx(r[("", "tau2_equal")], rel=1e-6)
    assert res.LRT == pytest.approx(r[("", "LRT")], rel=1e-6, abs=1e-8)
    assert res.LRT_p == pytest.approx(r[("", "LRT_p")], rel=1e-6)
    if min(r[(s, "tau2")] for s in res.groups) < 1e-8:
        # a τ² on its boundary: metafor's log τ² runs toward -inf (nlminb stops somewhere);
        # here τ² is 0 and alpha and QS are not defined, which the result says
        assert np.isnan(res.QS) and "τ² is 0" in res.note
        return
    for j, name in enumerate(res.alpha_names):
        assert res.alpha[j] == pytest.approx(r[(name, "alpha")], rel=1e-6)
        assert res.se_alpha[j] == pytest.approx(r[(name, "se_alpha")], rel=1e-6)
        assert res.beta[j] == pytest.approx(r[(name, "beta")], rel=1e-6)
        assert res.se_beta[j] == pytest.approx(r[(name, "se_beta")], rel=1e-6)
    assert res.QS == pytest.approx(r[("", "QS")], rel=1e-6)
    assert res.QS_df == r[("", "QS_df")]
    assert res.QS_p == pytest.approx(r[("", "QSp")], rel=1e-6)


def test_a_site_with_tau2_zero_has_no_wald_test():
    y = np.array([0.1, 0.1, 0.1, 0.0, 1.5, -1.2])
    v = np.full(6, 0.2)
    res = location_scale_by_group(y, v, ["a", "a", "a", "b", "b", "b"])
    assert res.tau2[0] == 0.0 and res.tau2[1] > 0
    assert np.isnan(res.QS) and "τ² is 0 at a" in res.note
    assert np.isfinite(res.LRT_p)


def test_bad_groups_are_refused():
    with pytest.raises(ValueError, match="at least 2 studies"):
        location_scale_by_group([0.1, 0.2, 0.3], [0.1] * 3, ["a", "b", "b"])
    with pytest.raises(ValueError, match="at least 2 groups"):
        location_scale_by_group([0.1, 0.2, 0.3], [0.1] * 3, ["a"] * 3)
