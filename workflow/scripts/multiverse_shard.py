"""Snakemake script: outcomes.csv → one shard of the multiverse's specifications, every cell pooled
(:func:`sbrtmeta.steps.multiverse_shard.multiverse_shard`)."""

from sbrtmeta.data.inclusion import read_outcomes
from sbrtmeta.steps.multiverse_shard import multiverse_shard
from sbrtmeta.steps.runner import read_overall, run_step, write_table


def main(log):
    sm = snakemake  # noqa: F821
    shard, shards, p = int(sm.wildcards.shard), sm.params.shards, sm.params
    part = multiverse_shard(
        read_outcomes(sm.input.outcomes),
        p.inclusion,
        p.pooling,
        p.multiverse,
        p.seed,
        shard,
        shards,
        log,
        read_overall(sm.input.risk_of_bias),
    )
    write_table(part, sm.output.part)


run_step("multiverse_shard", snakemake.log[0], main)  # noqa: F821
