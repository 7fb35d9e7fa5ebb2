"""The cumulative and Baujat tables, their figures and summary section, and the pooling step's
study intervals and continuity correction (issue 12 items 1-5) on small included tables."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from sbrtmeta.analysis.baujat import baujat_table  # noqa: E402
from sbrtmeta.analysis.cumulative import cumulative_table  # noqa: E402
from sbrtmeta.analysis.pooling import pool_cells  # noqa: E402
from sbrtmeta.data.errors import InputError  # noqa: E402
from sbrtmeta.plots.baujat import draw_baujat  # noqa: E402
from sbrtmeta.plots.cumulative import draw_cumulative  # noqa: E402
from sbrtmeta.report.sensitivity_section import sensitivity_section  # noqa: E402
from sbrtmeta.stats.effect_sizes import study_intervals  # noqa: E402
from sbrtmeta.stats.influence import baujat  # noqa: E402
from sbrtmeta.steps.sensitivity import sensitivity  # noqa: E402
from sbrtmeta.steps.sensitivity_figures import baujat_figures, cumulative_figures  # noqa: E402
from test_edge_cases import _included, _rows  # noqa: E402

COUNTS = [(40, 50), (30, 45), (55, 60), (20, 35), (70, 80)]
YEARS = [2012, 2010, 2012, None, 2015]


def _cell(counts=COUNTS, years=YEARS, site="lung"):
    rows = _rows(counts, site=site)
    for r, y in zip(rows, years):
        r["year"] = y
    return _included(rows)


def test_cumulative_adds_by_year_then_n_and_ends_at_the_pooled_estimate():
    inc = _cell()
    pooled, studies = pool_cells(inc, study_ci="clopper-pearson")
    table = cumulative_table(pooled, studies, inc, "n")
    # years 2010, 2012 (n 60 before n 50), 2015, then the study with no year
    assert list(table["n"]) == [45, 60, 50, 80, 35]
    assert table["note"].iloc[-1] == "no year: added last"
    last, cell = table.iloc[-1], pooled.iloc[0]
    for name in ("estimate", "ci_low", "ci_high", "tau2", "i2"):
        assert last[name] == pytest.approx(cell[name], rel=1e-9)
    # the first row is the study alone: its own interval (pooled_studies.csv), its Wald test on the model scale
    assert table["ci_method"].iloc[0] == "clopper-pearson" and table["stat"].iloc[0] == pytest.approx(
        np.log(30 / 15) / np.sqrt(1 / 30 + 1 / 15)
    )
    by_precision = cumulative_table(pooled, studies, inc, "precision")
    assert list(by_precision["n"]) == [45, 50, 60, 80, 35]  # 40/50 (v = 0.125) is more precise than 55/60 (v = 0.218)


def test_baujat_table_is_the_stats_function_and_marks_the_largest():
    inc = _cell()
    pooled, studies = pool_cells(inc)
    table = baujat_table(pooled, studies)
    res = baujat(studies["yi"], studies["vi"], "REML", "knha")
    np.testing.assert_allclose(table["contribution"], res.contribution)
    np.testing.assert_allclose(table["influence"], res.influence)
    assert table["largest_contribution"].sum() == 1
    assert table.loc[table["largest_contribution"], "contribution"].item() == table["contribution"].max()
    # a cell of two studies has no Baujat rows
    inc2 = _cell(COUNTS[:2], YEARS[:2])
    assert baujat_table(*pool_cells(inc2)).empty


def test_switched_off_tables_are_empty_and_the_section_says_so():
    inc = _cell()
    pooled, studies = pool_cells(inc)
    off = {"cumulative": {"enabled": False}, "baujat": {"enabled": False}}
    t = sensitivity(pooled, studies, inc, off, 0.95)
    assert t.cumulative.empty and t.baujat.empty and list(t.baujat.columns)
    assert (
        list(cumulative_figures(t.cumulative, ["LC"], level=0.95)) == []
        and list(baujat_figures(t.baujat, level=0.95)) == []
    )
    text = "\n".join(sensitivity_section(t.cumulative, t.baujat, ["lung"]))
    assert "switched off" in text
    assert "switched off" in "\n".join(sensitivity_section(None, None, ["lung"]))


def test_figures_and_section_show_the_table():
    inc = _cell()
    pooled, studies = pool_cells(inc)
    t = sensitivity(pooled, studies, inc, {}, 0.95)
    fig = draw_cumulative(t.cumulative, "LC", 24.0, level=0.95)
    drawn = [x.get_text() for x in fig.findobj(Text)]
    last = t.cumulative.iloc[-1]
    assert f"{100 * last.estimate:.1f} [{100 * last.ci_low:.1f}, {100 * last.ci_high:.1f}]" in drawn
    assert any("no year" in d for d in drawn)
    fig = draw_baujat(t.baujat, level=0.95)
    points = next(c for c in fig.axes[0].collections if c.get_gid() == "studies").get_offsets()
    np.testing.assert_allclose(points[:, 0], t.baujat["contribution"])
    stems = [s for s, _ in baujat_figures(t.baujat, level=0.95)]
    assert stems == ["baujat_lung_colorectal_LC_24m"]
    text = "\n".join(sensitivity_section(t.cumulative, t.baujat, ["lung"]))
    top = t.baujat.loc[t.baujat["largest_contribution"], "label"].item()
    assert "**Lung**" in text and f": {top} (squared Pearson residual" in text
    assert f"all 5 studies {100 * last.estimate:.1f}" in text


def test_study_intervals_and_the_continuity_correction_reach_pooled_studies():
    inc = _cell([(0, 12), (9, 14), (20, 26)], [2010, 2011, 2012])
    pooled, studies = pool_cells(inc, study_ci="wilson-cc", add=0.5, to="all")
    lo, hi = study_intervals([0, 9, 20], [12, 14, 26], "wilson-cc")
    np.testing.assert_allclose(studies["ci_low"], lo)
    np.testing.assert_allclose(studies["ci_high"], hi)
    assert set(studies["study_ci"]) == {"wilson-cc"} and set(studies["continuity_to"]) == {"all"}
    np.testing.assert_allclose(studies["yi"], np.log(np.array([0.5, 9.5, 20.5]) / np.array([12.5, 5.5, 6.5])))
    with pytest.raises(InputError, match=r"study lung-0 arm all.*0 of 12 events.*continuity.to = 'none'"):
        pool_cells(inc, to="none")
    # PAS needs no correction: "none" is accepted
    pool_cells(inc, transform="PAS", to="none")


def test_funnel_axis_and_predictor_from_config():
    from sbrtmeta.analysis.small_study import funnel_panels
    from sbrtmeta.plots.funnel import draw_funnel
    from sbrtmeta.stats.small_study import regtest

    inc = _cell()
    pooled, studies = pool_cells(inc)
    tables = funnel_panels(pooled, studies, "LC", 24.0, predictor="ninv", axis="sample_size", min_studies={"test": 3})
    ref = regtest(studies["yi"], studies["vi"], "rma", "ninv", "REML", "knha", ni=studies["n"].to_numpy(float))
    panel = tables.panels.iloc[0]
    assert (panel.predictor, panel.axis) == ("ninv", "sample_size")
    assert panel.egger_stat == pytest.approx(ref.zval) and panel.egger_p == pytest.approx(ref.pval)
    fig = draw_funnel(tables, "LC", 24.0)
    ax = next(a for a in fig.axes if a.axison)
    assert ax.get_ylabel() == "Sample size"
    points = next(c for c in ax.collections if c.get_gid() == "studies").get_offsets()
    np.testing.assert_allclose(points[:, 1], studies["n"])
    assert not any(str(c.get_gid()).startswith("contour") for c in ax.collections)
    line = next(ln for ln in ax.lines if ln.get_gid() == "egger")
    n = line.get_ydata()
    np.testing.assert_allclose(line.get_xdata(), ref.fit.coef[0] + ref.fit.coef[1] / n)
    drawn = [t.get_text() for t in fig.findobj(Text)]
    assert any("Hunter et al., J Clin Epidemiol 2014" in t for t in drawn)
    assert any(t.startswith(f"Regression on 1/n: t(3) = {ref.zval:.2f}") for t in drawn)
    # Egger's predictor is not a function of n: the test is shown, without a line
    tables = funnel_panels(pooled, studies, "LC", 24.0, predictor="sei", axis="sample_size", min_studies={"test": 3})
    ax = next(a for a in draw_funnel(tables, "LC", 24.0).axes if a.axison)
    assert not any(ln.get_gid() == "egger" for ln in ax.lines)
    with pytest.raises(ValueError, match="predictor must be one of"):
        funnel_panels(pooled, studies, "LC", 24.0, predictor="sqrtni")


def test_a_cell_that_cannot_be_refitted_is_said_not_dropped(monkeypatch):
    import sbrtmeta.analysis.baujat as baujat_module
    import sbrtmeta.analysis.cumulative as cumulative_module

    def fail(*args, **kwargs):
        raise RuntimeError("the tau2 iteration did not converge")

    monkeypatch.setattr(cumulative_module, "cumulative", fail)
    monkeypatch.setattr(baujat_module, "baujat", fail)
    inc = _cell()
    pooled, studies = pool_cells(inc)
    t = sensitivity(pooled, studies, inc, {}, 0.95)
    assert len(t.cumulative) == len(t.baujat) == 1
    assert (
        t.cumulative["note"].item() == t.baujat["note"].item() == "not estimable: the tau2 iteration did not converge"
    )
    assert (
        list(cumulative_figures(t.cumulative, ["LC"], level=0.95)) == []
        and list(baujat_figures(t.baujat, level=0.95)) == []
    )
    text = "\n".join(sensitivity_section(t.cumulative, t.baujat, ["lung"]))
    assert text.count("not estimable: the tau2 iteration did not converge") == 2


def test_a_cell_above_max_studies_is_not_refitted_and_says_so():
    inc = _cell()
    pooled, studies = pool_cells(inc)
    opts = {"cumulative": {"max_studies": 4}, "baujat": {"max_studies": 4}}
    t = sensitivity(pooled, studies, inc, opts, 0.95)
    note = "not computed: k = 5 > 4 (sensitivity max_studies)"
    assert t.cumulative["note"].tolist() == t.baujat["note"].tolist() == [note]
    assert "not computed: k = 5 > 4" in "\n".join(sensitivity_section(t.cumulative, t.baujat, ["lung"]))
