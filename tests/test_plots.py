"""Forest and funnel plots draw the numbers of the tables, without overlapping
text, and save deterministically."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Polygon  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from sbrtmeta.analysis.small_study import funnel_panels  # noqa: E402
from sbrtmeta.plots.forest import draw_forest  # noqa: E402
from sbrtmeta.plots.funnel import SMALL_K_NOTE, draw_funnel  # noqa: E402
from sbrtmeta.plots.style import save_figure  # noqa: E402

Z = 1.959964


def funnel(pooled, studies, endpoint="LC", t=24, **kw):
    """The funnel figure of the tables: the analysis's panels, drawn."""
    return draw_funnel(funnel_panels(pooled, studies, endpoint, t, **kw), endpoint, t)


def expit(x):
    return 1 / (1 + np.exp(-x))


def make_tables(sizes: dict[str, int], endpoint="LC", t=24.0, seed=1):
    """Pooled and study tables for sites with the given numbers of studies.

    The pooled values are plausible, not fitted: the plots only draw them.
    """
    rng = np.random.default_rng(seed)
    pooled, studies = [], []
    for site, k in sizes.items():
        n = rng.integers(12, 130, size=k)
        events = np.clip(np.round(n * rng.uniform(0.45, 0.97, size=k)).astype(int), 1, n - 1)
        yi, vi = np.log(events / (n - events)), 1 / events + 1 / (n - events)
        w = 1 / (vi + 0.3)
        for i in range(k):
            studies.append(
                dict(
                    site=site,
                    endpoint=endpoint,
                    timepoint_months=t,
                    study_id=f"{site}-{i}",
                    label=f"Author{i} et al. [{i + 10}]" + (" (CRC)" if i % 4 == 1 else ""),
                    arm="all",
                    primary="mixed",
                    events=int(events[i]),
                    n=int(n[i]),
                    rate=events[i] / n[i],
                    yi=yi[i],
                    vi=vi[i],
                    estimate=expit(yi[i]),
                    ci_low=expit(yi[i] - Z * np.sqrt(vi[i])),
                    ci_high=expit(yi[i] + Z * np.sqrt(vi[i])),
                    weight_pct=100 * w[i] / w.sum(),
                )
            )
        mu, se = np.sum(w * yi) / w.sum(), np.sqrt(1 / w.sum())
        single = k == 1
        pooled.append(
            dict(
                site=site,
                endpoint=endpoint,
                timepoint_months=t,
                k=k,
                n_total=int(n.sum()),
                model="single study" if single else "random effects",
                transform="PLO",
                tau2_method="" if single else "REML",
                ci_method="z" if single else "knha",
                estimate=expit(mu),
                ci_low=expit(mu - 2.2 * se),
                ci_high=expit(mu + 2.2 * se),
                pi_low=np.nan if single else expit(mu - 1.5),
                pi_high=np.nan if single else expit(mu + 1.5),
                tau2=np.nan if single else 0.3,
                i2=np.nan if single else 64.2,
                q=np.nan if single else 12.345,
                q_p=np.nan if single else 0.0004,
            )
        )
    return pd.DataFrame(pooled), pd.DataFrame(studies)


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text)]


def visible_texts(fig):
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def overlapping(boxes, shrink=0.5):
    """Pairs of boxes that overlap by more than ``shrink`` pixels on each side."""
    return [
        (i, j)
        for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2)
        if min(a.x1, b.x1) - max(a.x0, b.x0) > 2 * shrink and min(a.y1, b.y1) - max(a.y0, b.y0) > 2 * shrink
    ]


# -- the numbers drawn are the numbers of the tables ------------------------------------------


