"""The risk-of-bias sheet (data/risk_of_bias.py), its figures and the shipped sheet's rules."""

import pandas as pd
import pytest
import yaml
from matplotlib.lines import Line2D
from project_copy import ROOT
from rob_rules import shipped_items
from sbrtmeta.data.errors import InputErrors
from sbrtmeta.data.risk_of_bias import NOT_ASSESSED, TOOLS, read_risk_of_bias, risk_of_bias_table
from sbrtmeta.plots.risk_of_bias import risk_of_bias_figures
from sbrtmeta.steps.apply_inclusion import apply_inclusion
from sbrtmeta.steps.clean_extraction import clean_extraction

OUTCOMES = pd.DataFrame(
    {
        "study_id": ["a", "a", "b", "c"],
        "first_author": ["Ann", "Ann", "Bo", None],
        "year": [2010, 2010, None, 2015],
        "ref": ["1", "1", "2", "3"],
    }
)
HEADER = "study_id," + ",".join(TOOLS["MINORS"].columns) + ",overall,source"


def _sheet(tmp_path, *rows, header=HEADER):
    path = tmp_path / "rob.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return str(path)


def test_a_good_sheet_and_a_study_without_a_row(tmp_path):
    path = _sheet(tmp_path, "a,2,2,0,2,1,2,2,0,low,my reading", "b,2,1,not reported,2,1,1,not assessed,2,high,x")
    sheet = read_risk_of_bias(path, "MINORS", OUTCOMES["study_id"])
    table = risk_of_bias_table(OUTCOMES, sheet, "MINORS", path)
    assert list(table["study_id"]) == ["a", "b", "c"]
    assert list(table["label"]) == ["Ann 2010 [1]", "Bo [2]", "Ref. 2015 [3]"]
    assert list(table["overall"]) == ["low", "high", NOT_ASSESSED]
    c = table.iloc[2]
    assert not c["assessed"] and set(c[list(TOOLS["MINORS"].columns)]) == {NOT_ASSESSED}
    assert "no row in the risk-of-bias sheet" in c["note"] and path in c["note"]
    none = risk_of_bias_table(OUTCOMES, None, "MINORS")
    assert set(none["overall"]) == {NOT_ASSESSED} and "data.risk_of_bias" in none["note"].iloc[0]


def test_bad_score_unknown_and_duplicate_study_are_one_line_each(tmp_path):
    path = _sheet(
        tmp_path,
        "a,2,2,3,2,1,2,2,0,low,s",  # bad score (row 2)
        "zz,2,2,0,2,1,2,2,0,low,s",  # unknown study (row 3)
        "a,2,2,0,2,1,2,2,0,low,s",  # duplicate study (row 4)
        "b,2,2,0,2,1,2,2,0,moderate,s",  # bad overall (row 5)
    )
    with pytest.raises(InputErrors) as exc:
        read_risk_of_bias(path, "MINORS", OUTCOMES["study_id"])
    lines = str(exc.value).splitlines()
    assert len(lines) == 4, lines
    assert lines[0].startswith(f"{path}, row 2, column 'prospective_collection', value '3': must be one of")
    assert lines[1].startswith(f"{path}, row 3, column 'study_id', value 'zz': is not a study of the data")
    assert any(
        line.startswith(f"{path}, row 4, column 'study_id', value 'a': repeats an earlier row") for line in lines
    )
    assert any(line.startswith(f"{path}, row 5, column 'overall', value 'moderate'") for line in lines)


def test_a_jbi_sheet(tmp_path):
    header = "study_id," + ",".join(TOOLS["JBI"].columns) + ",overall,source,note"
    values = "yes,no,unclear,not applicable,yes,yes,not reported,yes,yes,not assessed"
    path = _sheet(tmp_path, f"b,{values},some concerns,s,n", header=header)
    table = risk_of_bias_table(OUTCOMES, read_risk_of_bias(path, "JBI", OUTCOMES["study_id"]), "JBI", path)
    assert table.loc[1, "consecutive_inclusion"] == "not applicable"
    with pytest.raises(InputErrors, match="column 'clear_inclusion_criteria', value '2'"):
        read_risk_of_bias(_sheet(tmp_path, f"b,2,{values[4:]},low,s,n", header=header), "JBI", ["b"])
    stems = [stem for stem, fig in risk_of_bias_figures(table, "JBI")]
    assert stems == ["risk_of_bias_traffic_light", "risk_of_bias_summary"]


