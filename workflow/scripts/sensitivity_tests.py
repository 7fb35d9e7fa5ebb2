"""Snakemake script: pooled studies and dose-response arms → sensitivity_tests.csv and
heterogeneity_by_site.csv (:func:`sbrtmeta.steps.sensitivity_tests.sensitivity_tests`)."""

from sbrtmeta.steps.runner import read_result, run_step, write_table
from sbrtmeta.steps.sensitivity_tests import sensitivity_tests


def main(log):
    sm = snakemake  # noqa: F821
    out = sensitivity_tests(
        read_result(sm.input.studies),
        read_result(sm.input.arms),
        read_result(sm.input.dose),
        sm.params.pooling,
        sm.params.dose,
        sm.params.sensitivity,
        log,
    )
    write_table(out.tests, sm.output.tests)
    write_table(out.heterogeneity, sm.output.heterogeneity)


run_step("sensitivity_tests", snakemake.log[0], main)  # noqa: F821
