"""Snakemake script: the curve tables → a figure per site × endpoint in results/figures/curves/
(:func:`sbrtmeta.steps.curve_figures.curve_figures`)."""

from sbrtmeta.plots.style import save_figures
from sbrtmeta.steps.curve_figures import curve_figures
from sbrtmeta.steps.runner import read_result, run_step


def main(log):
    sm = snakemake  # noqa: F821
    figures = curve_figures(read_result(sm.input.curves), read_result(sm.input.studies), read_result(sm.input.models))
    written = save_figures(figures, sm.output.folder, sm.params.formats, dpi=sm.params.dpi)
    log.info("wrote %d files in %s", len(written), sm.output.folder)


run_step("curve_figures", snakemake.log[0], main)  # noqa: F821
