"""Snakemake script: pooled tables + risk of bias + dose-response → summary_of_findings.csv,
methods.md and prisma_checklist.md (:func:`sbrtmeta.steps.certainty.certainty`)."""

from pathlib import Path

from sbrtmeta.steps.certainty import certainty
from sbrtmeta.steps.runner import read_result, run_step, write_table


def main(log):
    sm = snakemake  # noqa: F821
    tables = [read_result(getattr(sm.input, name)) for name in ("pooled", "studies", "risk_of_bias", "dose")]
    sof, methods, prisma = certainty(*tables, sm.params.settings, log)
    write_table(sof, sm.output.table)
    Path(sm.output.methods).write_text(methods, encoding="utf-8")
    Path(sm.output.prisma).write_text(prisma, encoding="utf-8")


run_step("certainty", snakemake.log[0], main)  # noqa: F821
