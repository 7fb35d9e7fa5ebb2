"""The HTML report's pages (issue 23 item 2): summary.md, methods.md and the PRISMA checklist as HTML, the main
tables with the CSV's cells as printed, and the landing page's answer (workflow/report/workflow.rst includes it).
In-process; the shipped run's pages are read from the session's run (marked workflow)."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from project_copy import ROOT
from sbrtmeta.report.html import answer_fragment, answer_markdown, markdown_page, table_page
from sbrtmeta.steps.report_html import TABLES, report_html

SUMMARY = """# Title

> **Synthetic data.** Invented.

## Answer

| Site | Rate |
|---|---|
| Lung | 86% |

- Lung: LC at 24 months 86% (77–92).

## Sites

Text <script>alert(1)</script>.

![Forest plot: local control at 24 months](../figures/forest/forest_LC_24m.png)
"""


class _Cells(HTMLParser):
    """The text of every table cell, row by row."""

    def __init__(self):
        super().__init__()
        self.rows, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.rows[-1].append(self._cell)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _cells(html: str) -> list[list[str]]:
    parser = _Cells()
    parser.feed(html)
    return parser.rows


def test_markdown_is_rendered_with_its_tables_and_figures_named():
    html = markdown_page(SUMMARY, "Summary")
    assert html.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in html
    assert _cells(html) == [["Site", "Rate"], ["Lung", "86%"]]
    assert "<blockquote>" in html and "<h2>Sites</h2>" in html
    assert "<script>" not in html  # raw HTML in the Markdown is escaped
    assert "<img" not in html and "Forest plot: local control at 24 months: in this report under its kind" in html
    assert "results/figures/forest/forest_LC_24m.png" in html


def test_the_answer_is_summary_md_up_to_its_second_section():
    answer = answer_markdown(SUMMARY)
    assert answer.startswith("# Title") and "## Answer" in answer and "Lung: LC at 24 months" in answer
    assert "## Sites" not in answer
    fragment = answer_fragment(SUMMARY)
    assert fragment.startswith("<style>") and 'class="sbrt-answer"' in fragment and "<html" not in fragment
    assert "Synthetic data." in fragment


def test_a_table_page_prints_every_cell_as_the_csv(tmp_path):
    path = tmp_path / "pooled.csv"
    path.write_text("site,estimate,ci_low,note\nlung,0.8600000000000001,1e-05,a <b> & c\n", encoding="utf-8")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows = _cells(table_page(frame, "Pooled estimates", "One row per cell."))
    assert rows == [["site", "estimate", "ci_low", "note"], ["lung", "0.8600000000000001", "1e-05", "a <b> & c"]]


def test_report_html_makes_every_page():
    frame = pd.DataFrame({"a": ["1"]})
    pages = report_html(SUMMARY, "# Methods\n", "# PRISMA\n", {name: frame for name in TABLES})
    assert set(pages) == {"summary", "methods", "prisma_checklist", "answer", *(f"tables/{n}" for n in TABLES)}


def test_the_rule_shows_every_table_the_step_has_a_title_for():
    rules = (ROOT / "workflow/rules/report.smk").read_text(encoding="utf-8")
    listed = re.search(r"HTML_TABLES = \[(.*?)\]", rules, flags=re.S).group(1)
    assert re.findall(r'"(\w+)"', listed) == list(TABLES)


def test_the_landing_page_includes_the_answer_the_rule_writes():
    rst = (ROOT / "workflow/report/workflow.rst").read_text(encoding="utf-8")
    included = re.search(r"\.\. raw:: html\n\s+:file: (\S+)", rst).group(1)
    rules = (ROOT / "workflow/rules/report.smk").read_text(encoding="utf-8")
    assert f'answer="{included}"' in rules
    assert 'report: "workflow/report/workflow.rst"' in (ROOT / "Snakefile").read_text(encoding="utf-8")


@pytest.mark.workflow
def test_shipped_run_shows_summary_and_tables_as_html(shipped_run):
    results = shipped_run.work / "results"
    html = (results / "report/html/summary.html").read_text(encoding="utf-8")
    assert html.count("<table>") == (results / "report/summary.md").read_text(encoding="utf-8").count("\n|---")
    pooled = pd.read_csv(results / "tables/pooled.csv", dtype=str, keep_default_na=False)
    rows = _cells((results / "report/html/tables/pooled.html").read_text(encoding="utf-8"))
    assert rows == [list(pooled.columns), *pooled.values.tolist()]
    assert Path(results / "report/html/answer.html").read_text(encoding="utf-8").count("<table>") == 1
