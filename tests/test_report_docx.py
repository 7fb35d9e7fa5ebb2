"""report.docx (report/word.py, report/study_lists.py, steps/report_docx.py): python-docx reads back tables
equal to the CSVs they come from. :func:`check_docx_against_tables` is also run on the shipped run
(tests/test_workflow.py)."""

from pathlib import Path

import docx
import numpy as np
import pandas as pd
import pytest
from sbrtmeta.report.study_lists import included_studies, study_exclusions
from sbrtmeta.report.word import DocxFigure, DocxTable, docx_figures, docx_tables, write_docx
from sbrtmeta.steps.report_docx import report_docx
from test_report_summary import pooled


def _pct(x) -> str:
    return f"{100 * float(x):.1f}"


def check_docx_against_tables(path: Path, tables: dict) -> None:
    """The docx's tables against the CSVs: the headline table is pooled.csv (k, n, rate and CI, PI, I²) with
    the certainty of summary_of_findings.csv, the summary of findings has one row per row of that CSV, the
    included studies are included.csv's studies with their reference numbers, and the exclusions count every
    row of excluded.csv."""
    headline, sof, studies, excluded = docx_tables(str(path))
    pooled = tables["pooled"]
    assert len(headline) == len(pooled)
    rows = headline.set_index(["Outcome", "Participants"], drop=False)
    for r in pooled.itertuples(index=False):
        outcome = {"LC": "Local control", "OS": "Overall survival"}[r.endpoint] + f" at {r.timepoint_months:g} months"
        mine = headline[
            (headline["Site"].str.lower() == r.site)
            & (headline["Histology"] == r.histology)
            & (headline["Outcome"] == outcome)
        ]
        assert len(mine) == 1, (r.site, r.histology, outcome)
        row = mine.iloc[0]
        assert row["k"] == str(r.k)
        assert row["Participants"].split()[0] == str(r.n_total)
        assert row.iloc[5] == f"{_pct(r.estimate)} ({_pct(r.ci_low)}–{_pct(r.ci_high)})"
        if r.k >= 2 and np.isfinite(r.pi_low):
            assert row.iloc[6] == f"{_pct(r.pi_low)}–{_pct(r.pi_high)}"
            assert row["I², %"] == f"{r.i2:.0f}"
    assert len(rows) == len(pooled)
    sof_csv = tables["sof"]
    assert len(sof) == len(sof_csv)
    words = headline["Certainty (GRADE)"].str.split().str[1:].str.join(" ")
    assert sorted(words.str.replace(" (provisional)", "")) == sorted(sof_csv["certainty"])
    included = tables["included"]
    assert len(studies) == included["study_id"].nunique()
    refs = included.drop_duplicates("study_id")["ref"].astype(str).tolist()
    assert studies["Reference number"].tolist() == refs
    assert excluded["Rows excluded"].astype(int).sum() == len(tables["excluded"])


def _tables():
    p = pooled()
    sof = p[["site", "histology", "endpoint", "timepoint_months"]].assign(certainty=["low", "very low"])
    included = pd.DataFrame(
        dict(
            study_id=["a", "b", "c", "d"],
            ref=[1, 2, 3, 99],
            first_author=["A", "B", "C", "Casamassima"],
            year=[2010, None, 2012, 2012],
            review="crc2014",
            source=["t1", "t1", "t2", "p"],
            arm="all",
            site=["liver"] * 3 + ["adrenal"],
            endpoint=["LC", "LC", "LC", "OS"],
            target_timepoint_months=[24.0, 24.0, 24.0, 12.0],
            n_basis=["lesions", "lesions", "lesions", "patients"],
        )
    )
    excluded = pd.DataFrame(
        dict(
            study_id=["e", "e", "b"],
            ref=[5, 5, 2],
            first_author=["E", "E", "B"],
            year=[2001, 2001, 2009],
            criterion=["n_not_reported", "n_not_reported", "timepoint"],
            detail=["arm sample size not printed"] * 2 + ["time point 18.0 months"],
        )
    )
    studies = pd.DataFrame(
        dict(
            site=["liver"] * 3 + ["adrenal"],
            histology="colorectal",
            endpoint=["LC", "LC", "LC", "OS"],
            timepoint_months=[24.0, 24.0, 24.0, 12.0],
            study_id=["a", "b", "c", "d"],
            arm="all",
        )
    )
    return dict(pooled=p, pooled_studies=studies, included=included, excluded=excluded, sof=sof)


