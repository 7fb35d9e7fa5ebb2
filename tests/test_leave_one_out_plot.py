"""Leave-one-out plots draw the numbers of metafor's leave1out (sbrtmeta.influence) and of pooled.csv."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from sbrtmeta.analysis.leave_one_out import leave_one_out_table, site_slug, sites_with_leave_one_out  # noqa: E402
from sbrtmeta.plots.leave_one_out import draw_leave_one_out  # noqa: E402
from sbrtmeta.stats.effect_sizes import inverse_transform  # noqa: E402
from sbrtmeta.stats.influence import leave1out  # noqa: E402
from test_plots import make_tables, overlapping, visible_texts  # noqa: E402


def test_table_is_leave1out_back_transformed_and_the_full_row_is_pooled():
    pooled, studies = make_tables({"lung": 6, "liver": 2})
    table = leave_one_out_table(pooled, studies, "lung")
    omitted = table[table["row"] == "omitted"]
    res = leave1out(
        studies.loc[studies.site == "lung", "yi"], studies.loc[studies.site == "lung", "vi"], "REML", "knha"
    )
    np.testing.assert_allclose(omitted["estimate"], inverse_transform(res.estimate, "PLO"))
    np.testing.assert_allclose(omitted["ci_low"], inverse_transform(res.ci_low, "PLO"))
    np.testing.assert_allclose(omitted["ci_high"], inverse_transform(res.ci_high, "PLO"))
    np.testing.assert_allclose(omitted["tau2"], res.tau2)
    assert list(omitted["study_id"]) == list(studies.loc[studies.site == "lung", "study_id"])
    full = table[table["row"] == "all"].iloc[0]
    cell = pooled[pooled.site == "lung"].iloc[0]
    assert (full.estimate, full.ci_low, full.ci_high, full.k) == (cell.estimate, cell.ci_low, cell.ci_high, 6)
    # Sites: only those with k >= 3.
    assert sites_with_leave_one_out(pooled) == ["lung"]
    assert leave_one_out_table(pooled, studies, "liver").empty


def test_figure_draws_the_table():
    pooled, studies = make_tables({"lung": 5})
    table = leave_one_out_table(pooled, studies, "lung")
    fig = draw_leave_one_out(table, "lung", level=0.95)
    ax = fig.axes[0]
    omitted = table[table["row"] == "omitted"]
    points = next(c for c in ax.collections if c.get_gid() == "loo-estimate").get_offsets()
    np.testing.assert_allclose(points[:, 0], 100 * omitted["estimate"])
    lines = next(c for c in ax.collections if c.get_gid() == "loo-ci")
    np.testing.assert_allclose(
        np.array([s[:, 0] for s in lines.get_segments()]), 100 * omitted[["ci_low", "ci_high"]].to_numpy()
    )
    diamond = next(p for p in ax.patches if p.get_gid() == "all-studies")
    full = table[table["row"] == "all"].iloc[0]
    np.testing.assert_allclose(
        sorted(set(np.round(diamond.get_xy()[:, 0], 9))),
        np.round(100 * np.array([full.ci_low, full.estimate, full.ci_high]), 9),
    )
    drawn = [t.get_text() for t in fig.findobj(Text)]
    for r in omitted.itertuples():
        assert f"Omitting {r.label}" in drawn
        assert f"{100 * r.estimate:.1f} [{100 * r.ci_low:.1f}, {100 * r.ci_high:.1f}]" in drawn
    assert "Leave-one-out analysis: Lung" in drawn


@pytest.mark.parametrize("k", [3, 30, 60])
def test_no_text_overlaps(k):
    pooled, studies = make_tables({"lung": k})
    fig = draw_leave_one_out(leave_one_out_table(pooled, studies, "lung"), "lung", level=0.95)
    fig.canvas.draw()
    found = visible_texts(fig)
    assert not overlapping([t.get_window_extent() for t in found])
    plot = fig.axes[0].get_window_extent()
    for t in fig.texts:
        assert not overlapping([t.get_window_extent(), plot]), t.get_text()


def test_above_max_studies_nothing_is_refitted():
    pooled, studies = make_tables({"lung": 40})
    table = leave_one_out_table(pooled, studies, "lung", max_studies=20)
    assert list(table["row"]) == ["not computed", "all"]
    fig = draw_leave_one_out(table, "lung", level=0.95)
    assert any("leave-one-out not computed" in t.get_text() for t in fig.texts)
    assert fig.get_figheight() < 3


def test_site_slug_and_missing_site():
    assert site_slug("lymph node") == "lymph_node"
    pooled, studies = make_tables({"lung": 4})
    with pytest.raises(ValueError, match="three|3"):
        draw_leave_one_out(leave_one_out_table(pooled, studies, "liver"), "liver", level=0.95)


def test_a_study_with_several_arms_leaves_as_a_whole():
    pooled, studies = make_tables({"lung": 6})
    lung = studies.site == "lung"
    ids = studies.loc[lung, "study_id"].to_list()
    studies.loc[studies.index[lung][1], "study_id"] = ids[0]  # two arms of the first study
    table = leave_one_out_table(pooled, studies, "lung")
    omitted = table[table["row"] == "omitted"]
    group = studies[lung]
    res = leave1out(group["yi"], group["vi"], "REML", "knha", cluster=group["study_id"].to_numpy())
    assert list(omitted["study_id"]) == sorted(set(group["study_id"])) == list(res.omitted)
    np.testing.assert_allclose(omitted["estimate"], inverse_transform(res.estimate, "PLO"))
    first = omitted[omitted["study_id"] == ids[0]].iloc[0]
    assert first.k == 4 and first.label.endswith("(2 arms)")
    assert (omitted[omitted["study_id"] != ids[0]]["k"] == 5).all()


def test_mean_back_transform_of_each_refit():
    from sbrtmeta.stats.effect_sizes import mean_inverse_transform

    pooled, studies = make_tables({"lung": 5})
    table = leave_one_out_table(pooled, studies, "lung", back_transform="mean")
    omitted = table[table["row"] == "omitted"]
    lung = studies[studies.site == "lung"]
    res = leave1out(lung["yi"], lung["vi"], "REML", "knha")
    want = [mean_inverse_transform(x, "PLO", t) for x, t in zip(res.estimate, res.tau2)]
    np.testing.assert_allclose(omitted["estimate"], want, rtol=1e-12)
