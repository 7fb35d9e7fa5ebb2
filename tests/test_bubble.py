"""The dose-response bubble plot draws the numbers it is given, without overlapping text."""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from sbrtmeta.plots.bubble import MAX_BUBBLE_PT2, MIN_BUBBLE_PT2, draw_dose_response, marker_label  # noqa: E402
from sbrtmeta.plots.labels import dose_model_text  # noqa: E402
from sbrtmeta.plots.style import save_figure  # noqa: E402
from sbrtmeta.stats.dose_response import arm_table, dose_curve, fit_dose_response, model_description  # noqa: E402
from sbrtmeta.stats.tcp import tcp_parameters  # noqa: E402

INPUTS = pd.read_csv(Path(__file__).parent / "fixtures" / "dose_response_inputs.csv")


def _fit(dataset="synthetic", sites=("liver", "lung"), **kw):
    d = INPUTS[(INPUTS.dataset == dataset) & INPUTS.site.isin(sites)]
    return fit_dose_response(d.events, d.n, d.bed10, d.study, d.arm, site=d.site, **kw)


def _inputs(fit, grid=None):
    grid = np.geomspace(fit.bed.min(), fit.bed.max(), 60) if grid is None else grid
    curve = dose_curve(fit, grid)
    sites = list(fit.sites) if fit.site_moderator else [None]
    tcp = {}
    for s in sites:
        t = tcp_parameters(fit, site=s)
        tcp[t.site] = t
    return arm_table(fit), curve, tcp


def by_gid(fig, prefix):
    return {a.get_gid(): a for a in fig.findobj() if isinstance(a.get_gid(), str) and a.get_gid().startswith(prefix)}


def visible_texts(fig):
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def overlapping(boxes, shrink=0.5):
    return [
        (i, j)
        for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2)
        if min(a.x1, b.x1) - max(a.x0, b.x0) > 2 * shrink and min(a.y1, b.y1) - max(a.y0, b.y0) > 2 * shrink
    ]


@pytest.fixture(scope="module")
def drawn():
    fit = _fit()
    arms, curve, tcp = _inputs(fit)
    fig = draw_dose_response(arms, curve, tcp, footnote=dose_model_text(model_description(fit)))
    fig.canvas.draw()
    return fig, arms, curve, tcp


def test_bubbles_sit_at_the_arms(drawn):
    fig, arms, _, _ = drawn
    for site, g in arms.groupby("site"):
        pts = by_gid(fig, f"arms:{site}")[f"arms:{site}"]
        xy = pts.get_offsets()
        got = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "s": pts.get_sizes()}).sort_values(["x", "y"])
        want = g.assign(y=100 * g.lc).sort_values(["bed10", "y"])
        assert got.x.to_numpy() == pytest.approx(want.bed10.to_numpy())
        assert got.y.to_numpy() == pytest.approx(want.y.to_numpy())
    # areas proportional to the weights (above the visibility floor)
    sizes = np.concatenate([by_gid(fig, f"arms:{s}")[f"arms:{s}"].get_sizes() for s in arms.site.unique()])
    weights = np.concatenate([np.sort(arms[arms.site == s].weight.to_numpy())[::-1] for s in arms.site.unique()])
    expected = np.maximum(MAX_BUBBLE_PT2 * weights / arms.weight.max(), MIN_BUBBLE_PT2)
    assert np.sort(sizes) == pytest.approx(np.sort(expected))


def test_curves_and_bands_are_the_curve_table(drawn):
    fig, _, curve, _ = drawn
    for site, c in curve.groupby("site"):
        line = by_gid(fig, f"curve:{site}")[f"curve:{site}"]
        assert line.get_xdata() == pytest.approx(c.bed10.to_numpy())
        assert line.get_ydata() == pytest.approx(100 * c.lc.to_numpy())
        for band, lo, hi in ((f"ci-band:{site}", "ci_low", "ci_high"), (f"pi-band:{site}", "pi_low", "pi_high")):
            verts = by_gid(fig, band)[band].get_paths()[0].vertices
            ys = verts[:, 1]
            assert ys.min() == pytest.approx(100 * c[lo].min())
            assert ys.max() == pytest.approx(100 * c[hi].max())


