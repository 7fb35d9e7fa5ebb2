"""The flow diagram counts the rows of included.csv and excluded.csv."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from sbrtmeta.analysis.selection import flow_counts  # noqa: E402
from sbrtmeta.plots.flow_diagram import draw_flow, flow_texts  # noqa: E402
from test_plots import overlapping  # noqa: E402


def tables():
    included = pd.DataFrame(
        dict(
            study_id=["a", "a", "b", "c", "c", "d"],
            site=["liver", "liver", "lung", "lung", "lung", "lymph node"],
            endpoint=["LC", "OS", "LC", "LC", "OS", "OS"],
        )
    )
    excluded = pd.DataFrame(
        dict(
            study_id=["a", "e", "e", "f", "g"],
            site=["liver", "lung", "lung", "spine", "lung"],
            endpoint=["LC", "LC", "OS", "LC", "OS"],
            criterion=["one_row_per_study", "basis", "n_not_reported", "basis", "some_new_rule"],
        )
    )
    return included, excluded


def test_counts():
    c = flow_counts(*tables())
    assert c["extracted"] == (11, 7)
    assert c["included"] == (6, 4)
    assert c["excluded"] == (5, 4)
    # In the order the criteria are applied; unknown criteria last.
    assert c["criteria"] == [("basis", 2), ("n_not_reported", 1), ("one_row_per_study", 1), ("some_new_rule", 1)]
    per = c["per_site"].set_index(["site", "endpoint"])
    assert per.loc[("lung", "LC"), "rows"] == 2 and per.loc[("lung", "LC"), "studies"] == 2
    assert per.loc[("liver", "OS"), "rows"] == 1
    assert sum(n for _, n in c["criteria"]) == c["excluded"][0]


def test_studies_are_counted_the_prisma_2020_way_and_the_boxes_add_up():
    """e, f and g have no included row: excluded studies, e under the later of its rows' criteria; a's
    excluded row is a row excluded from an included study."""
    c = flow_counts(*tables())
    assert c["studies_excluded"] == (4, 3) and c["studies_included"] == (7, 4) and c["rows_excluded_within"] == (1, 1)
    assert c["study_criteria"] == [("basis", 1), ("n_not_reported", 1), ("some_new_rule", 1)]
    assert c["within_criteria"] == [("one_row_per_study", 1)]
    for i in (0, 1):
        assert c["extracted"][i] == c["studies_excluded"][i] + c["studies_included"][i]
    assert c["studies_included"][0] == c["rows_excluded_within"][0] + c["included"][0]
    assert c["studies_included"][1] == c["included"][1]


def test_figure_shows_the_counts_without_overlap():
    c = flow_counts(*tables())
    fig = draw_flow(c)
    drawn = "\n".join(t.get_text() for t in fig.findobj(Text))
    assert "Studies in the extraction sheets: 7\n11 outcome rows" in drawn
    assert "Studies excluded: 3\n4 outcome rows" in drawn and "Studies included: 4\n7 outcome rows" in drawn
    assert "Included in the synthesis: 4 studies\n6 outcome rows" in drawn
    assert "rate basis not pooled (e.g. crude): 1" in drawn
    assert "some_new_rule: 1" in drawn
    assert "Lung: LC 2 (2), OS 1 (1)" in drawn
    assert "Lymph node: OS 1 (1)" in drawn
    fig.canvas.draw()
    boxes = [t.get_bbox_patch().get_window_extent() for t in fig.texts]
    assert not overlapping(boxes)
    for b in boxes:
        assert fig.bbox.x0 <= b.x0 and b.x1 <= fig.bbox.x1 and fig.bbox.y0 <= b.y0 and b.y1 <= fig.bbox.y1
    assert flow_texts(c)["excluded_within"].startswith("Rows excluded from 1 included study:\n1 outcome row,")


def test_nothing_included():
    included, excluded = tables()
    c = flow_counts(included.iloc[:0], excluded)
    assert c["included"] == (0, 0)
    assert "  none" in flow_texts(c)["sites"]
    nothing_out = flow_texts(flow_counts(included, excluded.iloc[:0]))
    assert nothing_out["excluded"] == "Studies excluded: 0\n0 outcome rows"
    assert nothing_out["excluded_within"] == "Rows excluded from 0 included studies:\n0 outcome rows"
    draw_flow(c)
