"""stats/proportions.py: pool_proportions, the library's entry point, against metafor and pooled.csv.

Reference numbers: tests/fixtures/metafor_rma.csv (tests/metafor/make_fixtures.R: rma() and predict() of
every measure, τ² estimator and CI method on the project's cells, tests/fixtures/metafor_inputs.csv) and
tests/fixtures/metafor_glmm.csv (make_glmm_fixtures.R: rma.glmm).
"""

import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sbrtmeta.analysis.pooling import POOLED_COLUMNS, PoolingOptions, pool_cells
from sbrtmeta.stats.proportions import SUMMARY_COLUMNS, PooledProportion, pool_effect_sizes, pool_proportions
from validated_config import validated

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures"
RMA = pd.read_csv(FIX / "metafor_rma.csv")
INPUTS = pd.read_csv(FIX / "metafor_inputs.csv")
RTOL = 1e-6


def _cell(name: str) -> pd.DataFrame:
    return INPUTS[INPUTS.dataset == name].reset_index(drop=True)


PROJECT_FITS = RMA[RMA.dataset.str.startswith("project:")]
# the wrapper on every measure under a few estimators (tests/test_random_effects.py covers every estimator)
WRAPPER_CASES = PROJECT_FITS[PROJECT_FITS.tau2_method.isin(["REML", "DL", "FE"])]


@pytest.mark.metafor
@pytest.mark.parametrize(
    "dataset, measure, tau2_method, ci_method",
    list(WRAPPER_CASES[["dataset", "measure", "tau2_method", "ci_method"]].itertuples(index=False, name=None)),
)
def test_pool_proportions_equals_rma_and_predict(dataset, measure, tau2_method, ci_method):
    """Every measure, τ² estimator and CI method on the project's cells: rma(measure, xi, ni, method, test),
    confint() and predict(transf =) (tests/metafor/make_fixtures.R)."""
    m = RMA[
        (RMA.dataset == dataset)
        & (RMA.measure == measure)
        & (RMA.tau2_method == tau2_method)
        & (RMA.ci_method == ci_method)
    ].iloc[0]
    res = pool_proportions(
        _cell(dataset), events="xi", n="ni", measure=measure, tau2_method=tau2_method, ci_method=ci_method
    )
    assert res.k == m.k
    on_scale = res.summary_frame(back_transform=False).iloc[0]
    prop = res.summary_frame().iloc[0]
    pairs = dict(
        model_estimate=(on_scale.model_estimate, m.estimate),
        estimate=(on_scale.estimate, m.estimate),
        se=(res.se, m.se),
        ci_low=(on_scale.ci_low, m.ci_low),
        ci_high=(on_scale.ci_high, m.ci_high),
        tau2=(prop.tau2, m.tau2),
        tau2_ci_low=(prop.tau2_ci_low, m.tau2_ci_low),
        tau2_ci_high=(prop.tau2_ci_high, m.tau2_ci_high),
        q=(prop.q, m.q),
        q_p=(prop.q_p, m.q_p),
        i2=(prop.i2, m.i2),
        h2=(prop.h2, m.h2),
        prop_estimate=(prop.estimate, m.prop_estimate),
        prop_ci_low=(prop.ci_low, m.prop_ci_low),
        prop_ci_high=(prop.ci_high, m.prop_ci_high),
    )
    if tau2_method != "FE":
        pairs.update(
            pi_low=(on_scale.pi_low, m.pi_low),
            pi_high=(on_scale.pi_high, m.pi_high),
            prop_pi_low=(prop.pi_low, m.prop_pi_low),
            prop_pi_high=(prop.pi_high, m.prop_pi_high),
        )
    for name, (ours, theirs) in pairs.items():
        # I² and H² at a τ² on the zero boundary: metafor's Fisher scoring stops a hair above 0
        assert ours == pytest.approx(theirs, rel=RTOL, abs=1e-7 if name in ("i2", "h2") else 1e-10, nan_ok=True), name


