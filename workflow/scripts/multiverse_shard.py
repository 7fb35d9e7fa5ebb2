"""Snakemake script: outcomes.csv → one shard of the multiverse's specifications, every cell pooled
(:func:`sbrtmeta.analysis.multiverse.multiverse_shard`)."""

from sbrtmeta.analysis.multiverse import multiverse_shard
from sbrtmeta.data.inclusion import read_outcomes
from sbrtmeta.report.step import run_step, write_table


def main(log):
    sm = snakemake  # noqa: F821
    shard, shards, p = int(sm.wildcards.shard), sm.params.shards, sm.params
    part = multiverse_shard(
        read_outcomes(sm.input.outcomes), p.inclusion, p.pooling, p.multiverse, p.seed, shard, shards
    )
    write_table(part, sm.output.part)
    log.info(
        "multiverse shard %d of %d: %d specifications, %d rows", shard + 1, shards, part["spec"].nunique(), len(part)
    )


run_step("multiverse_shard", snakemake.log[0], main)  # noqa: F821
