"""The workflow's dose-response table against metafor, on the arms the workflow fits.

The arms are the ``workflow`` dataset of tests/fixtures/dose_response_inputs.csv
(written from results/tables/dose_response_arms.csv by
tests/metafor/make_dose_response_inputs.py); the expected values come from
tests/metafor/make_dose_response_fixtures.R (rma / rma.mv, then the TCP algebra on
coef() and vcov()).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sbrtmeta.analysis.dose_response import ACROSS_SITES, PER_SITE, TABLE_COLUMNS, analyse_dose_response
from sbrtmeta.plots.labels import dose_model_text

FIX = Path(__file__).resolve().parent / "fixtures"
REL = 1e-6


def _arms(dataset="workflow"):
    d = pd.read_csv(FIX / "dose_response_inputs.csv")
    d = d[d.dataset == dataset]
    return pd.DataFrame(
        {
            "study_id": d.study,
            "arm": d.arm,
            "label": d.study,
            "site": d.site,
            "histology": "colorectal",
            "dose_text": "",
            "bed": d.bed10,
            "dose_rule": "x",
            "endpoint": "LC",
            "timepoint_months": d.timepoint_months,
            "printed_timepoint_months": d.timepoint_months,
            "converted": False,
            "rate": d.events / d.n,
            "events": d.events,
            "n": d.n,
        }
    ).reset_index(drop=True)


@pytest.fixture(scope="module")
def analysis():
    return analyse_dose_response(_arms(), n_boot=200, seed=11)


def _fixture(name, fit_id):
    f = pd.read_csv(FIX / f"metafor_dose_response_{name}.csv")
    return f[f.fit_id == fit_id]


@pytest.mark.parametrize(
    "model,subset,site",
    [
        (PER_SITE, "liver", "liver"),
        (PER_SITE, "lung", "lung"),
        (ACROSS_SITES, "liver+lung", "liver"),
        (ACROSS_SITES, "liver+lung", "lung"),
    ],
)
def test_table_equals_metafor(analysis, model, subset, site):
    fit_id = f"workflow | {subset} | log | REML | z"
    fit = _fixture("fits", fit_id).iloc[0]
    tcp = _fixture("tcp", fit_id)
    tcp = tcp[(tcp.site == site) & (tcp.target_lc == 0.9) & (tcp.level == 0.95)].iloc[0]
    row = analysis.table[(analysis.table.model == model) & (analysis.table.site == site)].iloc[0]
    assert row.k_arms == fit.k and row.n_studies == fit.n_studies
    for ours, theirs in (
        ("intercept", "b0"),
        ("slope", "b1"),
        ("slope_se", "slope_se"),
        ("bed50", "bed50"),
        ("bed50_ci_low", "bed50_ci_low"),
        ("bed50_ci_high", "bed50_ci_high"),
        ("gamma50", "gamma50"),
        ("gamma50_ci_low", "gamma50_ci_low"),
        ("gamma50_ci_high", "gamma50_ci_high"),
        ("bed_target", "bed_target"),
        ("bed_target_ci_low", "bed_target_ci_low"),
        ("bed_target_ci_high", "bed_target_ci_high"),
        ("slope_ci_low", "slope_ci_low"),
        ("slope_ci_high", "slope_ci_high"),
    ):
        assert row[ours] == pytest.approx(tcp[theirs], rel=REL), ours
    assert row.qm == pytest.approx(fit.QM, rel=REL) and row.qm_p == pytest.approx(fit.QM_p, rel=REL)
    if fit.model == "two-level":
        assert row.tau2 == pytest.approx(fit.tau2, rel=REL, abs=1e-10)
    else:
        assert row.sigma2_study == pytest.approx(fit.sigma2_study, rel=REL, abs=1e-10)
        assert row.sigma2_arm == pytest.approx(fit.sigma2_arm, rel=REL, abs=1e-10)
    # the intercept's SE from metafor's vcov(): the site's intercept is b0 (+ its site dummy)
    v = _fixture("vcov", fit_id)
    p = int(v.i.max())
    V = np.zeros((p, p))
    V[v.i - 1, v.j - 1] = v.value
    coefs = _fixture("coefs", fit_id)
    g = np.zeros(p)
    g[0] = 1.0
    dummy = coefs[coefs.name == f"factor(site){site}"]
    if len(dummy):
        g[int(dummy.j.iloc[0]) - 1] = 1.0
    assert row.intercept_se == pytest.approx(float(np.sqrt(g @ V @ g)), rel=REL)


def test_every_site_with_arms_has_a_row(analysis):
    arms = _arms()
    extra = arms.iloc[[0]].assign(site="adrenal", study_id="x-1")
    a = analyse_dose_response(pd.concat([arms, extra], ignore_index=True), n_boot=20)
    row = a.table[a.table.site == "adrenal"].iloc[0]
    assert row.model == PER_SITE and np.isnan(row.slope) and row.note.startswith("not fitted: 1 arm")
    assert list(a.table.columns) == list(TABLE_COLUMNS)
    # the across-site model uses only sites fitted on their own
    assert set(a.table[a.table.model == ACROSS_SITES].site) == {"liver", "lung"}


def test_a_site_at_one_dose_is_not_fitted():
    arms = _arms()
    arms = arms[arms.site == "liver"].assign(bed=100.0)
    a = analyse_dose_response(arms, n_boot=20)
    assert a.table.note.item().startswith("not fitted: every arm has the same BED10")
    assert a.curves.empty and a.tcp == {}


def test_bootstrap_is_reproducible_and_brackets_the_point_estimate(analysis):
    again = analyse_dose_response(_arms(), n_boot=200, seed=11)
    cols = [c for c in TABLE_COLUMNS if c.endswith(("_boot_low", "_boot_high"))]
    pd.testing.assert_frame_equal(analysis.table[cols], again.table[cols])
    t = analysis.table.dropna(subset=["bed50"])
    assert (t.n_boot == 200).all() and (t.n_boot_ok <= 200).all()
    assert (t.bed_target_boot_low <= t.bed_target).all() and (t.bed_target <= t.bed_target_boot_high).all()


def test_weights_and_curves_for_the_figure(analysis):
    a = analysis
    assert set(a.tcp) == {"liver", "lung"} and set(a.curves.site) == {"liver", "lung"}
    for _site, g in a.arms.groupby("site_key"):
        assert g.weight_pct.sum() == pytest.approx(100)
    c = a.curves
    assert (c.pi_low <= c.ci_low).all() and (c.ci_high <= c.pi_high).all()
    assert c.bed10.min() < a.arms.bed.min() and c.bed10.max() > a.arms.bed.max()
    assert dose_model_text(a.models["liver"]).startswith(("Two-level", "Three-level"))


def test_large_models_get_delta_intervals_only(analysis):
    a = analyse_dose_response(_arms(), n_boot=200, seed=11, boot_max_arms=5)
    lung = a.table[(a.table.model == PER_SITE) & (a.table.site == "lung")].iloc[0]  # 11 arms > 5
    assert np.isnan(lung.bed_target_boot_low) and lung.n_boot == 0
    assert "bootstrap not run: more than 5 arms" in lung.note
    ref = analysis.table[(analysis.table.model == PER_SITE) & (analysis.table.site == "lung")].iloc[0]
    assert lung.bed_target == ref.bed_target and lung.bed_target_ci_low == ref.bed_target_ci_low
    liver = a.table[(a.table.model == PER_SITE) & (a.table.site == "liver")].iloc[0]  # 3 arms: bootstrapped
    assert liver.n_boot == 200 and np.isfinite(liver.bed_target_boot_low)


# -- the workflow's dose-response step (scripts/dose_response.py calls only this) --------------


@pytest.fixture(scope="module")
def step_inputs():
    import yaml
    from sbrtmeta.steps.clean_extraction import clean_extraction

    root = FIX.parents[1]
    config = yaml.safe_load((root / "config" / "config.yaml").read_text())
    sheets = [str(root / s) for s in config["data"]["sheets"]]
    outcomes = clean_extraction(sheets, str(root / config["data"]["corrections"]), config["cleanup"], [])
    dose = dict(config["dose_response"], bootstrap=dict(config["dose_response"]["bootstrap"], replicates=50))
    return outcomes, dose, config


def _written_and_read_back(out, folder) -> dict:
    """The step's tables as rule dose_response writes them and rule dose_response_figures reads them."""
    from sbrtmeta.steps.runner import read_result, write_table

    read = {}
    for name in ("table", "arms", "left_out", "curves", "models"):
        write_table(getattr(out, name), folder / f"{name}.csv")
        read[name] = read_result(folder / f"{name}.csv")
    return read


