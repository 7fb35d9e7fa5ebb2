"""Snakemake script: the multiverse shards → multiverse.csv, multiverse_summary.csv and
multiverse_choices.csv (:func:`sbrtmeta.steps.multiverse.multiverse`)."""

from sbrtmeta.steps.multiverse import multiverse
from sbrtmeta.steps.runner import read_result, run_step, write_table


def main(log):
    sm = snakemake  # noqa: F821
    parts = [read_result(p) for p in sm.input.parts]
    tables = multiverse(parts, read_result(sm.input.pooled), sm.params.margin)
    write_table(tables.table, sm.output.table)
    write_table(tables.summary, sm.output.summary)
    write_table(tables.choices, sm.output.choices)
    log.info("multiverse: %d specifications, %d rows", tables.table["spec"].nunique(), len(tables.table))


run_step("multiverse", snakemake.log[0], main)  # noqa: F821
