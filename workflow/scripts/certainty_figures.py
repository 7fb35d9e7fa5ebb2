"""Snakemake script: results/tables/risk_of_bias_weighted.csv → the weighted risk-of-bias summary in
results/figures/risk_of_bias_weighted/ (:func:`sbrtmeta.steps.certainty_figures.certainty_figures`)."""

from sbrtmeta.plots.style import save_figures
from sbrtmeta.steps.certainty_figures import certainty_figures
from sbrtmeta.steps.runner import read_result, run_step


def main(log):
    sm = snakemake  # noqa: F821
    figures = certainty_figures(read_result(sm.input.weighted))
    written = save_figures(figures, sm.output.folder, sm.params.formats, dpi=sm.params.dpi)
    log.info("wrote %s", ", ".join(written))


run_step("certainty_figures", snakemake.log[0], main)  # noqa: F821
