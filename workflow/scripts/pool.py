"""Snakemake script: included rows → pooled.csv, pooled_studies.csv, not_pooled.csv, subgroup_tests.csv
(:func:`sbrtmeta.steps.pool.pool`)."""

from sbrtmeta.analysis.pooling import PoolingOptions
from sbrtmeta.steps.pool import pool
from sbrtmeta.steps.runner import read_result, run_step, write_table


def main(log):
    sm = snakemake  # noqa: F821
    included = read_result(sm.input.included)
    included["first_author"] = included["first_author"].fillna("")
    excluded = read_result(sm.input.excluded)
    options = PoolingOptions.from_config(sm.params.config)
    t = pool(included, excluded, options, sm.params.sites, sm.params.endpoints, log)
    write_table(t.pooled, sm.output.pooled)
    write_table(t.studies, sm.output.studies)
    write_table(t.not_pooled, sm.output.not_pooled)
    write_table(t.subgroups, sm.output.subgroups)


run_step("pool", snakemake.log[0], main)  # noqa: F821