def test_forest_texts_and_marks_match_the_tables():
    pooled, studies = make_tables({"liver": 3, "lung": 5, "adrenal": 1})
    fig = draw_forest(pooled, studies, "LC", 24, level=0.95)
    drawn = texts(fig)
    for s in studies.itertuples():
        assert s.label in drawn
        assert f"{s.events}/{s.n}" in drawn
        ci = f"{100 * s.estimate:.1f} [{100 * s.ci_low:.1f}, {100 * s.ci_high:.1f}]"
        assert ci in drawn
        assert f"{s.weight_pct:.1f}" in drawn
    for c in pooled.itertuples():
        assert c.site.capitalize() in drawn
    assert "single study: not pooled" in drawn
    assert "Random-effects model (k = 3)" in drawn
    assert "Heterogeneity: τ² = 0.30, I² = 64%, Q = 12.35 (p < .001)" in drawn
    assert "Local control at 24 months (%)" in drawn
    assert any("Logit transform, REML τ², Knapp-Hartung 95% CI" in t for t in drawn)

    ax = fig.axes[0]
    assert ax.get_xlim() == (0, 100)
    for c in pooled[pooled["k"] >= 2].itertuples():
        assert f"{100 * c.estimate:.1f} [{100 * c.ci_low:.1f}, {100 * c.ci_high:.1f}]" in drawn
        assert f"[{100 * c.pi_low:.1f}, {100 * c.pi_high:.1f}]" in drawn
        diamond = next(p for p in ax.patches if p.get_gid() == f"pooled:{c.site}")
        assert isinstance(diamond, Polygon)
        x = diamond.get_xy()[:, 0]
        np.testing.assert_allclose(
            sorted(set(np.round(x, 9))), np.round(100 * np.array([c.ci_low, c.estimate, c.ci_high]), 9)
        )
        bar = next(p for p in ax.patches if p.get_gid() == f"pi:{c.site}")
        np.testing.assert_allclose([bar.get_x(), bar.get_x() + bar.get_width()], [100 * c.pi_low, 100 * c.pi_high])
    assert not any(p.get_gid() == "pooled:adrenal" for p in ax.patches)

    # Study marks: squares at the estimates, CI lines, square area proportional to weight.
    squares = next(c for c in ax.collections if c.get_gid() == "study-estimate")
    np.testing.assert_allclose(squares.get_offsets()[:, 0], 100 * studies["estimate"])
    area = squares.get_sizes()
    np.testing.assert_allclose(area / area.max(), studies["weight_pct"] / studies["weight_pct"].max())
    lines = next(c for c in ax.collections if c.get_gid() == "study-ci")
    ends = np.array([seg[:, 0] for seg in lines.get_segments()])
    np.testing.assert_allclose(ends, 100 * studies[["ci_low", "ci_high"]].to_numpy())


def test_forest_selects_the_endpoint_and_time_point():
    p1, s1 = make_tables({"liver": 2}, endpoint="LC", t=24.0)
    p2, s2 = make_tables({"lung": 2}, endpoint="OS", t=12.0, seed=2)
    pooled, studies = pd.concat([p1, p2]), pd.concat([s1, s2])
    drawn = texts(draw_forest(pooled, studies, "OS", 12, level=0.95))
    assert "Lung" in drawn and "Liver" not in drawn
    assert "Overall survival at 12 months (%)" in drawn
    with pytest.raises(ValueError):
        draw_forest(pooled, studies, "OS", 24, level=0.95)


def test_funnel_draws_the_studies_on_the_logit_scale():
    pooled, studies = make_tables({"liver": 3, "lung": 12, "bone": 1})
    fig = funnel(pooled, studies, "LC", 24)
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    assert [ax.get_title() for ax in panels] == ["Liver (k = 3)", "Lung (k = 12)"]
    for ax, site in zip(panels, ["liver", "lung"]):
        rows = studies[studies["site"] == site]
        points = next(c for c in ax.collections if c.get_gid() == "studies").get_offsets()
        np.testing.assert_allclose(points[:, 0], rows["yi"])
        np.testing.assert_allclose(points[:, 1], np.sqrt(rows["vi"]))
        mu = np.log(
            pooled.set_index("site").loc[site, "estimate"] / (1 - pooled.set_index("site").loc[site, "estimate"])
        )
        pooled_line = next(ln for ln in ax.lines if ln.get_gid() == "pooled")
        np.testing.assert_allclose(pooled_line.get_xdata(), [mu, mu])
        # Contours: the region of p >= level around the pooled estimate is mu ± z(level/2)·se.
        for p, z in ((0.10, 1.6448536), (0.05, 1.959964), (0.01, 2.5758293)):
            region = next(c for c in ax.collections if c.get_gid() == f"contour:{p:g}")
            xy = np.concatenate([path.vertices for path in region.get_paths()])
            se = xy[:, 1]
            np.testing.assert_allclose(np.abs(xy[:, 0] - mu), z * se, rtol=1e-6, atol=1e-12)
        assert ax.yaxis_inverted()
        for tick, label in zip(ax.get_xticks(), ax.get_xticklabels()):
            p = float(label.get_text().rstrip("%")) / 100
            assert tick == pytest.approx(np.log(p / (1 - p)))
    drawn = texts(fig)
    assert not any(SMALL_K_NOTE in t for t in drawn)  # no test below 10 studies, so no underpowered one
    assert sum("k < 10: no regression test" in t for t in drawn) == 1  # liver only: lung has k = 12