def test_target_marker_sits_at_the_tcp_value(drawn):
    fig, _, _, tcp = drawn
    for site, t in tcp.items():
        marker = by_gid(fig, f"target:{site}")[f"target:{site}"]
        assert marker.get_xdata()[0] == pytest.approx(t.bed_target)
        assert marker.get_ydata()[0] == pytest.approx(100 * t.target_lc)
        bar = by_gid(fig, f"target-ci:{site}")[f"target-ci:{site}"]
        assert list(bar.get_xdata()) == pytest.approx([t.bed_target_ci_low, t.bed_target_ci_high])
        label = by_gid(fig, f"target-label:{site}")[f"target-label:{site}"]
        assert label.get_text() == marker_label(t.to_dict())
        assert label.xy[0] == pytest.approx(t.bed_target)


def test_study_lines_join_the_arms_of_a_study(drawn):
    fig, arms, _, _ = drawn
    lines = by_gid(fig, "study-line:")
    several = arms.groupby("study").filter(lambda g: len(g) >= 2)
    assert set(lines) == {f"study-line:{s}" for s in several.study.unique()}
    for study, g in several.groupby("study"):
        line = lines[f"study-line:{study}"]
        assert list(line.get_xdata()) == pytest.approx(sorted(g.bed10))


def test_axes_labels_legend_and_footnote(drawn):
    fig, arms, _, _ = drawn
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "BED10 (Gy), log scale"
    assert ax.get_ylabel() == "Local control at 24 months (%)"
    texts = [t.get_text() for t in visible_texts(fig)]
    assert any(t.startswith("Liver (") for t in texts) and any(t.startswith("Lung (") for t in texts)
    foot = by_gid(fig, "footnote")["footnote"].get_text()
    assert "Three-level model" in foot and "Bubble area" in foot


@pytest.mark.parametrize(
    "case", ["site model", "per-site fits", "one site", "three sites", "no tcp", "falling slope", "target off the data"]
)
def test_text_never_overlaps_and_stays_in_the_figure(case, tmp_path):
    if case == "site model":
        fig = draw_dose_response(*_inputs(_fit("project")))
    elif case == "per-site fits":
        parts = [_inputs(_fit("project", (s,))) for s in ("liver", "lung")]
        fig = draw_dose_response(
            pd.concat([p[0] for p in parts]), pd.concat([p[1] for p in parts]), {**parts[0][2], **parts[1][2]}
        )
    elif case == "one site":
        fig = draw_dose_response(*_inputs(_fit("synthetic", ("lung",))))
    elif case == "three sites":
        arms, curve, tcp = _inputs(_fit())
        extra = arms[arms.site == "lung"].assign(site="adrenal", bed10=lambda d: d.bed10 * 0.8)
        c2 = curve[curve.site == "lung"].assign(site="adrenal", bed10=lambda d: d.bed10 * 0.8)
        t2 = {**tcp, "adrenal": tcp["lung"]}
        fig = draw_dose_response(pd.concat([arms, extra]), pd.concat([curve, c2]), t2)
    elif case == "no tcp":
        arms, curve, _ = _inputs(_fit())
        fig = draw_dose_response(arms, curve)
    elif case == "falling slope":
        d = INPUTS[INPUTS.dataset == "synthetic"]
        rev = d.bed10.max() + d.bed10.min() - d.bed10
        fit = fit_dose_response(d.events, d.n, rev, d.study, d.arm, site=d.site)
        arms, curve, tcp = _inputs(fit)
        fig = draw_dose_response(arms, curve, tcp)
        assert not by_gid(fig, "target:")
        assert "not estimable" in by_gid(fig, "footnote")["footnote"].get_text()
    else:
        fit = _fit("project", ("liver",))
        arms, curve, _ = _inputs(fit)
        tcp = {"liver": tcp_parameters(fit, target_lc=0.97)}
        fig = draw_dose_response(arms, curve, tcp)
        lo, hi = fig.axes[0].get_xlim()
        assert lo < tcp["liver"].bed_target < hi
    fig.canvas.draw()
    found = visible_texts(fig)
    boxes = [t.get_window_extent() for t in found]
    clashes = [(found[i].get_text(), found[j].get_text()) for i, j in overlapping(boxes)]
    assert not clashes
    figure = fig.bbox
    for t, box in zip(found, boxes):
        assert figure.x0 - 1 <= box.x0 and box.x1 <= figure.x1 + 1, t.get_text()
        assert figure.y0 - 1 <= box.y0 and box.y1 <= figure.y1 + 1, t.get_text()
    # legends and footnote stay out of the plot area
    plot = fig.axes[0].get_window_extent()
    for t in found:
        if t in fig.texts or t.get_gid() == "footnote":
            assert not overlapping([t.get_window_extent(), plot]), t.get_text()
    for legend in fig.axes[0].findobj(matplotlib.legend.Legend):
        assert not overlapping([legend.get_window_extent(), plot])
    save_figure(fig, [str(tmp_path / "bubble.png")])


