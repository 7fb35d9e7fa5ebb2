"""Snakemake script: pooled tables + risk of bias + dose-response → summary_of_findings.csv,
follow_up_by_result.csv, methods.md and prisma_checklist.md (:func:`sbrtmeta.steps.certainty.certainty`)."""

from pathlib import Path

from sbrtmeta.plots.style import save_figures
from sbrtmeta.steps.certainty import certainty, weighted_risk_of_bias_figures
from sbrtmeta.steps.runner import read_result, run_step, write_table


def main(log):
    sm = snakemake  # noqa: F821
    tables = [read_result(getattr(sm.input, name)) for name in ("pooled", "studies", "risk_of_bias", "dose")]
    sof, follow_up, methods, prisma = certainty(
        *tables,
        sm.params.settings,
        log,
        sm.params.overrides_source,
        list(sm.params.config_files),
        read_result(sm.input.included),
    )
    figures = list(weighted_risk_of_bias_figures(*tables[:3], sm.params.settings))  # all drawn before writing
    write_table(sof, sm.output.table)
    write_table(follow_up, sm.output.follow_up)
    Path(sm.output.methods).write_text(methods, encoding="utf-8")
    Path(sm.output.prisma).write_text(prisma, encoding="utf-8")
    save_figures(figures, str(Path(sm.output.figures[0]).parent), sm.params.formats, dpi=sm.params.dpi)


run_step("certainty", snakemake.log[0], main)  # noqa: F821