def test_funnel_without_a_pooled_site_says_so():
    pooled, studies = make_tables({"bone": 1})
    fig = funnel(pooled, studies, "LC", 24)
    assert any("no cell has two or more studies" in t for t in texts(fig))


# -- layout: no text overlaps, from 1 to 60 studies --------------------------------------------


@pytest.mark.parametrize(
    "sizes", [{"liver": 1}, {"liver": 2}, {"liver": 10}, {"lung": 60}, {"liver": 4, "lung": 1, "brain": 7}]
)
def test_forest_text_never_overlaps(sizes):
    pooled, studies = make_tables(sizes)
    fig = draw_forest(pooled, studies, "LC", 24, level=0.95)
    fig.canvas.draw()
    found = visible_texts(fig)
    boxes = [t.get_window_extent() for t in found]
    clashes = [(found[i].get_text(), found[j].get_text()) for i, j in overlapping(boxes)]
    assert not clashes
    # The table text stays out of the plot area and inside the figure.
    plot = fig.axes[0].get_window_extent()
    figure = fig.bbox
    for t in fig.texts:
        box = t.get_window_extent()
        assert not overlapping([box, plot]), t.get_text()
        assert figure.x0 <= box.x0 and box.x1 <= figure.x1 and figure.y0 <= box.y0 and box.y1 <= figure.y1


def test_forest_height_grows_with_the_rows():
    heights = [draw_forest(*make_tables({"lung": k}), "LC", 24, level=0.95).get_figheight() for k in (1, 10, 60)]
    assert heights[0] < heights[1] < heights[2]


@pytest.mark.parametrize("n_sites", [1, 2, 5])
def test_funnel_text_never_overlaps(n_sites):
    sizes = {f"site {i}": 3 + 4 * i for i in range(n_sites)}
    pooled, studies = make_tables(sizes)
    fig = funnel(pooled, studies, "LC", 24)
    fig.canvas.draw()
    found = visible_texts(fig)
    boxes = [t.get_window_extent() for t in found]
    assert not [(found[i].get_text(), found[j].get_text()) for i, j in overlapping(boxes)]


# -- saving ------------------------------------------------------------------------------------


@pytest.mark.slow  # seconds of CPU: make test-fast runs it, -m 'not slow' leaves it out
def test_save_figure_is_byte_identical(tmp_path):
    pooled, studies = make_tables({"liver": 3, "lung": 1})
    outputs = []
    for run in ("a", "b"):
        paths = [str(tmp_path / run / f"forest.{ext}") for ext in ("png", "pdf", "svg")]
        fig = draw_forest(pooled, studies, "LC", 24, level=0.95)
        save_figure(fig, paths, dpi=150)
        outputs.append([open(p, "rb").read() for p in paths])
    (png_a, pdf_a, svg_a), (png_b, pdf_b, svg_b) = outputs
    assert png_a.startswith(b"\x89PNG") and pdf_a.startswith(b"%PDF") and b"<svg" in svg_a
    assert png_a == png_b
    assert pdf_a == pdf_b
    assert svg_a == svg_b
    assert b"CreationDate" not in pdf_a and b"<dc:date>" not in svg_a


def test_save_figure_rejects_an_unknown_extension(tmp_path):
    fig = funnel(*make_tables({"liver": 2}), "LC", 24)
    with pytest.raises(ValueError):
        save_figure(fig, [str(tmp_path / "funnel.jpg")], dpi=100)


# -- forest: order, size bound, subgroup test ------------------------------------------------


def _study_rows_drawn(fig):
    """Study labels in the order drawn (top to bottom)."""
    ax = fig.axes[0]
    squares = next(c for c in ax.collections if c.get_gid() == "study-estimate")
    return squares.get_offsets()[:, 0] / 100, squares.get_offsets()[:, 1]