def test_traffic_light_draws_one_circle_per_study_and_item():
    sheet = pd.DataFrame(
        [dict(study_id="a", **dict.fromkeys(TOOLS["MINORS"].columns, "2"), overall="low", source="s", note="")]
    )
    table = risk_of_bias_table(OUTCOMES, sheet, "MINORS", "rob.csv")
    light, bars = (fig for _, fig in risk_of_bias_figures(table, "MINORS"))
    circles = [line.get_gid() for line in light.axes[0].lines if str(line.get_gid()).startswith("rob:")]
    assert len(circles) == 3 * 9  # 3 studies × (8 items + overall)
    assert circles[0] == "rob:a:0:low" and circles[-1] == f"rob:c:8:{NOT_ASSESSED}"
    assert len(bars.axes[0].patches) == 9 * 2  # per item: low (a) and not assessed (b, c)

    # the legend draws each level as the cells do: the same symbol marker, size and colour (issue 22 item 6)
    def glyphs(lines):
        return {
            (ln.get_marker(), ln.get_markersize(), ln.get_color()) for ln in lines if str(ln.get_marker())[0] == "$"
        }

    drawn = glyphs(line for line in light.axes[0].lines if "rob-symbol:" in str(line.get_gid()))
    assert drawn and drawn <= glyphs(light.legends[0].findobj(Line2D))


def test_the_shipped_sheet_follows_its_two_rules():
    """data/raw/risk_of_bias.csv: items 3 and 6 from the design and median follow-up, all else not assessed."""
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    data = config["data"]
    tidy = clean_extraction(
        [str(ROOT / s) for s in data["sheets"]], str(ROOT / data["corrections"]), config["cleanup"], []
    )
    included, _ = apply_inclusion(tidy, config["inclusion"])
    expected = shipped_items(tidy, included)
    rob = data["risk_of_bias"]
    shipped = read_risk_of_bias(ROOT / rob["path"], rob["tool"], tidy["study_id"])
    pd.testing.assert_frame_equal(shipped, expected.astype(str))
    assert set(shipped["overall"]) == {NOT_ASSESSED}
    filled = shipped[list(TOOLS["MINORS"].columns)].drop(columns=["prospective_collection", "appropriate_follow_up"])
    assert set(filled.to_numpy().ravel()) == {NOT_ASSESSED}


def _tidy(ids):
    return pd.DataFrame(
        dict(
            study_id=ids,
            review="crc2014",
            site="liver",
            endpoint="LC",
            design="retrospective",
            primary="crc",
            rate=0.8,
            basis="actuarial",
            timepoint_months=24.0,
            n=pd.array([10] * len(ids), dtype="Int64"),
            events=pd.array([8] * len(ids), dtype="Int64"),
            arm="all",
            note="",
            first_author="x",
            year=2000,
            source_type="review",
            raw_file="f",
            raw_row=1,
            mfu_months=20.0,
        )
    )


def test_max_risk_of_bias_keeps_or_leaves_out_the_studies_not_assessed():
    from sbrtmeta.data.inclusion import apply_inclusion

    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    criteria = dict(config["inclusion"], max_risk_of_bias={"level": "some concerns"}, overlaps=[])
    tidy = _tidy(["a", "b", "c", "d"])
    rob = {"a": "low", "b": "some concerns", "c": "high"}  # d: no row, so not assessed
    # default not_assessed: keep — d is kept (not assessed is not high)
    included, excluded = apply_inclusion(tidy, criteria, rob)
    assert list(included["study_id"]) == ["a", "b", "d"]
    assert list(excluded["detail"]) == ["overall risk of bias 'high' is above max_risk_of_bias 'some concerns'"]
    criteria["max_risk_of_bias"]["not_assessed"] = "exclude"
    included, excluded = apply_inclusion(tidy, criteria, rob)
    assert list(included["study_id"]) == ["a", "b"]
    assert list(excluded["criterion"]) == ["risk_of_bias"] * 2
    assert excluded["detail"].iloc[1] == (
        "risk of bias not assessed (max_risk_of_bias 'some concerns' with not_assessed: exclude leaves it out)"
    )
    assert len(apply_inclusion(tidy, dict(criteria, max_risk_of_bias=None), rob)[0]) == 4


