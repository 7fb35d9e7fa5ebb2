"""The sensitivity-tests step's two tables (analysis.site_tests, analysis.dose_slope_tests) and
report.sensitivity_tests_section."""

import copy

import pandas as pd
import pytest
from sbrtmeta.analysis.sensitivity_tests import TEST_COLUMNS
from sbrtmeta.analysis.site_tests import HETEROGENEITY_COLUMNS, heterogeneity_by_site
from sbrtmeta.report.sensitivity_tests_section import TITLE, sensitivity_tests_section
from sbrtmeta.steps.sensitivity_tests import sensitivity_tests
from sensitivity_fixtures import FIX, INPUTS, REF

OPTS = dict(
    permutations=dict(enabled=True, exact_max=100_000, iterations=200, seed=3),
    robust=dict(enabled=True),
    likelihood_ratio=dict(enabled=True),
    location_scale=dict(enabled=True, tau2_method="REML", min_studies=3),
)
POOLING = dict(tau2_method="REML", ci_method="knha", level=0.95)
DOSE = dict(scale="log", tau2_method="REML", ci_method="z", level=0.95)


def _studies(*datasets):
    d = INPUTS[INPUTS.dataset.isin(datasets)]
    return d.assign(
        histology="colorectal", endpoint="OS", timepoint_months=d.dataset.factorize()[0] + 12.0, study_id=d.study
    )


def _arms(ds):
    d = INPUTS[INPUTS.dataset == ds]
    arms = d.assign(study_id=d.study, histology="colorectal", endpoint="LC", timepoint_months=24.0, weight=1.0)
    fitted = pd.DataFrame(
        [dict(model="per site", site=s, histology="colorectal", slope=1.0) for s in sorted(d.site.unique())]
        + (
            [dict(model="across sites", site=s, histology="colorectal", slope=1.0) for s in sorted(d.site.unique())]
            if d.site.nunique() > 1
            else []
        )
    )
    return arms, fitted


def _ref(ds, an, term, q):
    r = REF[(REF.dataset == ds) & (REF.analysis == an) & (REF.term == term) & (REF.quantity == q)]
    return float(r.value.iloc[0])


def test_tables_hold_metafor_numbers():
    studies = _studies("shipped:colorectal_OS_24", "synthetic:many_arms")
    arms, fitted = _arms("synthetic:many_arms_dose")
    t = sensitivity_tests(studies, arms, fitted, POOLING, DOSE, OPTS).tests
    assert list(t.columns) == list(TEST_COLUMNS)
    os24 = t[t.timepoint_months == 12.0]
    perm = os24[os24.test == "permutation"].iloc[0]
    n = perm.n_permutations
    assert perm.exact and round(perm.p * n) == round(_ref("shipped:colorectal_OS_24", "perm_sites", "", "QMp") * n)
    lrt = os24[os24.test == "likelihood ratio"].iloc[0]
    assert lrt.statistic == pytest.approx(_ref("shipped:colorectal_OS_24", "lrt_sites", "", "LRT"), rel=1e-6)
    cr2_site = t[(t.test == "CR2") & (t.model == "site model")]
    assert len(cr2_site) == 1  # the many-arms cell only (a study gives several rows there): its site term
    slope = t[(t.test == "CR2") & (t.term == "ln BED10") & (t.model == "dose-response across sites")].iloc[0]
    assert slope.p == pytest.approx(_ref("synthetic:many_arms_dose", "robust_dose", "log(bed10)", "pval"), rel=1e-6)
    assert "multilevel" in slope.note
    per_site = t[(t.test == "permutation") & (t.model == "dose-response per site")]
    assert len(per_site) == 2 and per_site.note.str.contains("no rma.mv method").all()


def test_heterogeneity_table_says_which_sites_are_left_out():
    h = heterogeneity_by_site(_studies("shipped:colorectal_LC_24", "synthetic:k3"), OPTS)
    assert list(h.columns) == list(HETEROGENEITY_COLUMNS)
    fitted = h[h.in_model]
    assert set(fitted.site) == {"liver", "lung"}
    assert fitted.tau2.tolist() == pytest.approx(
        [_ref("shipped:colorectal_LC_24", "ls_REML", s, "tau2") for s in ("liver", "lung")], rel=1e-6
    )
    assert h[~h.in_model].note.str.contains("fewer than 3 studies").all()


