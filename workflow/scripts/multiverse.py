"""Snakemake script: the multiverse shards → multiverse.csv, multiverse_summary.csv,
multiverse_choices.csv and a specification curve per pooled cell in
results/figures/specification_curve/ (:func:`sbrtmeta.steps.multiverse.multiverse`)."""

from sbrtmeta.plots.style import save_figures
from sbrtmeta.steps.multiverse import multiverse
from sbrtmeta.steps.runner import read_result, run_step, write_table


def main(log):
    sm = snakemake  # noqa: F821
    parts = [read_result(p) for p in sm.input.parts]
    tables, figures = multiverse(parts, read_result(sm.input.pooled), sm.params.margin)
    write_table(tables.table, sm.output.table)
    write_table(tables.summary, sm.output.summary)
    write_table(tables.choices, sm.output.choices)
    written = save_figures(figures, sm.output.figures, sm.params.formats, dpi=sm.params.dpi)
    log.info(
        "multiverse: %d specifications, %d rows; wrote %d figure files",
        tables.table["spec"].nunique(),
        len(tables.table),
        len(written),
    )


run_step("multiverse", snakemake.log[0], main)  # noqa: F821