def test_a_risk_of_bias_filter_that_leaves_no_row_stops_in_one_line():
    """The shipped sheet: every overall judgement is not assessed, so {level: high, not_assessed: exclude}
    would leave out all rows; it stops with one line saying why. With keep (the default) all stay."""
    from sbrtmeta.data.errors import InputError
    from sbrtmeta.steps.apply_inclusion import apply_inclusion as inclusion_step

    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    tidy = _tidy(["a", "b"])
    rob = pd.DataFrame(dict(study_id=["a", "b"], overall=[NOT_ASSESSED] * 2))
    criteria = dict(config["inclusion"], max_risk_of_bias={"level": "high", "not_assessed": "exclude"}, overlaps=[])
    with pytest.raises(InputError) as exc:
        inclusion_step(tidy, criteria, risk_of_bias=rob)
    assert len(str(exc.value).splitlines()) == 1
    assert "leaves out 2 rows and no row is left to pool: 2 studies not assessed (not_assessed: exclude), 0 above" in (
        str(exc.value)
    )
    criteria["max_risk_of_bias"]["not_assessed"] = "keep"
    assert len(inclusion_step(tidy, criteria, risk_of_bias=rob)[0]) == 2


def _minors(*rows):
    """An invented MINORS table: each row is (study, 8 scores, overall)."""
    cols = TOOLS["MINORS"].columns
    return pd.DataFrame([dict(study_id=s, **dict(zip(cols, scores)), overall=o) for s, scores, o in rows])


RULE = {"low": 13, "some_concerns": 9}


def test_minors_total_and_the_overall_judgement_a_stated_rule_derives():
    """Hand-derived: a = 2·8 = 16 (low, ≥ 13); b = 2·4 + 1·4 = 12 (some concerns: 9 ≤ 12 < 13);
    c = 1·8 = 8 (high, < 9); d has 7 items scored, so no total and nothing derived; e is given 'low' by the
    sheet and its total 16 agrees."""
    from sbrtmeta.data.minors import with_totals

    table = _minors(
        ("a", ["2"] * 8, NOT_ASSESSED),
        ("b", ["2"] * 4 + ["1"] * 4, NOT_ASSESSED),
        ("c", ["1"] * 8, NOT_ASSESSED),
        ("d", ["2"] * 7 + ["not reported"], NOT_ASSESSED),
        ("e", ["2"] * 8, "low"),
    )
    plain = with_totals(table, None)
    assert plain["total"].tolist() == [16, 12, 8, pd.NA, 16] and plain["items_scored"].tolist() == [8, 8, 8, 7, 8]
    assert plain["overall"].tolist() == [NOT_ASSESSED] * 4 + ["low"]  # no rule: nothing derived
    out = with_totals(table, RULE)
    assert out["overall"].tolist() == ["low", "some concerns", "high", NOT_ASSESSED, "low"]
    assert out["overall_basis"].tolist() == [
        "derived: total 16 of 16",
        "derived: total 12 of 16",
        "derived: total 8 of 16",
        NOT_ASSESSED,
        "sheet",
    ]
    # exact boundaries: 13 is low, 12 is not; 9 is some concerns, 8 is not
    from sbrtmeta.data.minors import judgement_of_total

    assert [judgement_of_total(t, RULE) for t in (13, 12, 9, 8)] == ["low", "some concerns", "some concerns", "high"]