def test_bad_inputs_are_refused():
    arms, curve, tcp = _inputs(_fit())
    with pytest.raises(ValueError, match="lacks columns"):
        draw_dose_response(arms.drop(columns="weight"))
    with pytest.raises(ValueError, match="no arms"):
        draw_dose_response(arms.iloc[:0])
    with pytest.raises(ValueError, match="lc"):
        draw_dose_response(arms.assign(lc=arms.lc * 100))
    with pytest.raises(ValueError, match="site"):
        draw_dose_response(arms, curve.drop(columns="site"))
    with pytest.raises(ValueError, match="lacks"):
        draw_dose_response(arms, curve, {"liver": {"site": "liver"}})


def test_markers_are_open_when_the_slope_ci_includes_zero():
    fit = _fit("project")
    arms, curve, tcp = _inputs(fit)
    fig = draw_dose_response(arms, curve, tcp)
    for site, t in tcp.items():
        marker = by_gid(fig, f"target:{site}")[f"target:{site}"]
        assert (marker.get_markerfacecolor() == "white") == (not t.slope_ci_excludes_zero)
    assert isinstance(marker, Line2D) and isinstance(by_gid(fig, "arms:lung")["arms:lung"], PathCollection)


def test_curves_are_dashed_beyond_the_arms_doses_and_the_legend_has_the_bands_colours():
    """Issue 22 item 6: solid over the doses a site's arms received, dashed beyond; the band swatches are drawn in
    the sites' colours; the target labels sit above the axes, clear of bands and bubbles."""
    from matplotlib.colors import to_rgb

    fit = _fit()
    arms, curve, tcp = _inputs(fit, grid=np.geomspace(fit.bed.min() / 2, fit.bed.max() * 2, 80))
    fig = draw_dose_response(arms, curve, tcp)
    fig.canvas.draw()
    ax = fig.axes[0]
    for site, g in arms.groupby("site"):
        dashed = by_gid(fig, f"curve:{site}")[f"curve:{site}"]
        solid = by_gid(fig, f"curve-arms:{site}")[f"curve-arms:{site}"]
        assert dashed.get_linestyle() == "--" and solid.get_linestyle() == "-"
        assert solid.get_xdata().min() == pytest.approx(g.bed10.min())
        assert solid.get_xdata().max() == pytest.approx(g.bed10.max())
        label = by_gid(fig, f"target-label:{site}")[f"target-label:{site}"]
        assert label.get_window_extent().y0 >= ax.get_window_extent().y1
    legend = next(
        lg
        for lg in fig.findobj(matplotlib.legend.Legend)
        if any("CI of the curve" in t.get_text() for t in lg.get_texts())
    )
    swatches = {
        to_rgb(p.get_facecolor())
        for p in legend.findobj(matplotlib.patches.Rectangle)
        if p.get_facecolor()[3] not in (0, 1)  # the band swatches, not the legend's frame
    }
    colors = {to_rgb(by_gid(fig, f"curve:{s}")[f"curve:{s}"].get_color()) for s in arms.site.unique()}
    assert colors <= swatches
    assert "Curve beyond the arms' BED10" in [t.get_text() for t in legend.get_texts()]
