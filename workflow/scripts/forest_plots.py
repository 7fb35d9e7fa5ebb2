"""Snakemake script: pooled tables → a forest plot of every endpoint × time point with a pooled
cell, in results/figures/forest/ (:func:`sbrtmeta.plots.forest.forest_figures`)."""

from sbrtmeta.data.cells import with_years
from sbrtmeta.data.risk_of_bias import with_risk_of_bias
from sbrtmeta.plots.forest import forest_figures
from sbrtmeta.plots.style import save_figures
from sbrtmeta.report.step import read_result, run_step


def main(log):
    sm = snakemake  # noqa: F821
    pooled, subgroups = read_result(sm.input.pooled), read_result(sm.input.subgroups)
    studies = with_years(read_result(sm.input.studies), read_result(sm.input.included))
    studies = with_risk_of_bias(studies, read_result(sm.input.risk_of_bias))
    o = sm.params.options
    figures = forest_figures(pooled, studies, sm.params.endpoints, o["sort"], o["forest_max_studies"], subgroups)
    written = save_figures(figures, sm.output.folder, sm.params.formats, dpi=sm.params.dpi)
    log.info("wrote %d files in %s", len(written), sm.output.folder)


run_step("forest_plots", snakemake.log[0], main)  # noqa: F821