def test_a_sheet_judgement_that_contradicts_its_items_is_refused_or_warned():
    """All items 0 (total 0) with overall 'low': refused in one line naming the rule, or kept with a warning."""
    from sbrtmeta.data.minors import with_totals

    table = _minors(("z", ["0"] * 8, "low"))
    with pytest.raises(InputErrors) as exc:
        with_totals(table, RULE, "rob.csv")
    assert str(exc.value) == (
        "rob.csv, column 'overall', value 'z': overall 'low' contradicts its MINORS total 0 of 16, which is 'high' "
        "by the rule (config data.risk_of_bias.overall_from_total: MINORS total ≥ 13 of 16 low, ≥ 9 some concerns, "
        "below high)"
    )
    kept = with_totals(table, dict(RULE, contradiction="warn"), "rob.csv")
    assert kept["overall"].iloc[0] == "low" and kept["overall_basis"].iloc[0].startswith("sheet (warning: overall")


def test_item_6_is_judged_per_pooled_result_against_its_time_point():
    """MINORS item 6 per study of each pooled result (data.minors.follow_up_by_result), hand-derived on an
    invented pair of tables: study a (median follow-up 20 months) is pooled at 12 and 24 months, b (no median
    follow-up printed) at 24, c (24 months) at 24. a at 12: 20 ≥ 12 → 2; a at 24: 20 < 24 → 1 (the same study,
    another result's time point); b: not reported (nothing is judged the source does not print); c: 24 ≥ 24 →
    2 (at least as long counts). The sheet's own item 6 plays no part."""
    from sbrtmeta.data.minors import FOLLOW_UP_COLUMNS, follow_up_by_result, follow_up_counts

    cell = dict(site="lung", histology="colorectal", endpoint="LC")
    studies = pd.DataFrame(
        [
            dict(cell, timepoint_months=12.0, study_id="a", label="A 2001 [1]", arm="all", weight_pct=100.0),
            dict(cell, timepoint_months=24.0, study_id="a", label="A 2001 [1]", arm="all", weight_pct=30.0),
            dict(cell, timepoint_months=24.0, study_id="b", label="B 2002 [2]", arm="all", weight_pct=30.0),
            dict(cell, timepoint_months=24.0, study_id="c", label="C 2003 [3]", arm="all", weight_pct=40.0),
        ]
    )
    included = pd.DataFrame(
        [
            dict(site="lung", endpoint="LC", study_id=s, arm="all", target_timepoint_months=t, mfu_months=m)
            for s, t, m in [("a", 12.0, 20.0), ("a", 24.0, 20.0), ("b", 24.0, None), ("c", 24.0, 24.0)]
        ]
    )
    got = follow_up_by_result(studies, included)
    assert list(got.columns) == list(FOLLOW_UP_COLUMNS)
    assert list(got["appropriate_follow_up"]) == ["2", "1", "not reported", "2"]
    assert list(got["basis"]) == [
        "median follow-up 20 months ≥ 12 months",
        "median follow-up 20 months < 24 months",
        "median follow-up not printed; rate at 24 months",
        "median follow-up 24 months ≥ 24 months",
    ]
    assert follow_up_counts(got) == {"2": 2, "1": 1, "not reported": 1}
    assert follow_up_by_result(studies.iloc[:0], included).empty


def _shipped(tolerance: float = 0):
    """The shipped config, its tidy rows, and the included rows and pooled tables at ``tolerance_months``."""
    from sbrtmeta.analysis.pooling import PoolingOptions
    from sbrtmeta.steps.pool import pool
    from validated_config import validated

    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    data, inc = config["data"], config["inclusion"]
    tidy = clean_extraction(
        [str(ROOT / s) for s in data["sheets"]], str(ROOT / data["corrections"]), config["cleanup"], []
    )
    criteria = dict(inc, timepoints=dict(inc["timepoints"], tolerance_months=tolerance))
    included, excluded = apply_inclusion(tidy, criteria)
    tables = pool(included, excluded, PoolingOptions.from_config(validated(config)), inc["sites"], inc["endpoints"])
    return config, tidy, included, tables


