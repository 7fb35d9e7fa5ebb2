"""The headline table and sentences (report/headline.py): the tables' numbers, the certainty's ⊕ symbols
of the summary of findings, the participants' unit from the included rows."""

import re

import pandas as pd
import pytest
from sbrtmeta.report.certainty_section import SYMBOLS
from sbrtmeta.report.formats import apa_p_values
from sbrtmeta.report.headline import (
    headline_header,
    headline_lines,
    headline_sentences,
    headline_table,
    participant_units,
)
from sbrtmeta.report.summary import summary_markdown
from test_report_summary import pooled, selection, subgroups


def sof():
    rows = pooled()[["site", "histology", "endpoint", "timepoint_months"]]
    return rows.assign(certainty=["very low", "low"], provisional=["True", "False"])


def units():
    studies = pd.DataFrame(
        dict(
            site=["liver", "liver", "adrenal"],
            histology="colorectal",
            endpoint=["LC", "LC", "OS"],
            timepoint_months=[24.0, 24.0, 12.0],
            study_id=["a", "b", "c"],
            arm="all",
        )
    )
    included = pd.DataFrame(
        dict(
            study_id=["a", "b", "c", "c"],
            arm="all",
            site=["liver", "liver", "adrenal", "adrenal"],
            endpoint=["LC", "LC", "OS", "OS"],
            target_timepoint_months=[24.0, 24.0, 12.0, 24.0],
            n_basis=["lesions", "patients", "patients", "lesions"],
        )
    )
    return participant_units(studies, included)


def test_units_are_the_cells_rows_bases():
    assert units() == {
        ("liver", "colorectal", "LC", 24.0): "lesions or patients",
        ("adrenal", "colorectal", "OS", 12.0): "patients",
    }
    assert participant_units(None, None) == {}


def test_headline_table_has_one_row_per_cell_with_the_tables_numbers():
    table = headline_table(pooled(), sof(), units(), sites=["liver", "adrenal"])
    assert list(table.columns) == headline_header(0.95)
    assert table.values.tolist() == [
        [
            "Liver",
            "colorectal",
            "Local control at 24 months",
            "3",
            "170 lesions or patients",
            "87.2 (50.6–97.9)",
            "19.5–99.5",
            "69",
            f"{SYMBOLS['very low']} very low (provisional)",
        ],
        [
            "Adrenal",
            "colorectal",
            "Overall survival at 12 months",
            "1",
            "48 patients",
            "39.6 (26.9–53.9)",
            "",
            "",
            f"{SYMBOLS['low']} low",
        ],
    ]
    # without a configured order: by site name
    assert headline_table(pooled())["Site"].tolist() == ["Adrenal", "Liver"]


def test_one_sentence_per_pooled_rate():
    assert headline_sentences(pooled(), sof(), units()) == [
        "Liver, colorectal: LC at 24 months 87% (51–98), 3 studies, 170 lesions or patients; "
        "certainty very low (provisional)."
    ]
    wide = pooled().assign(ci_low=0.004, ci_high=0.9991)
    assert "87.2% (0.4–99.9)" in headline_sentences(wide)[0]


def test_summary_opens_with_the_headline_table():
    included, excluded, not_pooled = selection()
    md = summary_markdown(pooled(), subgroups(), included, excluded, not_pooled, units=units(), level=0.95)
    lines = md.splitlines()
    first_table = next(i for i, line in enumerate(lines) if line.startswith("|"))
    assert first_table < 30
    assert lines[first_table] == "| " + " | ".join(headline_header(0.95)) + " |"
    assert "Rate, % (90% CI)" in headline_table(pooled(), level=0.9).columns
    assert "- Liver, colorectal: LC at 24 months 87% (51–98)" in md
    assert headline_lines(pooled().iloc[:0]) == []


def test_synthetic_studies_are_said_in_summary_and_methods():
    from sbrtmeta.report.headline import synthetic_note
    from sbrtmeta.report.methods import methods_markdown
    from test_certainty import CONFIG

    rows = pd.DataFrame(dict(study_id=["ex-01", "ex-01", "b"], source=["SYNTHETIC EXAMPLE (invented)"] * 2 + ["T1"]))
    note = synthetic_note(rows)
    assert note.startswith("**Synthetic data.** 1 of the 2 included studies is marked synthetic")
    assert synthetic_note(rows.iloc[:2]).startswith("**Synthetic data.** The included study is marked")
    assert synthetic_note(rows.iloc[2:]) is None and synthetic_note(None) is None
    included, excluded, not_pooled = selection()
    md = summary_markdown(pooled(), subgroups(), included.assign(source="synthetic"), excluded, level=0.95)
    assert md.splitlines()[4].startswith("**Synthetic data.** All 4 included studies")
    files = ["config/config.yaml", "config/examples/config.yaml"]
    text = methods_markdown(CONFIG, {"Python": "3.x"}, config_files=files, note=note)
    assert text.splitlines()[2] == note
    assert "(config/config.yaml and config/examples/config.yaml, the later taking precedence)." in text
    assert "configuration this run used (config/config.yaml)." in methods_markdown(
        CONFIG, {"Python": "3.x"}, config_files=files[:1]
    )


def test_reasons_print_p_values_in_apa_style():
    reason = "the regression test on ninv (regtest) p = 0.062 (< 0.1); BED slope 0.123, p = 0.000; p = 1.000"
    assert apa_p_values(reason) == (
        "the regression test on ninv (regtest) p = .062 (< 0.1); BED slope 0.123, p < .001; p > .999"
    )
    assert apa_p_values("exact p = .5, n = 10.2") == "exact p = .5, n = 10.2"


@pytest.mark.workflow
def test_shipped_summary_opens_with_the_answer_in_plain_numbers_and_lists_every_figure(shipped_run):
    """The shipped run's summary.md: its first table, within 30 lines, is the headline table; no number in
    scientific notation; every figure the run made (PNG) is linked, the survival curves included."""
    results = shipped_run.work / "results"
    md = (results / "report/summary.md").read_text(encoding="utf-8")
    lines = md.splitlines()
    first_table = next(i for i, line in enumerate(lines) if line.startswith("|"))
    assert first_table < 30 and lines[first_table] == "| " + " | ".join(headline_header(0.95)) + " |"
    assert not re.findall(r"\d[eE][+-]?\d", md)
    assert not re.findall(r"\bp = [01]\.\d", md)  # p-values in APA style, the footnotes' reasons too
    figures = {p.relative_to(results).as_posix() for p in (results / "figures").rglob("*.png")}
    assert any(f.startswith("figures/curves/") for f in figures)
    assert {f for f in figures if f"](../{f})" not in md} == set()
