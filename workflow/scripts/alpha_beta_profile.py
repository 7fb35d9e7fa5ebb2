"""Snakemake script: the dose-response arms → the α/β profile tables
(:func:`sbrtmeta.steps.alpha_beta_profile.alpha_beta_profile`); rule alpha_beta_profile_figures draws them."""

from sbrtmeta.steps.alpha_beta_profile import alpha_beta_profile
from sbrtmeta.steps.runner import read_result, run_step, write_table


def main(log):
    sm = snakemake  # noqa: F821
    out = alpha_beta_profile(read_result(sm.input.arms), sm.params.dose, log)
    write_table(out.table, sm.output.table)
    write_table(out.points, sm.output.points)


run_step("alpha_beta_profile", snakemake.log[0], main)  # noqa: F821