@pytest.mark.metafor
def test_library_answer_is_the_workflows_pooled_row():
    """pool_proportions with its defaults on a shipped cell's included rows (tests/fixtures/workflow_included.csv,
    the rows a run with the shipped config includes) gives that cell's pooled.csv row: the row pool_cells writes,
    which tests/test_workflow.py::test_pooled_equals_metafor checks against metafor."""
    rows = pd.read_csv(FIX / "workflow_included.csv")
    included = rows.rename(
        columns=dict(xi="events", ni="n", study="study_id", timepoint_months="target_timepoint_months")
    )
    included = included.assign(ref=included.study_id, first_author="", arm="all", primary="crc")
    included["rate"] = included.events / included.n
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    # the pool step's function, with the shipped options (pooling's are pool_cells' defaults, below)
    o = PoolingOptions.from_config(validated(config))
    pooled, _ = pool_cells(included, study_ci=o.study_ci, add=o.add, to=o.to)
    assert (pooled.model == "single study").any()  # cells of one study report its own (Clopper-Pearson) interval
    assert len(pooled) == rows.groupby(["site", "histology", "endpoint", "timepoint_months"]).ngroups
    compared = [c for c in SUMMARY_COLUMNS if c in POOLED_COLUMNS]
    for r in pooled.itertuples(index=False):
        cell = rows[
            (rows.site == r.site)
            & (rows.histology == r.histology)
            & (rows.endpoint == r.endpoint)
            & (rows.timepoint_months == r.timepoint_months)
        ]
        ours = pool_proportions(cell, events="xi", n="ni").summary_frame().iloc[0]
        for column in compared:
            theirs = getattr(r, column)
            if isinstance(theirs, str):
                assert ours[column] == theirs, (r.site, r.endpoint, column)
            else:
                assert ours[column] == theirs or (np.isnan(ours[column]) and np.isnan(theirs)), (r.site, column)
    # and one shipped cell against metafor directly: liver, colorectal, LC at 24 months (k = 3)
    liver = rows.query("site == 'liver' and endpoint == 'LC' and timepoint_months == 24")
    m = PROJECT_FITS.query("dataset == 'project:liver:colorectal:LC:24' and measure == 'PLO'")
    m = m.query("tau2_method == 'REML' and ci_method == 'knha'").iloc[0]
    s = pool_proportions(liver, events="xi", n="ni").summary_frame().iloc[0]
    assert (s.estimate, s.ci_low, s.ci_high, s.pi_low, s.pi_high) == pytest.approx(
        (m.prop_estimate, m.prop_ci_low, m.prop_ci_high, m.prop_pi_low, m.prop_pi_high), rel=RTOL
    )


def _shipped(config: dict, schema: dict, section: str, key: str):
    """config.yaml's value of ``section.key``, else the schema's default (sections nested with dots)."""
    value, props = config, schema
    for name in section.split("."):
        value = value.get(name, {})
        props = props["properties"][name]
    return value.get(key, props["properties"][key].get("default"))


