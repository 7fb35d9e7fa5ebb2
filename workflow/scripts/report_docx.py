"""Snakemake script: results/report/report.docx from the result tables, methods.md and the figures
(:func:`sbrtmeta.steps.report_docx.report_docx`)."""

from pathlib import Path

from sbrtmeta.steps.report_docx import report_docx
from sbrtmeta.steps.runner import read_result, run_step

TABLES = ("pooled", "pooled_studies", "included", "excluded", "sof")


def main(log):
    sm = snakemake  # noqa: F821
    tables = {name: read_result(getattr(sm.input, name)) for name in TABLES}
    out = Path(sm.output[0])
    out.parent.mkdir(parents=True, exist_ok=True)
    methods = Path(sm.input.methods).read_text(encoding="utf-8")
    report_docx(tables, methods, list(sm.input.figures), str(out), list(sm.params.sites), float(sm.params.level))
    log.info("wrote %s", out)


run_step("report", snakemake.log[0], main)  # noqa: F821
