"""Snakemake script: tidy outcomes → included.csv and excluded.csv
(:func:`sbrtmeta.steps.apply_inclusion.apply_inclusion`)."""

from sbrtmeta.data.inclusion import read_outcomes
from sbrtmeta.steps.apply_inclusion import apply_inclusion
from sbrtmeta.steps.runner import read_result, run_step, write_table


def main(log):
    sm = snakemake  # noqa: F821
    rob = read_result(sm.input.risk_of_bias[0]) if sm.input.risk_of_bias else None
    included, excluded = apply_inclusion(read_outcomes(sm.input.outcomes), sm.params.inclusion, log, rob)
    write_table(included, sm.output.included)
    write_table(excluded, sm.output.excluded)


run_step("apply_inclusion", snakemake.log[0], main)  # noqa: F821