def test_included_studies_name_author_year_review_reference_and_source():
    t = _tables()
    table = included_studies(t["included"], t["excluded"])
    assert table.values.tolist()[:2] == [
        ["A 2010 [1]", "A", "2010", "crc2014", "1", "t1"],
        ["B 2009 [2]", "B", "2009", "crc2014", "2", "t1"],  # the year its excluded row prints
    ]


def test_exclusions_are_counted_per_study_and_reason():
    t = _tables()
    assert study_exclusions(t["excluded"], t["included"]).values.tolist() == [
        ["E 2001 [5]", "2", "sample size not reported: arm sample size not printed"],
        ["B 2009 [2]", "1", "time point off the configured targets: time point 18.0 months"],
    ]


def test_docx_tables_equal_the_tables(tmp_path, monkeypatch):
    t = _tables()
    t["sof"] = t["sof"].assign(provisional=False)
    monkeypatch.setattr(
        "sbrtmeta.steps.report_docx.summary_of_findings_table",
        lambda sof, level: (sof[["site", "certainty"]], ["a. a footnote"]),
    )
    out = tmp_path / "report.docx"
    report_docx(t, "# Statistical methods\n\nSome **text** with `code`.\n\n- a list item\n", [], str(out), level=0.95)
    check_docx_against_tables(out, t)
    text = [p.text for p in docx.Document(str(out)).paragraphs]
    assert text.count("Statistical methods") == 1  # methods.md's title is the section's heading
    assert "Some text with code." in text and "a. a footnote" in text


def test_funnels_without_a_pooled_cell_are_named_not_shown():
    from sbrtmeta.report.word import without_empty_funnels

    figures = [
        ("Funnel plot: local control at 24 months", "results/figures/funnel/funnel_LC_24m.png"),
        ("Funnel plot: overall survival at 12 months", "results/figures/funnel/funnel_OS_12m.png"),
    ]
    kept, note = without_empty_funnels(figures, pooled())
    assert kept == figures[:1]
    assert note == ["No funnel plot for overall survival at 12 months: no cell there has two or more studies."]


def test_figures_are_embedded_with_captions(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    png = tmp_path / "forest_LC_24m.png"
    fig, _ = plt.subplots(figsize=(4, 12))  # tall: scaled to the page's height
    fig.savefig(png, dpi=50)
    plt.close(fig)
    figures = docx_figures([("Forest plot: local control at 24 months", str(png)), ("GOSH", "gosh_x.png")])
    assert [f.caption.split(".")[0] for f in figures] == ["Figure 1"]  # GOSH plots are not in the docx
    out = tmp_path / "f.docx"
    svg_only = DocxFigure("Figure 2. Funnel plot", None)
    write_docx(str(out), "T", [], [("Figures", [*figures, svg_only, DocxTable("", pd.DataFrame({"a": ["1"]}))])])
    document = docx.Document(str(out))
    assert len(document.inline_shapes) == 1 and document.inline_shapes[0].height <= docx.shared.Cm(14)
    captions = [p.text for p in document.paragraphs if p.text.startswith("Figure ")]
    assert captions[0].startswith("Figure 1. Forest plot: local control at 24 months. Each study's rate")
    assert "not embedded" in captions[1]


@pytest.mark.workflow
def test_shipped_report_docx_tables_equal_the_csvs(shipped_run):
    """results/report/report.docx of the shipped run opens with python-docx and its tables are the CSVs'."""
    from sbrtmeta.steps.runner import read_result

    tables = {
        key: read_result(shipped_run.work / f"results/tables/{name}.csv")
        for key, name in dict(
            pooled="pooled", included="included", excluded="excluded", sof="summary_of_findings"
        ).items()
    }
    check_docx_against_tables(shipped_run.work / "results/report/report.docx", tables)


def test_the_document_does_not_depend_on_the_time_of_the_run(tmp_path, monkeypatch):
    """The .docx is a zip whose entries python-docx stamps with the time of writing; report/word.py stamps them
    all 1980-01-01, so an hour later the same content gives the same bytes (a figure-only rerun can be compared)."""
    import time

    sections = [("Results", ["Local control **86 %**", DocxTable("t", pd.DataFrame({"a": [1]}))])]
    write_docx(str(tmp_path / "now.docx"), "Title", ["intro"], sections)
    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)
    write_docx(str(tmp_path / "later.docx"), "Title", ["intro"], sections)
    assert (tmp_path / "now.docx").read_bytes() == (tmp_path / "later.docx").read_bytes()
    assert docx_tables(str(tmp_path / "later.docx"))[0].columns.tolist() == ["a"]