def test_defaults_are_the_shipped_configs():
    """So the library answer equals pooled.csv: the defaults are the shipped pooling options and continuity
    correction (config/config.yaml, else the schema's defaults)."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    defaults = {k: p.default for k, p in inspect.signature(pool_proportions).parameters.items()}
    keys = dict(measure="transform", tau2_method="tau2_method", ci_method="ci_method", level="level", model="model")
    shipped = {ours: _shipped(config, schema, "pooling", theirs) for ours, theirs in keys.items()}
    shipped |= {key: _shipped(config, schema, "sensitivity.continuity", key) for key in ("add", "to")}
    shipped["study_ci"] = _shipped(config, schema, "sensitivity", "study_ci")
    assert None not in shipped.values(), shipped
    assert {k: defaults[k] for k in shipped} == shipped


@pytest.mark.metafor
def test_glmm_equals_rma_glmm():
    """model="glmm": rma.glmm(measure = "PLO") of tests/fixtures/metafor_glmm.csv (make_glmm_fixtures.R)."""
    glmm = pd.read_csv(FIX / "metafor_glmm.csv")
    row = glmm[(glmm.dataset == "project:lung:colorectal:LC:24") & (glmm.control == "tight")].iloc[0]
    res = pool_proportions(_cell(row.dataset), events="xi", n="ni", model="glmm")
    assert res.model == "GLMM" and res.ci_method == "z"
    assert res.estimate == pytest.approx(row.estimate, rel=1e-4)
    assert (res.se, res.tau2, res.ci_low, res.ci_high) == pytest.approx(
        (row.se, row.tau2, row.ci_low, row.ci_high), rel=1e-4, abs=1e-8
    )


def test_conf_int_at_another_level_is_a_refit_at_that_level():
    cell = _cell("project:lung:colorectal:LC:24")
    for ci_method in ("knha", "z"):
        res = pool_proportions(cell, events="xi", n="ni", ci_method=ci_method)
        at90 = pool_proportions(cell, events="xi", n="ni", ci_method=ci_method, level=0.9)
        assert res.conf_int(0.9) == pytest.approx(
            (at90.summary_frame().ci_low.iloc[0], at90.summary_frame().ci_high.iloc[0])
        )
        assert res.conf_int(0.9, back_transform=False) == pytest.approx((at90.ci_low, at90.ci_high))
        assert res.conf_int() == (res.summary_frame().ci_low.iloc[0], res.summary_frame().ci_high.iloc[0])


def test_pft_back_transform_uses_the_harmonic_mean_of_n():
    cell = _cell("project:lung:colorectal:LC:24")
    res = pool_proportions(cell, events="xi", n="ni", measure="PFT")
    nhm = 1 / np.mean(1 / cell.ni)
    # transf.ipft at the harmonic mean (Miller 1978): the inverse of transf.pft at nhm
    from sbrtmeta.stats.effect_sizes import forward_transform

    assert forward_transform(res.summary_frame().estimate.iloc[0], "PFT", cell.ni) == pytest.approx(res.estimate)
    assert res.n.tolist() == cell.ni.tolist() and nhm < cell.ni.max()


def test_one_study_is_reported_not_fitted():
    """A single study is itself with its own interval: Clopper-Pearson by default (binom.test's, from
    tests/fixtures/metafor_study_ci.csv), or the Wald interval of its measure."""
    exact = pd.read_csv(FIX / "metafor_study_ci.csv").query("method == 'clopper-pearson'")
    r = exact.iloc[0]
    res = pool_proportions(pd.DataFrame(dict(events=[r.xi], n=[r.ni])), level=r.level)
    assert res.model == "single study" and np.isnan(res.tau2) and res.weights.tolist() == [100.0]
    s = res.summary_frame().iloc[0]
    assert s.estimate == pytest.approx(r.xi / r.ni) and s.ci_method == "clopper-pearson"
    assert (s.ci_low, s.ci_high) == pytest.approx((r.ci_low, r.ci_high), rel=1e-6, abs=1e-12)
    assert res.conf_int() == (s.ci_low, s.ci_high)
    wald = pool_proportions(pd.DataFrame(dict(events=[8], n=[10])), study_ci="wald")
    assert wald.conf_int(back_transform=False) == pytest.approx((wald.ci_low, wald.ci_high))
    from scipy.stats import norm

    assert wald.ci_low == pytest.approx(wald.estimate - norm.ppf(0.975) * wald.se)


def test_pool_effect_sizes_is_what_pool_proportions_runs():
    from sbrtmeta.stats.effect_sizes import proportion_effect_sizes

    x, n = np.array([20, 30, 14]), np.array([25, 40, 20])
    yi, vi = proportion_effect_sizes(x, n)
    a = pool_effect_sizes(yi, vi, x, n)
    b = pool_proportions(pd.DataFrame(dict(events=x, n=n)))
    assert isinstance(a, PooledProportion)
    pd.testing.assert_frame_equal(a.summary_frame(), b.summary_frame())


@pytest.mark.parametrize(
    "frame, kwargs, message",
    [
        (pd.DataFrame(dict(x=[1, 2], n=[5, 5])), {}, "column 'events' is not in the data"),
        (pd.DataFrame(dict(events=[1, "a"], n=[5, 5])), {}, "row 1, column 'events': value 'a'"),
        (pd.DataFrame(dict(events=[1, 7], n=[5, 5]), index=["A", "B"]), {}, "row 'B': events = 7 and n = 5"),
        (pd.DataFrame(dict(events=[0, 2], n=[5, 5])), dict(to="none"), "row 0: events = 0 of n = 5 has no PLO"),
        (pd.DataFrame(dict(events=[1, 2], n=[5, 5])), dict(measure="PAS", model="glmm"), "use measure='PLO'"),
        (pd.DataFrame(dict(events=[], n=[])), {}, "no rows to pool"),
    ],
)
def test_bad_input_names_row_column_and_value(frame, kwargs, message):
    with pytest.raises(ValueError, match=message):
        pool_proportions(frame, **kwargs)


def test_data_must_be_a_frame():
    with pytest.raises(TypeError, match="pandas DataFrame"):
        pool_proportions({"events": [1], "n": [2]})