@pytest.mark.parametrize("tolerance", [0, 4])
def test_item_6_per_pooled_result_in_the_shipped_data_and_methods(tolerance):
    """The shipped data in process: Katz's 20-month rates pool at 24 months under tolerance_months 4 and are
    judged against 24 months, not 20 (the sheet's rule read the longest time point of the shipped run), and
    methods.md counts what the run judged."""
    from sbrtmeta.data.minors import follow_up_by_result, follow_up_counts
    from sbrtmeta.report.methods import methods_markdown

    config, _, included, tables = _shipped(tolerance)
    got = follow_up_by_result(tables.studies, included)
    assert len(got) == len(tables.studies) and got["weight_pct"].tolist() == tables.studies["weight_pct"].tolist()
    # every score follows from the row's printed median follow-up and the result's own time point
    pairs = zip(got["mfu_months"], got["timepoint_months"])
    expected = ["not reported" if pd.isna(m) else "2" if m >= months else "1" for m, months in pairs]
    assert got["appropriate_follow_up"].tolist() == expected
    katz = got[got["study_id"] == "crc2014-52"]  # rates printed at 20 months, median follow-up 15
    if tolerance == 4:  # the sheet says not assessed (no rate pooled in the shipped run); the run judges it
        assert katz["timepoint_months"].tolist() == [24.0, 24.0]
        assert katz["basis"].tolist() == ["median follow-up 15 months < 24 months"] * 2
    else:
        assert katz.empty
        assert follow_up_counts(got) == {"2": 16, "1": 33, "not reported": 3}
        text = methods_markdown(config, {"Python": "3"}, follow_up=got)
        assert "Of 52 study results (results/tables/follow_up_by_result.csv), 16 score 2, 33 score 1 and 3" in text


def test_the_forest_steps_item_6_column_is_judged_against_each_plots_time_point():
    """With figures.forest.risk_of_bias_items, the forest step's D6 (MINORS item 6) is the per-result judgement
    (follow_up_by_result), not the sheet's: Casamassima 2012 (crc2014-99, median follow-up 16.2 months) is
    + at 12 months and − at 24, though the sheet scores it once (1, against 24 months)."""
    import matplotlib

    matplotlib.use("Agg")
    from sbrtmeta.steps.forest_plots import forest_plots
    from sbrtmeta.steps.risk_of_bias import risk_of_bias

    config, tidy, included, t = _shipped()
    data = config["data"]
    rob = risk_of_bias(tidy, dict(data["risk_of_bias"], path=str(ROOT / data["risk_of_bias"]["path"])))
    assert rob.set_index("study_id").loc["crc2014-99", "appropriate_follow_up"] == "1"
    options = dict(sort="year", max_studies=100, risk_of_bias_items=True)
    figures = dict(forest_plots(t.pooled, t.studies, included, rob, t.subgroups, ["LC"], options, 0.95))
    for stem, mark in (("forest_LC_12m", "rob5:low"), ("forest_LC_24m", "rob5:some concerns")):
        fig = figures[stem]
        first = next(x for x in fig.texts if x.get_text().startswith("Casamassima 2012"))
        row = [str(x.get_gid()) for x in fig.texts if x.get_gid() and x.get_position()[1] == first.get_position()[1]]
        assert mark in row, (stem, row)
        words = " ".join(" ".join(x.get_text() for x in fig.texts).split())  # the footnote is wrapped
        assert "D6 judged against this plot's time point from the median follow-up" in words


@pytest.mark.workflow
def test_the_run_writes_item_6_per_pooled_result(shipped_run):
    """The session's run of the shipped config (read only): the certainty job wrote follow_up_by_result.csv,
    and it is item 6 judged from that run's own pooled_studies.csv and included.csv; methods.md counts it."""
    from sbrtmeta.data.minors import follow_up_by_result, follow_up_counts
    from sbrtmeta.steps.runner import read_result

    tables = shipped_run.work / "results/tables"
    written = read_result(tables / "follow_up_by_result.csv")
    again = follow_up_by_result(read_result(tables / "pooled_studies.csv"), read_result(tables / "included.csv"))
    assert written[["study_id", "appropriate_follow_up", "basis"]].equals(
        again[["study_id", "appropriate_follow_up", "basis"]].astype(str)
    )
    n = follow_up_counts(written)
    methods = (shipped_run.work / "results/report/methods.md").read_text(encoding="utf-8")
    assert f"Of {len(written)} study results (results/tables/follow_up_by_result.csv), {n['2']} score 2" in methods
