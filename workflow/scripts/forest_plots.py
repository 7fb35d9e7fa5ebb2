"""Snakemake script: pooled tables → a forest plot of every endpoint × time point with a pooled
cell, in results/figures/forest/ (:func:`sbrtmeta.steps.forest_plots.forest_plots`)."""

from sbrtmeta.plots.style import save_figures
from sbrtmeta.steps.forest_plots import forest_plots
from sbrtmeta.steps.runner import read_result, run_step


def main(log):
    sm = snakemake  # noqa: F821
    tables = [read_result(getattr(sm.input, name)) for name in ("pooled", "studies", "included", "risk_of_bias")]
    figures = forest_plots(
        *tables, read_result(sm.input.subgroups), sm.params.endpoints, sm.params.options, sm.params.level
    )
    written = save_figures(figures, sm.output.folder, sm.params.formats, dpi=sm.params.dpi)
    log.info("wrote %d files in %s", len(written), sm.output.folder)


run_step("forest_plots", snakemake.log[0], main)  # noqa: F821