@pytest.mark.parametrize("order", ["table", "year", "estimate", "n", "author"])
def test_forest_sorts_studies_within_a_site(order):
    pooled, studies = make_tables({"lung": 8})
    studies["year"] = [2011, np.nan, 2009, 2015, 2009, 2020, np.nan, 2012]
    fig = draw_forest(pooled, studies, "LC", 24, sort=order, level=0.95)
    est, _ = _study_rows_drawn(fig)
    expected = {
        "table": studies,
        "year": studies.sort_values("year", kind="stable", na_position="last"),
        "estimate": studies.sort_values("estimate", kind="stable"),
        "n": studies.sort_values("n", ascending=False, kind="stable"),
        "author": studies.assign(k=studies["label"].str.casefold()).sort_values("k", kind="stable"),
    }[order]
    np.testing.assert_allclose(est, expected["estimate"])
    # The text rows follow the same order.
    labels = [t.get_text() for t in fig.texts if t.get_text() in set(studies["label"])]
    assert labels == list(expected["label"])


def test_forest_rejects_an_unknown_sort():
    with pytest.raises(ValueError, match="figures.forest.sort"):
        draw_forest(*make_tables({"lung": 3}), "LC", 24, sort="size", level=0.95)


def test_forest_above_max_studies_draws_only_pooled_rows():
    pooled, studies = make_tables({"lung": 150, "liver": 30, "adrenal": 1})
    fig = draw_forest(pooled, studies, "LC", 24, max_studies=100, level=0.95)
    drawn = texts(fig)
    studies["label"] = studies["site"] + " " + studies["label"]
    fig = draw_forest(pooled, studies, "LC", 24, max_studies=100, level=0.95)
    drawn = texts(fig)
    assert not any(s.label in drawn for s in studies[studies["site"] != "adrenal"].itertuples())
    adrenal = studies[studies["site"] == "adrenal"].iloc[0]
    assert adrenal.label in drawn  # a one-study site still shows its study
    assert any("results/tables/pooled_studies.csv" in t for t in drawn)
    assert "Random-effects model (k = 150)" in drawn and "Random-effects model (k = 30)" in drawn
    assert fig.get_figheight() < 6  # bounded, whatever the number of studies
    ax = fig.axes[0]
    for c in pooled[pooled["k"] >= 2].itertuples():
        diamond = next(p for p in ax.patches if p.get_gid() == f"pooled:{c.site}")
        np.testing.assert_allclose(
            sorted(set(np.round(diamond.get_xy()[:, 0], 9))),
            np.round(100 * np.array([c.ci_low, c.estimate, c.ci_high]), 9),
        )


def test_forest_prints_the_subgroup_test_of_the_table():
    pooled, studies = make_tables({"liver": 3, "lung": 5})
    subgroups = pd.DataFrame(
        [
            dict(
                histology="colorectal",
                endpoint="LC",
                timepoint_months=24.0,
                sites="liver; lung",
                k=8,
                test="F",
                qm=0.0824857,
                df1=1,
                df2=6,
                p=0.78342,
                tau2=0.4,
            ),
            dict(
                histology="colorectal",
                endpoint="OS",
                timepoint_months=24.0,
                sites="liver; lung",
                k=8,
                test="F",
                qm=9.9,
                df1=1,
                df2=6,
                p=0.01,
                tau2=0.4,
            ),
        ]
    )
    drawn = texts(draw_forest(pooled, studies, "LC", 24, subgroups=subgroups, level=0.95))
    assert "Test for subgroup differences between sites: F(1, 6) = 0.08, p = .783" in drawn
    chi = subgroups.assign(test="chi2", df2=np.nan)
    drawn = texts(draw_forest(pooled, studies, "LC", 24, subgroups=chi, level=0.95))
    assert "Test for subgroup differences between sites: χ²(1) = 0.08, p = .783" in drawn
    drawn = texts(draw_forest(pooled, studies, "LC", 24, subgroups=subgroups.iloc[1:], level=0.95))
    assert "Test for subgroup differences between sites: not tested (no more studies than sites)" in drawn


# -- funnel: Egger's test and trim and fill are the package's -----------------------------------


