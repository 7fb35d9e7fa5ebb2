"""Snakemake script: tidy outcomes → the dose-response tables
(:func:`sbrtmeta.steps.dose_response.dose_response`); rule dose_response_figures draws them."""

from sbrtmeta.data.inclusion import read_outcomes
from sbrtmeta.steps.dose_response import dose_response
from sbrtmeta.steps.runner import read_overall, run_step, write_table


def main(log):
    sm = snakemake  # noqa: F821
    out = dose_response(
        read_outcomes(sm.input.outcomes),
        sm.params.dose,
        sm.params.inclusion,
        sm.params.histology,
        log,
        sm.params.curves,
        read_overall(sm.input.risk_of_bias),
    )
    for name in ("table", "arms", "left_out", "curves", "models"):
        write_table(getattr(out, name), sm.output[name])


run_step("dose_response", snakemake.log[0], main)  # noqa: F821
