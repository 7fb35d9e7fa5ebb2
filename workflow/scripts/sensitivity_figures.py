"""Snakemake script: cumulative.csv and baujat.csv → their figures in results/figures/cumulative/ and
results/figures/baujat/ (:func:`sbrtmeta.steps.sensitivity_figures.sensitivity_figures`)."""

from sbrtmeta.plots.style import save_figures
from sbrtmeta.steps.runner import read_result, run_step
from sbrtmeta.steps.sensitivity_figures import sensitivity_figures


def main(log):
    sm = snakemake  # noqa: F821
    cumulative, baujat = read_result(sm.input.cumulative), read_result(sm.input.baujat)
    figures = sensitivity_figures(cumulative, baujat, sm.params.endpoints, sm.params.level)
    o = dict(formats=sm.params.formats, dpi=sm.params.dpi)
    n = len(save_figures(figures[0], sm.output.cumulative_figures, **o))
    n += len(save_figures(figures[1], sm.output.baujat_figures, **o))
    log.info("%d figure files", n)


run_step("sensitivity_figures", snakemake.log[0], main)  # noqa: F821