def test_funnel_draws_egger_and_trim_and_fill_of_the_package():
    from sbrtmeta.stats.small_study import regtest, trimfill

    pooled, studies = make_tables({"lung": 14}, seed=7)
    # An asymmetric funnel: the smaller the study, the higher its estimate.
    vi = np.linspace(0.01, 0.5, 14)
    studies["vi"] = vi
    studies["yi"] = 1.0 + 2.2 * np.sqrt(vi) + np.tile([0.05, -0.05], 7)
    fig = funnel(pooled, studies, "LC", 24)
    ax = next(a for a in fig.axes if a.axison)
    y, v = studies["yi"].to_numpy(), studies["vi"].to_numpy()
    eg = regtest(y, v, model="rma", predictor="sei", tau2_method="REML", ci_method="knha")
    line = next(ln for ln in ax.lines if ln.get_gid() == "egger")
    x, se = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    np.testing.assert_allclose(x, eg.fit.coef[0] + eg.fit.coef[1] * se)
    tf = trimfill(y, v, tau2_method="REML", estimator="L0")
    assert tf.k0 > 0
    filled = next(c for c in ax.collections if c.get_gid() == "filled").get_offsets()
    np.testing.assert_allclose(filled[:, 0], tf.yi[tf.filled])
    np.testing.assert_allclose(filled[:, 1], np.sqrt(tf.vi[tf.filled]))
    open_points = next(c for c in ax.collections if c.get_gid() == "filled")
    np.testing.assert_allclose(open_points.get_facecolors()[:, :3], 1.0)  # open: white inside
    drawn = texts(fig)
    assert any(f"Egger: t({eg.df}) = {eg.zval:.2f}" in t for t in drawn)
    assert any(f"Trim and fill: {tf.k0} imputed ({tf.side})" in t for t in drawn)
    assert not any(SMALL_K_NOTE in t for t in drawn)  # k = 14


def test_funnel_panels_and_tests_from_min_studies():
    """A panel from min_studies.plot studies (3), the regression test from min_studies.test (10; Sterne et al.
    2011); configured lower, a two-study panel runs no test and a tested panel below ten says it is underpowered."""
    assert funnel_panels(*make_tables({"liver": 2}), "LC", 24).panels.empty
    fig = funnel(*make_tables({"liver": 2}), "LC", 24, min_studies={"plot": 2})
    ax = next(a for a in fig.axes if a.axison)
    assert not any(ln.get_gid() == "egger" for ln in ax.lines)
    assert any("k < 3: no test" in t for t in texts(fig))
    nine = funnel_panels(*make_tables({"liver": 9}), "LC", 24).panels.iloc[0]
    assert np.isnan(nine.egger_p) and "k < 10: no regression test" in nine.note and nine.k0 is not None
    fig = funnel(*make_tables({"liver": 9}), "LC", 24, min_studies={"test": 3})
    assert any(SMALL_K_NOTE in t for t in texts(fig))


def test_funnel_draws_the_imputed_studies_at_the_size_of_the_study_they_mirror():
    from sbrtmeta.stats.small_study import trimfill

    pooled, studies = make_tables({"lung": 14}, seed=7)
    vi = np.linspace(0.01, 0.5, 14)
    studies["vi"] = vi
    studies["yi"] = 1.0 + 2.2 * np.sqrt(vi) + np.tile([0.05, -0.05], 7)
    fig = funnel(pooled, studies, "LC", 24, axis="sample_size", predictor="ninv")
    ax = next(a for a in fig.axes if a.axison)
    tf = trimfill(studies["yi"].to_numpy(), vi, tau2_method="REML", estimator="L0")
    filled = next(c for c in ax.collections if c.get_gid() == "filled").get_offsets()
    np.testing.assert_allclose(filled[:, 0], tf.yi[tf.filled])
    np.testing.assert_allclose(filled[:, 1], studies["n"].to_numpy(float)[tf.mirrors])
    np.testing.assert_allclose(tf.vi[tf.filled], vi[tf.mirrors])  # the reflection of that study
    assert "Imputed (trim and fill)" in texts(fig)