def test_switches_turn_tests_off():
    opts = copy.deepcopy(OPTS)
    for key in opts:
        opts[key]["enabled"] = False
    arms, fitted = _arms("shipped:dose_liver")
    out = sensitivity_tests(_studies("synthetic:zero_study"), arms, fitted, POOLING, DOSE, opts)
    assert out.tests.empty and out.heterogeneity.empty
    assert list(out.tests.columns) == list(TEST_COLUMNS)


def test_section_gives_each_test_once_and_survives_missing_tables():
    studies = _studies("shipped:colorectal_LC_24")
    arms, fitted = _arms("shipped:dose_liver")
    out = sensitivity_tests(studies, arms, fitted, POOLING, DOSE, OPTS)
    text = "\n".join(sensitivity_tests_section(out.tests, out.heterogeneity, ["liver", "lung"]))
    assert text.startswith(TITLE)
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| test |")]
    assert len([r for r in rows if not r.startswith(("| Cell", "| local", "| overall"))]) == len(out.tests)
    assert "τ² by site:" in text
    fitted = out.heterogeneity[out.heterogeneity["in_model"].astype(str).eq("True")]
    assert text.count("- Equal τ² across sites,") == len(fitted.groupby(["histology", "endpoint", "timepoint_months"]))
    for tables in ((None, None), (pd.DataFrame(), pd.DataFrame())):
        assert "No sensitivity test was run" in "\n".join(sensitivity_tests_section(*tables))


ROOT = FIX.parents[1]


@pytest.mark.parametrize(
    "key, value",
    [
        (("permutations", "exact_max"), 0),
        (("permutations", "iterations"), 1),
        (("permutations", "seed"), -1),
        (("permutations", "enabled"), "yes"),
        (("location_scale", "tau2_method"), "DL"),
        (("location_scale", "min_studies"), 1),
        (("robust", "cluster"), "arm"),
        (("permutation",), {}),
    ],
)
def test_bad_sensitivity_options_fail_the_schema(key, value):
    import jsonschema
    import yaml

    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    cfg = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    node = cfg["sensitivity"]
    for k in key[:-1]:
        node = node[k]
    node[key[-1]] = value
    with pytest.raises(jsonschema.ValidationError) as err:
        jsonschema.validate(cfg, schema)
    assert err.value.message.count("\n") == 0  # one line


def test_a_test_that_cannot_be_computed_says_why():
    studies = pd.DataFrame(
        dict(
            histology="colorectal",
            endpoint="LC",
            timepoint_months=24.0,
            site=["liver", "liver", "lung", "lung"],
            study_id="one-study",
            yi=[0.5, 1.0, 1.5, 0.2],
            vi=[0.1, 0.2, 0.15, 0.3],
        )
    )
    t = sensitivity_tests(studies, pd.DataFrame(), pd.DataFrame(), POOLING, DOSE, OPTS).tests
    cr2 = t[t.test == "CR2"]
    assert len(cr2) == 1 and cr2.note.iloc[0].startswith(
        "not computed: cluster-robust variance needs at least 2 clusters"
    )
    assert set(t.test) == {"permutation", "likelihood ratio", "CR2"}


def test_a_tau2_of_zero_writes_no_infinite_log():
    studies = pd.DataFrame(
        dict(
            histology="colorectal",
            endpoint="LC",
            timepoint_months=24.0,
            site=["liver"] * 3 + ["lung"] * 3,
            study_id=[f"s{i}" for i in range(6)],
            yi=[0.1, 0.1, 0.1, 0.0, 1.5, -1.2],
            vi=[0.2] * 6,
        )
    )
    h = heterogeneity_by_site(studies, OPTS)
    liver = h[h.site == "liver"].iloc[0]
    assert liver.tau2 == 0 and pd.isna(liver.log_tau2) and "τ² is 0 at liver" in liver.note
    assert not h.isin([float("inf"), float("-inf")]).any().any()
