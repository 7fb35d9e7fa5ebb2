"""The report_html step: summary.md, methods.md, the PRISMA checklist and the main result tables in; the HTML
report's pages out (:mod:`sbrtmeta.report.html`), so ``snakemake --report`` shows them inline."""

from __future__ import annotations

import pandas as pd

from sbrtmeta.report.html import answer_fragment, markdown_page, table_page

# the main tables (rule report_html's inputs): title and what a row is
TABLES = {
    "pooled": ("Pooled estimates", "One row per pooled site × histology × endpoint × time point (pooled.csv)."),
    "summary_of_findings": (
        "Summary of findings (GRADE)",
        "The certainty of every pooled result, each domain's judgement and reason (summary_of_findings.csv).",
    ),
    "pooled_studies": ("Studies of each pooled cell", "One row per study in each pooled cell (pooled_studies.csv)."),
    "not_pooled": ("Not pooled", "Cells with no rate to pool, and why (not_pooled.csv)."),
    "subgroup_tests": (
        "Tests for subgroup differences",
        "The test of the sites' difference per cell (subgroup_tests.csv).",
    ),
    "dose_response": ("Dose-response", "The dose-response fits per site and across sites (dose_response.csv)."),
    "included": ("Included rows", "Every row of the extraction that the inclusion criteria keep (included.csv)."),
    "excluded": ("Excluded rows", "Every row left out, with the criterion and its detail (excluded.csv)."),
}


def report_html(summary: str, methods: str, prisma: str, tables: dict[str, pd.DataFrame]) -> dict[str, str]:
    """The pages by name: ``summary``, ``methods``, ``prisma_checklist``, ``answer`` (the landing page's
    fragment) and ``tables/<name>`` for each of :data:`TABLES` in ``tables`` (read as text, so every cell is the
    CSV's)."""
    pages = {
        "summary": markdown_page(summary, "Summary of results"),
        "methods": markdown_page(methods, "Methods"),
        "prisma_checklist": markdown_page(prisma, "PRISMA 2020 checklist"),
        "answer": answer_fragment(summary),
    }
    for name, (title, note) in TABLES.items():
        if name in tables:
            pages[f"tables/{name}"] = table_page(tables[name], title, note)
    return pages
