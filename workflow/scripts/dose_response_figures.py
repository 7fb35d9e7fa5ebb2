"""Snakemake script: the dose-response tables → the bubble plot in results/figures/dose_response/
(:func:`sbrtmeta.steps.dose_response_figures.dose_response_figures`)."""

from sbrtmeta.data.cells import cell_stem
from sbrtmeta.plots.style import save_figures
from sbrtmeta.steps.dose_response_figures import dose_response_figures
from sbrtmeta.steps.runner import read_result, run_step


def main(log):
    sm = snakemake  # noqa: F821
    tables = (read_result(sm.input[name]) for name in ("arms", "table", "curves", "models"))
    figure = dose_response_figures(*tables, sm.params.dose)
    stem = cell_stem("dose_response", sm.params.dose["endpoint"], sm.params.dose["timepoint_months"])
    save_figures([(stem, figure)], sm.output.figures, sm.params.formats, dpi=sm.params.dpi)


run_step("dose_response_figures", snakemake.log[0], main)  # noqa: F821
