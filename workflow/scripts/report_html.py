"""Snakemake script: the HTML report's pages from summary.md, methods.md, the PRISMA checklist and the main
tables (:func:`sbrtmeta.steps.report_html.report_html`)."""

from pathlib import Path

import pandas as pd
from sbrtmeta.steps.report_html import TABLES, report_html
from sbrtmeta.steps.runner import run_step


def main(log):
    sm = snakemake  # noqa: F821
    text = {
        name: Path(getattr(sm.input, name)).read_text(encoding="utf-8") for name in ("summary", "methods", "prisma")
    }
    # every cell as the CSV prints it
    tables = {name: pd.read_csv(getattr(sm.input, name), dtype=str, keep_default_na=False) for name in TABLES}
    pages = report_html(text["summary"], text["methods"], text["prisma"], tables)
    folder = Path(sm.output.tables)
    folder.mkdir(parents=True, exist_ok=True)
    for name, html in pages.items():
        out = (
            folder / f"{name.removeprefix('tables/')}.html"
            if name.startswith("tables/")
            else Path(getattr(sm.output, name))
        )
        out.write_text(html, encoding="utf-8")
    log.info("wrote %d pages of the HTML report in %s", len(pages), Path(sm.output.summary).parent)


run_step("report", snakemake.log[0], main)  # noqa: F821
