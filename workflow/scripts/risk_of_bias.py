"""Snakemake script: outcomes + the risk-of-bias sheet → results/tables/risk_of_bias.csv
(:func:`sbrtmeta.steps.risk_of_bias.risk_of_bias`; rule risk_of_bias_figures draws it)."""

from sbrtmeta.data.inclusion import read_outcomes
from sbrtmeta.steps.risk_of_bias import risk_of_bias
from sbrtmeta.steps.runner import run_step, write_table


def main(log):
    sm = snakemake  # noqa: F821
    write_table(risk_of_bias(read_outcomes(sm.input.outcomes), sm.params.setting, log), sm.output.table)


run_step("risk_of_bias", snakemake.log[0], main)  # noqa: F821
