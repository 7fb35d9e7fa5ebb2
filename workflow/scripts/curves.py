"""Snakemake script: tidy outcomes and pooled.csv → survival curves, their models and the studies'
rates (:func:`sbrtmeta.steps.curves.curves`); rule curve_figures draws them."""

from sbrtmeta.data.inclusion import read_outcomes
from sbrtmeta.steps.curves import curves
from sbrtmeta.steps.runner import read_overall, read_result, run_step, write_table


def main(log):
    sm = snakemake  # noqa: F821
    out = curves(
        read_outcomes(sm.input.outcomes),
        read_result(sm.input.pooled),
        sm.params.curves,
        sm.params.inclusion,
        sm.params.histology,
        log,
        read_overall(sm.input.risk_of_bias),
    )
    write_table(out.curves, sm.output.curves)
    write_table(out.models, sm.output.models)
    write_table(out.studies, sm.output.studies)


run_step("curves", snakemake.log[0], main)  # noqa: F821