def test_funnel_with_thousands_of_studies_draws_every_study():
    # its drawing time is in `make bench` (bench/speed_checks.py)
    pooled, studies = make_tables({"lung": 3000}, seed=3)
    fig = funnel(pooled, studies, "LC", 24)
    fig.canvas.draw()
    ax = next(a for a in fig.axes if a.axison)
    points = next(c for c in ax.collections if c.get_gid() == "studies").get_offsets()
    assert len(points) == 3000
    assert any(ln.get_gid() == "egger" for ln in ax.lines)  # Egger's test is cheap at any k
    assert any("trim and fill: not run (k > 2000)" in t for t in texts(fig))


def test_funnel_tests_fall_back_to_reml_and_say_so():
    from sbrtmeta.analysis.small_study import funnel_tests
    from sbrtmeta.stats.small_study import regtest

    pooled, studies = make_tables({"lung": 12})
    t = funnel_tests(studies["yi"], studies["vi"], "PM", "knha")
    assert t.tau2_method == "REML" and "tests with REML τ²" in t.note
    eg = regtest(studies["yi"], studies["vi"], tau2_method="REML", ci_method="knha")
    assert t.egger_stat == pytest.approx(eg.zval) and t.egger_p == pytest.approx(eg.pval)
    assert funnel_tests(studies["yi"], studies["vi"], "REML", "knha", max_trimfill=5).k0 is None


# -- every configured format, byte-identical twice -------------------------------------------


def _draw_each_kind():
    from sbrtmeta.analysis.leave_one_out import leave_one_out_table
    from sbrtmeta.analysis.selection import flow_counts
    from sbrtmeta.plots.flow_diagram import draw_flow
    from sbrtmeta.plots.leave_one_out import draw_leave_one_out

    pooled, studies = make_tables({"liver": 4, "lung": 6, "adrenal": 1})
    included = studies.assign(study_id=studies["study_id"])[["study_id", "site", "endpoint"]]
    excluded = pd.DataFrame(
        dict(
            study_id=["x-1", "x-2", "x-3"],
            site=["lung"] * 3,
            endpoint=["LC"] * 3,
            criterion=["min_n", "basis", "basis"],
        )
    )
    return {
        "forest": lambda: draw_forest(pooled, studies, "LC", 24, level=0.95),
        "funnel": lambda: funnel(pooled, studies, "LC", 24),
        "leave_one_out": lambda: draw_leave_one_out(leave_one_out_table(pooled, studies, "lung"), "lung", level=0.95),
        "flow": lambda: draw_flow(flow_counts(included, excluded)),
    }


@pytest.mark.slow  # seconds of CPU: make test-fast runs it, -m 'not slow' leaves it out
@pytest.mark.parametrize("kind", ["forest", "funnel", "leave_one_out", "flow"])
def test_every_format_is_written_and_identical_twice(tmp_path, kind):
    draw = _draw_each_kind()[kind]
    runs = []
    for run in ("a", "b"):
        paths = [str(tmp_path / run / f"{kind}.{ext}") for ext in ("png", "pdf", "svg")]
        save_figure(draw(), paths, dpi=100)
        runs.append([open(p, "rb").read() for p in paths])
    (png_a, pdf_a, svg_a), (png_b, pdf_b, svg_b) = runs
    assert png_a.startswith(b"\x89PNG") and pdf_a.startswith(b"%PDF") and b"<svg" in svg_a
    assert png_a == png_b and pdf_a == pdf_b and svg_a == svg_b
    assert b"CreationDate" not in pdf_a and b"<dc:date>" not in svg_a


