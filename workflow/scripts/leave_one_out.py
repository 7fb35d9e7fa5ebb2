"""Snakemake script: pooled tables → leave_one_out_<site>.csv
(:func:`sbrtmeta.steps.leave_one_out.leave_one_out`; rule leave_one_out_figures draws it)."""

from sbrtmeta.steps.leave_one_out import leave_one_out
from sbrtmeta.steps.runner import read_result, run_step, write_table


def main(log):
    sm = snakemake  # noqa: F821
    site = sm.wildcards.site.replace("_", " ")
    pooled, studies = read_result(sm.input.pooled), read_result(sm.input.studies)
    table = leave_one_out(pooled, studies, site, sm.params.max_studies, sm.params.level, sm.params.back_transform)
    write_table(table, sm.output.table)
    log.info("wrote %s", sm.output.table)


run_step("leave_one_out", snakemake.log[0], main)  # noqa: F821
