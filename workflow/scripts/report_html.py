"""Snakemake script: the HTML report's pages from summary.md, methods.md, the PRISMA checklist and the main
tables (:func:`sbrtmeta.steps.report_html.report_html`)."""

from pathlib import Path

import pandas as pd
from sbrtmeta.steps.report_html import report_html
from sbrtmeta.steps.runner import run_step


def main(log):
    sm = snakemake  # noqa: F821
    text = {
        name: Path(getattr(sm.input, name)).read_text(encoding="utf-8") for name in ("summary", "methods", "prisma")
    }
    # every cell as the CSV prints it; each table's page is the output of the same name
    tables = {Path(path).stem: pd.read_csv(path, dtype=str, keep_default_na=False) for path in sm.input.tables}
    pages = report_html(text["summary"], text["methods"], text["prisma"], tables)
    outputs = {f"tables/{Path(path).stem}": Path(path) for path in sm.output.tables}
    for name in ("summary", "methods", "prisma_checklist", "answer"):
        outputs[name] = Path(getattr(sm.output, name))
    for name, path in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(pages[name], encoding="utf-8")
    log.info("wrote %d pages of the HTML report in %s", len(pages), Path(sm.output.summary).parent)


run_step("report", snakemake.log[0], main)  # noqa: F821
