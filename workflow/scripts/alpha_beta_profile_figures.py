"""Snakemake script: the α/β profile tables → their figure in results/figures/alpha_beta_profile/
(:func:`sbrtmeta.steps.alpha_beta_profile_figures.alpha_beta_profile_figures`)."""

from sbrtmeta.plots.style import save_figures
from sbrtmeta.steps.alpha_beta_profile_figures import alpha_beta_profile_figures
from sbrtmeta.steps.runner import read_result, run_step


def main(log):
    sm = snakemake  # noqa: F821
    figure = alpha_beta_profile_figures(read_result(sm.input.table), read_result(sm.input.points), sm.params.time)
    save_figures([("alpha_beta_profile", figure)], sm.output.figures, sm.params.formats, dpi=sm.params.dpi)


run_step("alpha_beta_profile_figures", snakemake.log[0], main)  # noqa: F821
