"""Snakemake script: pooled tables → leave_one_out_<site>.csv and its figure
(:func:`sbrtmeta.steps.leave_one_out_plot.leave_one_out_plot`)."""

from sbrtmeta.plots.style import save_figure
from sbrtmeta.steps.leave_one_out_plot import leave_one_out_plot
from sbrtmeta.steps.runner import read_result, run_step, write_table


def main(log):
    sm = snakemake  # noqa: F821
    site = sm.wildcards.site.replace("_", " ")
    pooled, studies = read_result(sm.input.pooled), read_result(sm.input.studies)
    table, fig = leave_one_out_plot(
        pooled, studies, site, sm.params.max_studies, sm.params.level, sm.params.back_transform
    )
    write_table(table, sm.output.table)
    save_figure(fig, list(sm.output.figures), dpi=sm.params.dpi)
    log.info("wrote %s and %s", sm.output.table, ", ".join(sm.output.figures))


run_step("leave_one_out_plot", snakemake.log[0], main)  # noqa: F821