def test_only_cells_with_a_pooled_row_get_forest_and_funnel_plots(tmp_path):
    """A configured endpoint × time point with nothing pooled (OS here, and LC at 12 months)
    gets no figure; the cells of pooled.csv get one each, LC before OS, times ascending (a funnel plot
    only where a cell has min_studies.plot = 3 studies)."""
    from sbrtmeta.data.cells import pooled_cells
    from sbrtmeta.plots.forest import forest_figures
    from sbrtmeta.plots.style import save_figures
    from sbrtmeta.steps.funnel_plots import funnel_plots

    p24, s24 = make_tables({"lung": 3, "liver": 2}, t=24.0)
    p36, s36 = make_tables({"lung": 2}, t=36.0, seed=2)
    pooled, studies = pd.concat([p36, p24], ignore_index=True), pd.concat([s36, s24], ignore_index=True)
    assert pooled_cells(pooled, ["OS", "LC"]) == [("LC", 24.0), ("LC", 36.0)]
    forest = save_figures(
        forest_figures(pooled, studies, ["LC", "OS"], level=0.95), str(tmp_path / "forest"), ["png", "svg"], 50
    )
    funnel = save_figures(funnel_plots(pooled, studies, ["LC", "OS"]), str(tmp_path / "funnel"), ["png"], 50)
    assert [p.rpartition("/")[2] for p in forest] == [
        "forest_LC_24m.png",
        "forest_LC_24m.svg",
        "forest_LC_36m.png",
        "forest_LC_36m.svg",
    ]
    assert [p.rpartition("/")[2] for p in funnel] == ["funnel_LC_24m.png"]  # LC 36: k = 2, no placeholder
    assert sorted(x.name for x in (tmp_path / "forest").iterdir()) == sorted(p.rpartition("/")[2] for p in forest)
    empty = save_figures(
        forest_figures(pooled.iloc[0:0], studies.iloc[0:0], ["LC"], level=0.95), str(tmp_path / "none"), ["png"]
    )
    assert empty == [] and (tmp_path / "none").is_dir()


# -- risk of bias per item (figures.forest.risk_of_bias_items), as meta's rob() draws it -------


def _with_items(studies: pd.DataFrame, items: bool) -> pd.DataFrame:
    """``studies`` with an invented MINORS table: study i scores (i mod 3) on every item it is assessed on;
    the last study has no row (not assessed)."""
    from sbrtmeta.data.risk_of_bias import TOOLS, with_risk_of_bias

    tool = TOOLS["MINORS"]
    ids = list(studies["study_id"])[:-1]
    table = pd.DataFrame(
        [
            dict(study_id=s, tool="MINORS", overall="not assessed", **dict.fromkeys(tool.columns, str(i % 3)))
            for i, s in enumerate(ids)
        ]
    )
    table.loc[0, "clearly_stated_aim"] = "not reported"
    return with_risk_of_bias(studies, table, items)


@pytest.mark.parametrize("sizes", [{"liver": 2}, {"liver": 4, "lung": 6, "adrenal": 1}])
def test_forest_draws_a_column_per_risk_of_bias_item_when_asked(sizes):
    """Off (the default): only the overall column, as before. On: D1-D8 then RoB, one circle per study and
    item in the level of the study's score (MINORS: 2 low, 1 some concerns, 0 high; 'not reported' ?; a study
    without a row blank), the items named in the footnote; no text overlaps and nothing leaves the figure."""
    pooled, studies = make_tables(sizes)
    plain = draw_forest(pooled, _with_items(studies, False), "LC", 24, level=0.95)
    assert not [t for t in texts(plain) if t.startswith("D1–D8")]
    assert not [t for t in plain.texts if str(t.get_gid()).startswith("rob0:")]
    fig = draw_forest(pooled, _with_items(studies, True), "LC", 24, level=0.95)
    headers = [t.get_text() for t in fig.texts if t.get_text() in {f"D{i}" for i in range(1, 9)} | {"RoB"}]
    assert headers == [*(f"D{i}" for i in range(1, 9)), "RoB"]
    marks = [str(t.get_gid()) for t in fig.texts if str(t.get_gid()).startswith("rob")]
    k = len(studies)
    assert len(marks) == 9 * k
    level = {0: "high", 1: "some concerns", 2: "low"}
    expected = {f"rob{j}:{level[i % 3]}" for i in range(1, k - 1) for j in range(8)}
    assert expected <= set(marks) and "rob0:not reported" in marks and "rob7:not assessed" in marks
    assert any(
        "D1 a clearly stated aim" in t and "D8 prospective calculation of the study size" in t for t in texts(fig)
    )
    # the item columns sit right of the weights, in order, each mark under its header
    x = {t.get_text(): t.get_position()[0] for t in fig.texts if t.get_text() in headers}
    assert [x[h] for h in headers] == sorted(x[h] for h in headers)
    fig.canvas.draw()
    found = visible_texts(fig)
    clashes = [
        (found[i].get_text(), found[j].get_text()) for i, j in overlapping([t.get_window_extent() for t in found])
    ]
    assert not clashes
    for t in fig.texts:
        box = t.get_window_extent()
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1, t.get_text()
