"""One label per study (issue 22 item 3): every table names a study with data.study_labels."""

import pandas as pd
from sbrtmeta.data.study_labels import label_rows, study_label, study_names

ROWS = pd.DataFrame(
    dict(
        study_id=["crc2014-86", "crc2014-86", "crc2014-99", "x-1"],
        ref=["86", "86", "99", "7"],
        first_author=[None, "Kim", "Casamassima", ""],
        year=[None, 2009.0, 2012.0, None],
        arm=["all", "all", "all", "high dose"],
    )
)


def test_a_row_without_an_author_takes_its_study_name():
    assert label_rows(ROWS) == ["Kim 2009 [86]", "Kim 2009 [86]", "Casamassima 2012 [99]", "Ref. [7] (high dose)"]
    assert study_names(ROWS).loc["crc2014-86", "first_author"] == "Kim"
    assert study_label("Kim", "2009", "86") == "Kim 2009 [86]"


def test_risk_of_bias_and_pooling_name_a_study_alike():
    from sbrtmeta.analysis.pooling import pool_cells
    from sbrtmeta.data.risk_of_bias import risk_of_bias_table

    rob = risk_of_bias_table(ROWS.iloc[:3], None, "MINORS")
    assert rob["label"].tolist() == ["Kim 2009 [86]", "Casamassima 2012 [99]"]
    included = ROWS.iloc[:2].assign(
        site="lymph node", endpoint="OS", target_timepoint_months=12.0, primary="crc", events=[6, 7], n=[7, 7]
    )
    included = included.assign(rate=included["events"] / included["n"], histology="colorectal")
    _, studies = pool_cells(included.iloc[[0]], histology="row")
    assert studies["label"].tolist() == ["Ref. [86]"]  # alone, the review row has no name to take
    _, studies = pool_cells(pd.concat([included.iloc[[0]], included.iloc[[1]].assign(site="liver")]), histology="row")
    assert studies["label"].tolist() == ["Kim 2009 [86]", "Kim 2009 [86]"]