def _png(figure, folder) -> bytes:
    from sbrtmeta.plots.style import save_figures

    return Path(save_figures([("figure", figure)], folder, ["png"], dpi=60)[0]).read_bytes()


def test_dose_response_step_fits_the_arms_it_selects_and_the_figure_step_draws_them(step_inputs, tmp_path):
    """The statistics (rule dose_response) and the drawing (rule dose_response_figures) are two jobs (issue 23
    item 5): the figure drawn from the tables as written and read back is the one drawn from the step's own."""
    from sbrtmeta.analysis.dose_arms import select_dose_arms
    from sbrtmeta.steps import dose_response_figures as figures
    from sbrtmeta.steps.dose_response import CURVE_COLUMNS, MODEL_COLUMNS, dose_response

    outcomes, dose, config = step_inputs
    out = dose_response(outcomes, dose, config["inclusion"], config["pooling"]["histology"])
    arms, left_out = select_dose_arms(outcomes, config["inclusion"], dose, config["pooling"]["histology"])
    expected = analyse_dose_response(
        arms, tau2_method=dose["tau2_method"], ci_method=dose["ci_method"], n_boot=50, seed=dose["bootstrap"]["seed"]
    )
    pd.testing.assert_frame_equal(out.table, expected.table)
    pd.testing.assert_frame_equal(out.left_out, left_out)
    assert list(out.arms["bed10"]) == list(arms["bed"]) and (out.arms["alpha_beta"] == dose["alpha_beta"]).all()
    assert list(out.table.columns) == list(TABLE_COLUMNS)
    assert list(out.curves.columns) == list(CURVE_COLUMNS) and list(out.models.columns) == list(MODEL_COLUMNS)
    assert list(out.models["site_key"]) == list(expected.models) == list(dict.fromkeys(out.curves["site_key"]))
    assert figures.PER_SITE == PER_SITE
    fig = figures.dose_response_figures(out.arms, out.table, out.curves, out.models, dose)
    drawn = {a.get_gid() for ax in fig.axes for a in ax.collections + ax.lines}
    assert {f"arms:{s}" for s in expected.tcp} | {f"curve:{s}" for s in expected.tcp} <= drawn
    footnote = next(t.get_text() for t in fig.texts if t.get_gid() == "footnote").replace("\n", " ")
    assert f"α/β = {dose['alpha_beta']:g} Gy" in footnote
    assert all(
        f"{key}: {dose_model_text(model)}" in footnote.lower()[:1] + footnote[1:]
        for key, model in expected.models.items()
    )
    read = _written_and_read_back(out, tmp_path)
    again = figures.dose_response_figures(read["arms"], read["table"], read["curves"], read["models"], dose)
    assert _png(again, tmp_path / "read") == _png(fig, tmp_path / "own")


def test_dose_response_step_with_no_arm_says_why(step_inputs, tmp_path):
    from sbrtmeta.steps.dose_response import dose_response
    from sbrtmeta.steps.dose_response_figures import dose_response_figures

    outcomes, dose, config = step_inputs
    seven = dict(dose, timepoint_months=7)
    out = dose_response(outcomes, seven, config["inclusion"])
    assert out.table.empty and list(out.table.columns) == list(TABLE_COLUMNS)
    assert out.arms.empty and len(out.left_out) > 0 and out.curves.empty and out.models.empty
    read = _written_and_read_back(out, tmp_path)
    fig = dose_response_figures(read["arms"], read["table"], read["curves"], read["models"], seven)
    assert any("no dose-response to fit" in t.get_text().replace("\n", " ") for t in fig.texts)
