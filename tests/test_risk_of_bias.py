"""The risk-of-bias sheet (data/risk_of_bias.py), its figures and the shipped sheet's rules."""

import pandas as pd
import pytest
import yaml
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


def test_max_risk_of_bias_leaves_out_higher_and_unassessed_studies():
    from sbrtmeta.data.inclusion import apply_inclusion

    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    criteria = dict(config["inclusion"], max_risk_of_bias="some concerns", overlaps=[])
    tidy = pd.DataFrame(
        dict(
            study_id=["a", "b", "c", "d"],
            review="crc2014",
            site="liver",
            endpoint="LC",
            design="retrospective",
            primary="crc",
            rate=0.8,
            basis="actuarial",
            timepoint_months=24.0,
            n=pd.array([10] * 4, dtype="Int64"),
            events=pd.array([8] * 4, dtype="Int64"),
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
    rob = {"a": "low", "b": "some concerns", "c": "high"}  # d: no row
    included, excluded = apply_inclusion(tidy, criteria, rob)
    assert list(included["study_id"]) == ["a", "b"]
    assert list(excluded["criterion"]) == ["risk_of_bias"] * 2
    assert list(excluded["detail"]) == [
        "overall risk of bias 'high' is above max_risk_of_bias 'some concerns'",
        "risk of bias not assessed (max_risk_of_bias 'some concerns' needs an overall judgement)",
    ]
    assert len(apply_inclusion(tidy, dict(criteria, max_risk_of_bias=None), rob)[0]) == 4
