"""Snakemake script: pooled tables + risk of bias + dose-response → summary_of_findings.csv,
follow_up_by_result.csv, risk_of_bias_weighted.csv, methods.md and prisma_checklist.md
(:func:`sbrtmeta.steps.certainty.certainty`; rule certainty_figures draws risk_of_bias_weighted.csv)."""

from pathlib import Path

from sbrtmeta.steps.certainty import certainty
from sbrtmeta.steps.runner import read_result, run_step, write_table


def main(log):
    sm = snakemake  # noqa: F821
    tables = [read_result(getattr(sm.input, name)) for name in ("pooled", "studies", "risk_of_bias", "dose")]
    sof, follow_up, weighted, methods, prisma = certainty(
        *tables,
        sm.params.settings,
        log,
        sm.params.overrides_source,
        list(sm.params.config_files),
        read_result(sm.input.included),
    )
    write_table(sof, sm.output.table)
    write_table(follow_up, sm.output.follow_up)
    write_table(weighted, sm.output.weighted)
    Path(sm.output.methods).write_text(methods, encoding="utf-8")
    Path(sm.output.prisma).write_text(prisma, encoding="utf-8")


run_step("certainty", snakemake.log[0], main)  # noqa: F821
