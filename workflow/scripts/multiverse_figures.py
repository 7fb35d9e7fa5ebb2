"""Snakemake script: multiverse.csv and multiverse_summary.csv → a specification curve per pooled
cell in results/figures/specification_curve/ (:func:`sbrtmeta.steps.multiverse_figures.multiverse_figures`)."""

from sbrtmeta.plots.style import save_figures
from sbrtmeta.steps.multiverse_figures import multiverse_figures
from sbrtmeta.steps.runner import read_result, run_step


def main(log):
    sm = snakemake  # noqa: F821
    figures = multiverse_figures(read_result(sm.input.table), read_result(sm.input.summary))
    written = save_figures(figures, sm.output.figures, sm.params.formats, dpi=sm.params.dpi)
    log.info("wrote %d specification-curve files in %s", len(written), sm.output.figures)


run_step("multiverse_figures", snakemake.log[0], main)  # noqa: F821
