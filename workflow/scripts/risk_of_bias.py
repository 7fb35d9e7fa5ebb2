"""Snakemake script: outcomes + the risk-of-bias sheet → results/tables/risk_of_bias.csv and the
traffic-light and summary plots (:func:`sbrtmeta.steps.risk_of_bias.risk_of_bias`)."""

from pathlib import Path

from sbrtmeta.data.inclusion import read_outcomes
from sbrtmeta.plots.style import save_figures
from sbrtmeta.steps.risk_of_bias import risk_of_bias
from sbrtmeta.steps.runner import run_step, write_table


def main(log):
    sm = snakemake  # noqa: F821
    table, figures = risk_of_bias(read_outcomes(sm.input.outcomes), sm.params.setting, log, sm.params.max_studies)
    figures = list(figures)  # all drawn before anything is written
    write_table(table, sm.output.table)
    save_figures(figures, str(Path(sm.output.figures[0]).parent), sm.params.formats, dpi=sm.params.dpi)


run_step("risk_of_bias", snakemake.log[0], main)  # noqa: F821
