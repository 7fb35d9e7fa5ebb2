"""Snakemake script: results/tables/risk_of_bias.csv → the traffic-light and summary plots in
results/figures/risk_of_bias/ (:func:`sbrtmeta.steps.risk_of_bias_figures.risk_of_bias_figures`)."""

from sbrtmeta.plots.style import save_figures
from sbrtmeta.steps.risk_of_bias_figures import risk_of_bias_figures
from sbrtmeta.steps.runner import read_result, run_step


def main(log):
    sm = snakemake  # noqa: F821
    figures = risk_of_bias_figures(read_result(sm.input.table), sm.params.max_studies)
    written = save_figures(figures, sm.output.folder, sm.params.formats, dpi=sm.params.dpi)
    log.info("wrote %s", ", ".join(written))


run_step("risk_of_bias_figures", snakemake.log[0], main)  # noqa: F821
