"""Snakemake script: pooled tables → cumulative.csv and baujat.csv
(:func:`sbrtmeta.steps.sensitivity.sensitivity`; rule sensitivity_figures draws them)."""

from sbrtmeta.steps.runner import read_result, run_step, write_table
from sbrtmeta.steps.sensitivity import sensitivity


def main(log):
    sm = snakemake  # noqa: F821
    pooled, studies, included = (read_result(p) for p in (sm.input.pooled, sm.input.studies, sm.input.included))
    t = sensitivity(pooled, studies, included, sm.params.sensitivity, sm.params.level)
    write_table(t.cumulative, sm.output.cumulative)
    write_table(t.baujat, sm.output.baujat)
    log.info("cumulative: %d rows, Baujat: %d rows", len(t.cumulative), len(t.baujat))


run_step("sensitivity", snakemake.log[0], main)  # noqa: F821
